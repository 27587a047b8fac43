"""Identity over time: per brand and year, how well the model knows the brand and how far its look moved.

For each brand b and period t (a year, or a season and year) with at least `drift_min_looks` test looks:

- accuracy: share of b's looks from t that the model attributes to b (the brand's recall that year);
- drift: cosine distance between the centroid of b's L2-normalised embeddings from t and the centroid
  of all of b's looks (every period): 0 when the period looks like the brand overall, growing as it
  moves away. A brand whose years are identical has drift 0 in every year;
- a sampling baseline: the same distance for random subsets of b's looks of the same size. With a
  few test looks per year, the centroid of any subset sits away from the overall one; a period is
  `shifted` only when its drift exceeds the baseline's 95th percentile.

The thesis's example is Rick Owens FW15 vs SS16 vs SS20 (figures 1.4–1.6); the demo generator's
`--seasonal-drift` makes such a shift measurable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.brand.runfolder import RunData, frame_records, l2_normalise
from core.config import Settings
from core.contract import AnalyticsError

PERIODS = ("year", "season")


def period_labels(predictions: pd.DataFrame, by: str) -> pd.Series:
    """`year` ("2016") or `season` ("2016 SS"); empty where the dataset does not know it."""
    if by not in PERIODS:
        raise AnalyticsError(f"drift period must be one of {', '.join(PERIODS)} (got {by!r})")
    if "year" not in predictions.columns or predictions["year"].isna().all():
        raise AnalyticsError("this run's looks carry no year (predictions.csv or the dataset manifest): drift needs it")
    years = pd.to_numeric(predictions["year"], errors="coerce").astype("Int64").astype("string")
    if by == "year":
        return years
    if "season" not in predictions.columns or predictions["season"].isna().all():
        raise AnalyticsError("this run's looks carry no season: use --by year")
    return years + " " + predictions["season"].astype("string").str.strip()


def _cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    a, b = l2_normalise(a), l2_normalise(b)
    return float(np.clip(1.0 - a @ b, 0.0, 2.0))


def sampling_drift(unit: np.ndarray, size: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Drift of `draws` random subsets of `size` of the brand's looks (any period): sampling noise alone."""
    overall = l2_normalise(unit.mean(axis=0))
    picks = np.argsort(rng.random((draws, len(unit))), axis=1)[:, :size]  # subsets without replacement
    centroids = l2_normalise(unit[picks].mean(axis=1))
    return np.clip(1.0 - centroids @ overall, 0.0, 2.0)


def drift_table(
    brands: pd.Series,
    periods: pd.Series,
    correct: np.ndarray,
    embeddings: np.ndarray,
    min_looks: int = 2,
    null_draws: int = 200,
    seed: int = 42,
) -> pd.DataFrame:
    """One row per brand and period: looks, accuracy, drift (NaN below `min_looks` looks), and the
    drift that a random subset of the brand's looks of the same size shows (`null_mean`, `null_p95`):
    a small test set has drift from sampling alone, and only a drift above `null_p95` is a shift."""
    unit = l2_normalise(embeddings)
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"brand": brands.to_numpy(), "period": periods.to_numpy(), "correct": correct.astype(float)})
    frame = frame[frame["period"].notna()]
    rows = []
    for brand, of_brand in frame.groupby("brand", sort=True):
        looks = unit[of_brand.index]
        overall = looks.mean(axis=0)
        for period, of_period in of_brand.groupby("period", sort=True):
            row = {
                "brand": brand,
                "period": str(period),
                "looks": len(of_period),
                "accuracy": float(of_period["correct"].mean()),
                "drift": np.nan,
                "null_mean": np.nan,
                "null_p95": np.nan,
                "shifted": None,
            }
            if len(of_period) >= min_looks:
                row["drift"] = _cosine_distance(unit[of_period.index].mean(axis=0), overall)
                if len(of_period) < len(of_brand) and null_draws > 0:
                    null = sampling_drift(looks, len(of_period), null_draws, rng)
                    row["null_mean"], row["null_p95"] = float(null.mean()), float(np.percentile(null, 95))
                    row["shifted"] = bool(row["drift"] > row["null_p95"])
            rows.append(row)
    if not rows:
        raise AnalyticsError("no test look has a known year: drift needs the dataset's season/year")
    return pd.DataFrame(rows)


def brand_drift_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per brand: periods seen, largest drift and the period it happened in, accuracy range."""
    rows = []
    for brand, of_brand in table.groupby("brand", sort=True):
        measured = of_brand.dropna(subset=["drift"])
        peak = measured.loc[measured["drift"].idxmax()] if not measured.empty else None
        rows.append(
            {
                "brand": brand,
                "periods": int(len(of_brand)),
                "max_drift": float(peak["drift"]) if peak is not None else np.nan,
                "max_drift_period": peak["period"] if peak is not None else None,
                "mean_drift": float(measured["drift"].mean()) if not measured.empty else np.nan,
                "shifted_periods": int(of_brand["shifted"].eq(True).sum()),  # None = not tested
                "accuracy_min": float(of_brand["accuracy"].min()),
                "accuracy_max": float(of_brand["accuracy"].max()),
            }
        )
    return pd.DataFrame(rows)


def compute_for_run(run: RunData, settings: Settings, by: str = "year") -> dict:
    """The `drift` section of a run's brand_analytics.json."""
    if run.embeddings is None:
        raise AnalyticsError(f"{run.folder.embeddings} is missing: drift needs the embeddings")
    predictions = run.predictions.reset_index(drop=True)
    correct = (predictions["brand"] == predictions["predicted"]).to_numpy()
    cfg = settings.analytics
    table = drift_table(
        predictions["brand"],
        period_labels(predictions, by),
        correct,
        run.embeddings,
        min_looks=cfg.drift_min_looks,
        null_draws=cfg.drift_null_draws,
        seed=cfg.seed,
    )
    return {
        "period": by,
        "min_looks": cfg.drift_min_looks,
        "null_draws": cfg.drift_null_draws,
        "definition": "drift = cosine distance between the brand-period centroid and the brand's all-periods "
        "centroid of L2-normalised Dense-512 embeddings; null_p95 = 95th percentile of the same distance for random "
        "subsets of the brand's looks of the same size (sampling noise alone), shifted = drift above it; "
        "accuracy = share of the brand's looks of that period attributed to the brand",
        "table": frame_records(table),
        "summary": frame_records(brand_drift_summary(table)),
    }
