"""The distinctiveness index: one documented 0–100 number per brand, with its parts and 95% CIs.

Four measured parts, each in 0..1, weighted (INDEX_FORMULA is the text the app and report show):

- R, recall: how often the model names the brand's own looks correctly;
- F1: recall balanced with precision (a brand everything is labelled as is not distinctive);
- S, silhouette: scikit-learn's `silhouette_samples` on L2-normalised Dense-512 embeddings with cosine
  distance, averaged over the brand's looks, mapped from −1..1 to 0..1 as (S + 1)/2;
- M, margin: d / (d + r), d the cosine distance from the brand's centroid to the nearest other
  brand's centroid, r the brand's spread (mean cosine distance of its looks to their own centroid).

CIs come from a bootstrap stratified by true brand (each brand keeps its test size): every resample
recomputes the confusion matrix (so recall, precision, F1), the brand's mean of the per-look silhouette
values and the centroids, spread and margin, and so the index. The per-look silhouette values are
computed once on the full set (recomputing them on a resample would count a look's duplicates as
neighbours at distance 0 and inflate the score). A centroid distance is biased upward under resampling
(noise only ever separates two centroids), so each percentile interval is shifted by the bootstrap's
bias (mean of the resamples − the measured value) and clipped to the statistic's range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, silhouette_samples

from analysis.brand.runfolder import RunData, frame_records, l2_normalise
from core.config import Settings
from core.contract import AnalyticsError, reraise_as

# The definition of the index (not a tunable default: changing a weight changes what the number means).
INDEX_WEIGHTS = {"recall": 0.30, "f1": 0.30, "silhouette": 0.20, "margin": 0.20}

INDEX_FORMULA = (
    "Distinctiveness index = 100 × (0.30·R + 0.30·F1 + 0.20·(S + 1)/2 + 0.20·M), from 0 to 100.\n"
    "R = recall: share of the brand's test looks the model attributes to the brand.\n"
    "F1 = harmonic mean of the brand's precision and recall.\n"
    "S = silhouette: mean over the brand's looks of scikit-learn's silhouette_samples on the L2-normalised "
    "Dense-512 embeddings with cosine distance (−1 to 1; high when a look sits closer to its own brand than "
    "to the nearest other brand).\n"
    "M = margin d / (d + r): d = cosine distance from the brand's embedding centroid to the nearest other "
    "brand's centroid, r = mean cosine distance of the brand's looks to their own centroid (0 to 1; 0.5 when "
    "the nearest house is as far away as the brand's own looks are spread).\n"
    "Confidence intervals (95% unless configured): 2.5th and 97.5th percentiles over bootstrap resamples of the "
    "test looks (stratified by true brand), shifted by the bootstrap's bias so that they centre on the measured "
    "value."
)


def bootstrap_weights(labels: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(B, N) multiplicities of each look in each resample; every brand keeps its number of looks."""
    weights = np.zeros((resamples, len(labels)), dtype=np.float64)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        draws = rng.integers(0, len(members), size=(resamples, len(members)))
        offsets = (np.arange(resamples) * len(members))[:, None]
        counts = np.bincount((draws + offsets).ravel(), minlength=resamples * len(members))
        weights[:, members] = counts.reshape(resamples, len(members))
    return weights


def classification_parts(weights: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n_classes: int):
    """Per resample (rows of `weights`) and brand: recall, precision, F1 (0 where undefined, as sklearn)."""
    pair = np.zeros((len(y_true), n_classes * n_classes))
    pair[np.arange(len(y_true)), y_true * n_classes + y_pred] = 1.0
    confusion = (weights @ pair).reshape(-1, n_classes, n_classes)
    hits = np.diagonal(confusion, axis1=1, axis2=2)
    row, col = confusion.sum(axis=2), confusion.sum(axis=1)
    recall = np.divide(hits, row, out=np.zeros_like(hits), where=row > 0)
    precision = np.divide(hits, col, out=np.zeros_like(hits), where=col > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(hits), where=denominator > 0)
    return recall, precision, f1


