"""Evaluate a trained run on its test photos and write the run folder's evaluation artifacts.

One forward pass per batch through `attention_model` gives probabilities, the attention map and
the Dense-512 embedding. Maps and embeddings go straight into memory-mapped .npy files and the
per-brand attention sums are running totals, so memory stays flat in the number of photos.
All files are written under temporary names and renamed together at the end.

Because bilinear upsampling is linear, the upsampled per-brand sums are computed by upsampling
the native sums: exactly the sum of the upsampled maps, at a cost independent of N.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.lib.format import open_memmap
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, top_k_accuracy_score

from core.config import Settings, get_settings
from core.contract import RunFolder, probability_columns, resolve_run
from core.evidence import accuracy_text, interval_of, test_set_warning
from core.fileio import atomic_path
from core.images import ImageError
from core.logs import progress_bar
from core.tables import write_csv
from model.data import DataError, labels_for, read_manifest, resolve_manifest, split_rows
from model.maps import STAT_COLUMNS, attention_stats, upsample
from model.network import attention_model, load_saved_model
from model.preprocess import load_model_input

# metrics.json keys this module owns; any other section (attention, background_reliance…) is kept.
OWN_METRICS = ("split", "n_images", "class_names", "accuracy", "top2_accuracy", "per_class", "macro_avg",
               "weighted_avg", "accuracy_interval", "top2_accuracy_interval", "test_set_warning", "manifest", "evaluated_at", "seconds", "images_per_second")
log = logging.getLogger(__name__)


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray, class_names: list[str]) -> dict:
    """Accuracy and top-2 accuracy with their 95% Wilson intervals, scikit-learn's per-class / macro / weighted
    report, and the warning for a test set that leaves brands out or scores one on a handful of photos."""
    labels = list(range(len(class_names)))
    y_pred = probabilities.argmax(axis=1)
    report = classification_report(y_true, y_pred, labels=labels, target_names=class_names, output_dict=True,
                                   zero_division=0)

    def row(entry: dict) -> dict:
        return {"precision": entry["precision"], "recall": entry["recall"], "f1": entry["f1-score"],
                "support": int(entry["support"])}

    # With two classes every photo is right in its top two; scikit-learn refuses (n, 2) scores for binary labels.
    top2 = 1.0 if len(labels) <= 2 else float(top_k_accuracy_score(y_true, probabilities, k=2, labels=labels))
    accuracy = float(accuracy_score(y_true, y_pred))
    metrics = {
        "accuracy": accuracy,
        "accuracy_interval": list(interval_of(accuracy, len(y_true))),
        "top2_accuracy": top2,
        "top2_accuracy_interval": list(interval_of(top2, len(y_true))),
        "per_class": {name: row(report[name]) for name in class_names},
        "macro_avg": row(report["macro avg"]),
        "weighted_avg": row(report["weighted avg"]),
    }
    return {**metrics, "test_set_warning": test_set_warning(metrics)}


def confusion_frame(y_true: np.ndarray, y_pred: np.ndarray, class_names: list[str]) -> pd.DataFrame:
    matrix = confusion_matrix(y_true, y_pred, labels=list(range(len(class_names))))
    frame = pd.DataFrame(matrix, index=pd.Index(class_names, name="brand"), columns=class_names)
    return frame.reset_index()


def merged_metrics(path: Path, fresh: dict) -> dict:
    """Fresh evaluation metrics over the existing file, keeping sections other modules wrote."""
    existing = {}
    if path.is_file():
        try:
            existing = json.loads(path.read_text())
        except json.JSONDecodeError:
            existing = {}
    kept = {key: value for key, value in existing.items() if key not in OWN_METRICS}
    return {**fresh, **kept}


def evaluate(run: str | RunFolder, settings: Settings | None = None, *, split: str = "test", data: str | None = None,
             batch_size: int | None = None) -> dict:
    """Write metrics.json, confusion.csv, predictions.csv, attention/ and embeddings.npy; return the metrics."""
    settings = settings or get_settings()
    run = run if isinstance(run, RunFolder) else resolve_run(run, settings)
    config = run.read_config()
    run.require(run.model, f"python -m model train --run {run.name} ...")
    manifest = resolve_manifest(data, config.variant, settings) if data else Path(config.manifest)
    rows = split_rows(read_manifest(manifest), split)
    if rows.empty:
        raise DataError(f"{manifest} has no {split!r} rows to evaluate")
    class_names = list(config.class_names)
    y_true = labels_for(rows, class_names)
    size, resize_filter = int(config.image_size), config.resize_filter
    batch_size = batch_size or settings.model.eval_batch_size

    companion = attention_model(load_saved_model(run.model))
    grid = tuple(companion.output["attention"].shape[1:3])
    embedding_size = int(companion.output["embedding"].shape[-1])
    n, c = len(rows), len(class_names)
    probabilities = np.zeros((n, c), np.float32)
    stats = {column: np.zeros(n) for column in STAT_COLUMNS}
    sums = {"by_true_native": np.zeros((c, *grid)), "by_pred_native": np.zeros((c, *grid))}
    counts = {"count_by_true": np.zeros(c, np.int64), "count_by_pred": np.zeros(c, np.int64)}

    started = time.perf_counter()
    with (
        atomic_path(run.attention_maps) as maps_tmp,
        atomic_path(run.embeddings) as embeddings_tmp,
        atomic_path(run.attention_sums) as sums_tmp,
        atomic_path(run.predictions) as predictions_tmp,
        atomic_path(run.confusion) as confusion_tmp,
        atomic_path(run.metrics) as metrics_tmp,
    ):
        maps = open_memmap(maps_tmp, mode="w+", dtype=np.float16, shape=(n, *grid))
        embeddings = open_memmap(embeddings_tmp, mode="w+", dtype=np.float32, shape=(n, embedding_size))
        bar = progress_bar(total=n, logger=log, desc=f"evaluating {run.name}", unit="img")
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            batch = np.stack([_load(path, size, resize_filter) for path in rows["path"][start:stop]])
            out = companion.predict_on_batch(batch.astype(np.float32))
            attention = np.asarray(out["attention"], dtype=np.float64)
            probabilities[start:stop] = out["probabilities"]
            maps[start:stop] = attention.astype(np.float16)
            embeddings[start:stop] = out["embedding"]
            for column, values in attention_stats(attention).items():
                stats[column][start:stop] = values
            predicted = np.asarray(out["probabilities"]).argmax(axis=1)
            np.add.at(sums["by_true_native"], y_true[start:stop], attention)
            np.add.at(sums["by_pred_native"], predicted, attention)
            np.add.at(counts["count_by_true"], y_true[start:stop], 1)
            np.add.at(counts["count_by_pred"], predicted, 1)
            bar.update(stop - start)
        bar.close()
        maps.flush()
        embeddings.flush()
        del maps, embeddings
        seconds = time.perf_counter() - started

        y_pred = probabilities.argmax(axis=1)
        np.savez(sums_tmp, **sums, **counts,
                 by_true_upsampled=upsample(sums["by_true_native"], (size, size)),
                 by_pred_upsampled=upsample(sums["by_pred_native"], (size, size)),
                 class_names=np.array(class_names), image_size=size)
        write_csv(predictions_frame(rows, class_names, y_true, probabilities, stats), predictions_tmp)
        write_csv(confusion_frame(y_true, y_pred, class_names), confusion_tmp)
        metrics = {
            "split": split,
            "n_images": n,
            "class_names": class_names,
            **classification_metrics(y_true, probabilities, class_names),
            "manifest": str(manifest),
            "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(seconds, 2),
            "images_per_second": round(n / seconds, 2),
        }
        metrics_tmp.write_text(json.dumps(merged_metrics(run.metrics, metrics), indent=2) + "\n")
    log.info("[evaluate] %s: accuracy %s, top-2 %s (95%% intervals) on %d %s photos; artifacts in %s", run.name,
             accuracy_text(metrics["accuracy"], n), accuracy_text(metrics["top2_accuracy"], n), n, split, run.root)
    if metrics["test_set_warning"]:
        log.warning("[evaluate] %s: %s", run.name, metrics["test_set_warning"])
    return metrics


def predictions_frame(rows: pd.DataFrame, class_names: list[str], y_true: np.ndarray, probabilities: np.ndarray,
                      stats: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """One row per photo: path, brand, predicted, correct, prob_<brand>…, attention stats, manifest columns."""
    predicted = probabilities.argmax(axis=1)
    frame = pd.DataFrame({
        "path": rows["path"].to_numpy(),
        "brand": rows["brand"].to_numpy(),
        "predicted": np.asarray(class_names, dtype=object)[predicted],
        "correct": predicted == y_true,
    })
    for column, values in zip(probability_columns(class_names), probabilities.T, strict=True):
        frame[column] = values
    for column in STAT_COLUMNS if stats is not None else ():  # a model without attention has no map statistics
        frame[column] = stats[column].astype(np.int64) if column.endswith(("_row", "_col")) else stats[column]
    # The manifest's other columns (collection, year, masks…) let later analytics join on a row.
    for column in rows.columns:
        if column not in frame.columns:
            frame[column] = rows[column].to_numpy()
    return frame


def _load(path: str, size: int, resize_filter: str) -> np.ndarray:
    try:
        return load_model_input(path, size, resize_filter)
    except ImageError as exc:
        raise DataError(f"cannot read a test photo: {exc} ({path})") from None
