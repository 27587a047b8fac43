"""Pure table derivations the pages share: classification reports, confusion lookups, attention rankings.

Inputs are the run folder's own tables (metrics.json, confusion.csv, predictions.csv) as loaded by
dashboard/artifacts.py; outputs are pandas objects ready to show or export. No Streamlit here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.contract import PREDICTIONS_FILE, probability_columns
from core.evidence import interval_of, test_set_warning

REPORT_COLUMNS = ["precision", "recall", "f1", "support"]
AVERAGES = ("macro avg", "weighted avg")
_ALIASES = {"f1-score": "f1", "f1_score": "f1", "macro": "macro avg", "weighted": "weighted avg",
            "macro_avg": "macro avg", "weighted_avg": "weighted avg"}


def _metric_row(value: dict) -> dict:
    return {_ALIASES.get(k, k): v for k, v in value.items()}


def report_frame(metrics: dict, class_names: list[str]) -> pd.DataFrame:
    """Per-class precision/recall/F1/support plus macro and weighted rows, from a run's metrics.json.

    Accepts scikit-learn's `classification_report(output_dict=True)` layout at the top level or under
    `per_class`/`classification_report`/`report`, with `f1-score` or `f1`.
    """
    sources = [metrics] + [metrics[k] for k in ("classification_report", "report", "per_class") if isinstance(metrics.get(k), dict)]
    rows: dict[str, dict] = {}
    for source in sources:
        for name in list(class_names) + list(AVERAGES) + ["macro", "weighted", "macro_avg", "weighted_avg"]:
            if isinstance(source.get(name), dict) and "precision" in source[name]:
                rows.setdefault(_ALIASES.get(name, name), _metric_row(source[name]))
    for source in sources:  # {"macro": {...}} style averages nested under "averages"
        for key in ("averages", "avg"):
            if isinstance(source.get(key), dict):
                for name, value in source[key].items():
                    if isinstance(value, dict):
                        rows.setdefault(_ALIASES.get(name, f"{name} avg" if "avg" not in name else name), _metric_row(value))
    order = [c for c in class_names if c in rows] + [a for a in AVERAGES if a in rows]
    frame = pd.DataFrame.from_dict({k: rows[k] for k in order}, orient="index")
    for column in REPORT_COLUMNS:
        if column not in frame:
            frame[column] = np.nan
    frame = frame[REPORT_COLUMNS]
    frame.index.name = "brand"
    return frame


def with_recall_intervals(report: pd.DataFrame) -> pd.DataFrame:
    """The report with each brand's recall (its own accuracy) bracketed by a 95% Wilson interval."""
    report = report.copy()
    brands = [name for name in report.index if name not in AVERAGES]
    bounds = {name: interval_of(report.at[name, "recall"], report.at[name, "support"])
              if pd.notna(report.at[name, "recall"]) and pd.notna(report.at[name, "support"]) else (np.nan, np.nan)
              for name in brands}
    report["recall_low"] = pd.Series({name: low for name, (low, _) in bounds.items()}, dtype=float)
    report["recall_high"] = pd.Series({name: high for name, (_, high) in bounds.items()}, dtype=float)
    return report


def validation_photos(config_details: dict) -> int | None:
    """How many validation photos a run's val accuracy was measured on (its config's split counts)."""
    try:
        return int(config_details["counts"]["by_split"]["val"]) or None
    except (KeyError, TypeError, ValueError):
        return None


def models_table(runs: list, metrics_of) -> pd.DataFrame:
    """One row per evaluated run: architecture, variant, accuracy with its 95% interval, top-2, test photos,
    and the warning of a test set that can't support the numbers."""
    rows = []
    for run in runs:
        metrics = metrics_of(run) or {}
        accuracy, total = metric_value(metrics, "accuracy"), metric_value(metrics, "n_images")
        low, high = interval_of(accuracy, int(total) if total else None)
        rows.append({"run": run.name, "architecture": run.architecture or "–", "variant": run.variant,
                     "accuracy": accuracy, "ci_low": low, "ci_high": high,
                     "top-2 accuracy": metric_value(metrics, "top2_accuracy"),
                     "test photos": int(total) if total else None,
                     "warning": test_set_warning(metrics) or ""})
    return pd.DataFrame(rows, columns=["run", "architecture", "variant", "accuracy", "ci_low", "ci_high",
                                       "top-2 accuracy", "test photos", "warning"])


def comparison_rows(summary: dict, dataset: str) -> pd.DataFrame:
    """A `python -m model compare` table's rows for one dataset family (the dataset and its split twins)."""
    frame = pd.DataFrame(summary.get("rows") or [])
    if frame.empty or "dataset" not in frame:
        return frame
    return frame[frame["dataset"].astype(str).str.startswith(dataset)].reset_index(drop=True)