def embedding_parts(weights: np.ndarray, unit: np.ndarray, labels: np.ndarray, silhouettes: np.ndarray, n_classes: int):
    """Per resample and brand: mean silhouette, spread r, nearest-centroid distance d and its brand, margin M.

    With unit-length looks e_i and centroid m, the mean cosine distance of the looks to the centroid's
    direction is 1 − |m|, so the spread needs no second pass.
    """
    resamples = weights.shape[0]
    silhouette = np.full((resamples, n_classes), np.nan)
    centroids = np.full((resamples, n_classes, unit.shape[1]), np.nan)
    for label in range(n_classes):
        members = np.flatnonzero(labels == label)
        if len(members) == 0:
            continue
        w = weights[:, members]
        silhouette[:, label] = w @ silhouettes[members] / len(members)
        centroids[:, label] = w @ unit[members] / len(members)
    lengths = np.linalg.norm(centroids, axis=2)
    spread = 1.0 - lengths
    directions = centroids / np.where(lengths > 0, lengths, np.nan)[..., None]
    distances = 1.0 - np.einsum("bcd,bkd->bck", directions, directions)
    distances[:, np.arange(n_classes), np.arange(n_classes)] = np.nan
    distances = np.where(np.isnan(distances), np.inf, distances)  # self and absent brands are never nearest
    nearest = distances.argmin(axis=2)
    nearest_distance = distances.min(axis=2)
    nearest = np.where(np.isinf(nearest_distance), -1, nearest)
    nearest_distance = np.where(np.isinf(nearest_distance), np.nan, nearest_distance)
    total = nearest_distance + spread
    margin = np.where(total > 0, nearest_distance / np.where(total > 0, total, 1), 0.0)
    margin = np.where(np.isnan(total), np.nan, margin)
    return silhouette, spread, nearest_distance, nearest, margin


def index_value(recall, f1, silhouette, margin):
    """The formula of INDEX_FORMULA, on scalars or arrays."""
    w = INDEX_WEIGHTS
    return 100.0 * (
        w["recall"] * recall + w["f1"] * f1 + w["silhouette"] * (np.asarray(silhouette) + 1.0) / 2.0 + w["margin"] * margin
    )


def most_confused(confusion: np.ndarray, class_names: list[str]) -> list[tuple[str | None, float]]:
    """For each true brand, the brand its looks are most often mistaken for and the share of its looks."""
    result = []
    for row_index, row in enumerate(confusion):
        errors = row.astype(float).copy()
        errors[row_index] = 0
        if row.sum() == 0 or errors.max() == 0:
            result.append((None, 0.0))
        else:
            k = int(errors.argmax())
            result.append((class_names[k], float(errors[k] / row.sum())))
    return result