def metric_value(metrics: dict, *names: str) -> float | None:
    """The first of `names` found in metrics.json (top level or under `summary`), as a float."""
    for source in (metrics, metrics.get("summary") if isinstance(metrics.get("summary"), dict) else {}):
        for name in names:
            value = source.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
    return None


def report_from_confusion(matrix: pd.DataFrame) -> pd.DataFrame:
    """A classification report recomputed from a confusion matrix (used to check a run's own numbers)."""
    values = matrix.to_numpy(dtype=float)
    true_positive = np.diag(values)
    support = values.sum(axis=1)
    predicted = values.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, true_positive / predicted, 0.0)
        recall = np.where(support > 0, true_positive / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    frame = pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support}, index=matrix.index)
    total = support.sum()
    frame.loc["macro avg"] = [precision.mean(), recall.mean(), f1.mean(), total]
    weights = support / total if total else np.zeros_like(support)
    frame.loc["weighted avg"] = [(precision * weights).sum(), (recall * weights).sum(), (f1 * weights).sum(), total]
    return frame


def accuracy_from_confusion(matrix: pd.DataFrame) -> float:
    values = matrix.to_numpy(dtype=float)
    return float(np.trace(values) / values.sum()) if values.sum() else 0.0


def cell_rows(predictions: pd.DataFrame, true_brand: str, predicted_brand: str) -> pd.DataFrame:
    """The test photos in one confusion cell, most confident first when probabilities exist."""
    rows = predictions[(predictions["brand"] == true_brand) & (predictions["predicted"] == predicted_brand)]
    column = probability_columns([predicted_brand])[0]
    if column in rows:
        rows = rows.assign(_p=pd.to_numeric(rows[column], errors="coerce")).sort_values("_p", ascending=False).drop(columns="_p")
    return rows


def largest_confusion(matrix: pd.DataFrame) -> tuple[int, int]:
    """(row, column) of the largest off-diagonal cell; (0, 0) for a 1×1 matrix."""
    values = matrix.to_numpy(dtype=float).copy()
    if values.shape[0] < 2:
        return 0, 0
    np.fill_diagonal(values, -1)
    row, col = np.unravel_index(int(values.argmax()), values.shape)
    return int(row), int(col)


def most_confused_with(matrix: pd.DataFrame, brand: str) -> tuple[str | None, int, int]:
    """(the brand `brand` is most often mistaken for or with, photos of it called that, photos of that called it).

    Counts both directions of the confusion matrix: row `brand` (its photos predicted as the other)
    plus column `brand` (the other's photos predicted as it).
    """
    if brand not in matrix.index:
        return None, 0, 0
    others = [b for b in matrix.index if b != brand and b in matrix.columns]
    if not others:
        return None, 0, 0
    as_other = matrix.loc[brand, others]
    other_as = matrix.loc[others, brand] if brand in matrix.columns else pd.Series(0, index=others)
    both = as_other + other_as
    if both.max() <= 0:
        return None, 0, 0
    other = str(both.idxmax())
    return other, int(as_other[other]), int(other_as[other])


def attention_ranking(predictions: pd.DataFrame, per_image: pd.DataFrame | None, brand: str) -> tuple[pd.DataFrame, str]:
    """One brand's test photos ranked by how concentrated their attention is, best first.

    With attention/per_image.csv the score is the attention mass on the figure; otherwise
    the map's entropy from predictions.csv (low entropy = concentrated). Returns (rows with a
    `score` column and their original `row` position, a sentence saying what the score is).
    """
    frame = predictions.reset_index(drop=True).assign(row=lambda f: np.arange(len(f)))
    if per_image is not None and len(per_image) == len(frame) and "mass_on_figure" in per_image:
        frame = frame.assign(score=pd.to_numeric(per_image["mass_on_figure"], errors="coerce").to_numpy())
        how = "share of attention on the figure (higher is better)"
        ascending = False
    elif "attention_entropy" in frame:
        frame = frame.assign(score=pd.to_numeric(frame["attention_entropy"], errors="coerce"))
        how = "entropy of the attention map in nats (lower is more concentrated)"
        ascending = True
    elif "attention_max" in frame:
        frame = frame.assign(score=pd.to_numeric(frame["attention_max"], errors="coerce"))
        how = "peak attention value (higher is more concentrated)"
        ascending = False
    else:
        return frame.iloc[0:0].assign(score=[]), f"no attention statistics in {PREDICTIONS_FILE}"
    rows = frame[frame["brand"] == brand].dropna(subset=["score"]).sort_values("score", ascending=ascending)
    return rows, how