def distinctiveness_table(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    embeddings: np.ndarray,
    class_names: list[str],
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 42,
) -> pd.DataFrame:
    """One row per brand: the index, its parts and their bootstrap CIs."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    n_classes = len(class_names)
    if len(np.unique(y_true)) < 2:
        raise AnalyticsError("the distinctiveness index needs test looks of at least two brands")
    if len(y_true) != len(embeddings):
        raise AnalyticsError(f"{len(y_true)} predictions but {len(embeddings)} embeddings")
    if len(np.unique(y_true)) >= len(y_true):
        # silhouette_samples is undefined when every look is its own brand
        raise AnalyticsError(
            f"the distinctiveness index needs more test looks than brands ({len(y_true)} looks of "
            f"{len(np.unique(y_true))} brands); evaluate on a larger test split"
        )
    unit = l2_normalise(embeddings)
    silhouettes = silhouette_samples(unit, y_true, metric="cosine")
    labels = list(range(n_classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    confusion = confusion_matrix(y_true, y_pred, labels=labels)
    ones = np.ones((1, len(y_true)))
    sil, spread, distance, nearest, margin = (part[0] for part in embedding_parts(ones, unit, y_true, silhouettes, n_classes))

    rng = np.random.default_rng(seed)
    weights = bootstrap_weights(y_true, resamples, rng)
    b_recall, _, b_f1 = classification_parts(weights, y_true, y_pred, n_classes)
    b_sil, _, _, _, b_margin = embedding_parts(weights, unit, y_true, silhouettes, n_classes)
    b_index = index_value(b_recall, b_f1, b_sil, b_margin)
    tail = 100 * (1 - confidence) / 2

    def interval(values: np.ndarray, point: float, column: int, bounds: tuple[float, float]) -> tuple[float, float]:
        # Percentile interval re-centred on the point estimate: a centroid distance (so the margin and
        # the index) is biased upward under resampling, and the shift removes that bias.
        if support[column] == 0:
            return (np.nan, np.nan)
        bias = float(values[:, column].mean()) - point
        low, high = np.clip(np.percentile(values[:, column], [tail, 100 - tail]) - bias, *bounds)
        return float(low), float(high)

    confusions = most_confused(confusion, class_names)
    rows = []
    for c, brand in enumerate(class_names):
        present = support[c] > 0
        confused_with, confused_share = confusions[c]
        index = float(index_value(recall[c], f1[c], sil[c], margin[c])) if present else np.nan
        rows.append(
            {
                "brand": brand,
                "support": int(support[c]),
                "index": index,
                **_named("index", interval(b_index, index, c, (0.0, 100.0))),
                "recall": float(recall[c]) if present else np.nan,
                **_named("recall", interval(b_recall, recall[c], c, (0.0, 1.0))),
                "precision": float(precision[c]),
                "f1": float(f1[c]) if present else np.nan,
                **_named("f1", interval(b_f1, f1[c], c, (0.0, 1.0))),
                "most_confused_with": confused_with,
                "confused_share": confused_share,
                "silhouette": float(sil[c]),
                **_named("silhouette", interval(b_sil, sil[c], c, (-1.0, 1.0))),
                "centroid_distance": float(distance[c]),
                "nearest_brand": class_names[nearest[c]] if nearest[c] >= 0 else None,
                "spread": float(spread[c]),
                "margin": float(margin[c]),
            }
        )
    return pd.DataFrame(rows)


def _named(name: str, bounds: tuple[float, float]) -> dict[str, float]:
    return {f"{name}_low": bounds[0], f"{name}_high": bounds[1]}


def split_of(run: RunData) -> str | None:
    """`random` or `collection`: the run's dataset split, from config.json or the dataset's summary.json."""
    if run.config is None:
        return None
    value = run.config.get("split")
    if isinstance(value, str) and value in ("random", "collection"):
        return value
    dataset = run.config.dataset
    if dataset is not None and dataset.exists():
        with reraise_as(AnalyticsError):
            value = dataset.read_summary().get("split")
        if isinstance(value, str):
            return value
    return None


def compute_for_run(run: RunData, settings: Settings) -> dict:
    """The `index` section of a run's brand_analytics.json."""
    if run.embeddings is None:
        raise AnalyticsError(f"{run.folder.embeddings} is missing: the index needs the embeddings")
    cfg = settings.analytics
    table = distinctiveness_table(
        run.true_indices(),
        run.predicted_indices(),
        run.embeddings,
        run.class_names,
        resamples=cfg.bootstrap_resamples,
        confidence=cfg.confidence_level,
        seed=cfg.seed,
    )
    return {
        "formula": INDEX_FORMULA,
        "weights": INDEX_WEIGHTS,
        "split": split_of(run),
        "test_looks": int(len(run.predictions)),
        "bootstrap": {
            "resamples": cfg.bootstrap_resamples,
            "confidence": cfg.confidence_level,
            "seed": cfg.seed,
            "stratified_by": "true brand",
        },
        "brands": frame_records(table),
    }


def compare_splits(random_table: pd.DataFrame, collection_table: pd.DataFrame) -> pd.DataFrame:
    """Per brand: the index under a random split and under a by-collection split, and how much the
    random split flatters it (random − collection; positive = the random split overstates the brand)."""
    keep = ["brand", "index", "index_low", "index_high", "recall", "f1", "silhouette"]
    merged = random_table[keep].merge(collection_table[keep], on="brand", suffixes=("_random", "_collection"))
    if merged.empty:
        raise AnalyticsError("the two runs share no brand: compare runs trained on the same houses")
    merged["flattery"] = merged["index_random"] - merged["index_collection"]
    return merged
