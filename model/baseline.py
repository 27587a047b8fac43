"""The plain probe every attention model is measured against: frozen ImageNet VGG16, average pooling, logistic regression.

    python -m model baseline --data demo [--variant raw|nobg] [--run demo-raw-baseline]

The photos go through the same frozen VGG16 the attention models use, at the same image size,
pixel scaling and resize filter (`Settings.model`), on the same split of the same manifest. Block5's
output is averaged over space into one 512-d vector per photo, and scikit-learn's
LogisticRegression is fitted on the train split. The result is a run folder like any other
(config.json with `architecture: "baseline"`, predictions.csv, confusion.csv, metrics.json and the
pooled vectors as embeddings.npy), so the dashboard shows it next to the models. It has no attention
map: what the attention adds over this probe is the point of the comparison.

Block1-4 come from the fast path's feature cache (`model.features`), so a baseline after a training
run of the same settings costs one block5 pass and a fit: seconds on the demo.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from core.config import EngineSettings, Settings, get_settings
from core.contract import DataError, RunConfig, RunFolder
from core.evidence import accuracy_text
from core.fileio import atomic_path, write_dataframe_atomic, write_json_atomic
from model.data import dataset_name, labels_for, ordered_class_names, read_manifest, resolve_manifest, split_rows
from model.evaluation import classification_metrics, confusion_frame, predictions_frame
from model.features import cache_for, content_hashes, ensure_features
from model.network import VGG16_BLOCKS, build_model

ARCHITECTURE = "baseline"
log = logging.getLogger(__name__)


def baseline_run_name(dataset: str, variant: str) -> str:
    return f"{dataset}-{variant}-baseline"


def block5_average(model: keras.Model) -> keras.Model:
    """block4_conv3 features → block4_pool → block5 → block5_pool → spatial mean (512-d), with the model's own layers."""
    features = keras.Input(model.get_layer("block4_conv3").output.shape[1:], name="block4_features")
    x = model.get_layer("block4_pool")(features)
    for conv in range(1, VGG16_BLOCKS[4][1] + 1):
        x = model.get_layer(f"block5_conv{conv}")(x)
    x = model.get_layer("block5_pool")(x)
    return keras.Model(features, keras.layers.GlobalAveragePooling2D()(x), name="vgg16_block5_average")


def pooled_features(model: keras.Model, cache, paths: list[str], batch_size: int,
                    engine: EngineSettings | None = None) -> np.ndarray:
    """One 512-d average-pooled block5 vector per photo (block1-4 from the feature cache)."""
    files = ensure_features(model, cache, paths, content_hashes(paths), batch_size=batch_size, engine=engine)
    head = block5_average(model)
    vectors = []
    for start in range(0, len(files), batch_size):
        batch = np.stack([np.load(row[0]) for row in files[start:start + batch_size]]).astype(np.float32)
        vectors.append(np.asarray(head.predict_on_batch(batch)))
    return np.concatenate(vectors) if vectors else np.zeros((0, 512), np.float32)


def fit_probe(x_train: np.ndarray, y_train: np.ndarray, seed: int):
    """Standardised features, then multinomial logistic regression (scikit-learn's defaults, C = 1)."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, random_state=seed)).fit(x_train, y_train)


def train_baseline(data: str, variant: str = "raw", run: str | None = None, settings: Settings | None = None,
                   weights: str = "imagenet", runs_dir: Path | None = None) -> dict:
    """Fit the probe on the train split, evaluate it on the test split, write its run folder; return the metrics."""
    settings = settings or get_settings()
    ms = settings.model
    manifest = resolve_manifest(data, variant, settings)
    frame = read_manifest(manifest)
    class_names = ordered_class_names(frame["brand"], settings.data.brands)
    if len(class_names) < 2:
        raise DataError(f"{manifest}: a baseline needs at least two brands (found {class_names}); "
                        "prepare the dataset with more brands")
    train_rows, test_rows = split_rows(frame, "train"), split_rows(frame, "test")
    if train_rows.empty or test_rows.empty:
        raise DataError(f"{manifest} needs 'train' and 'test' rows for a baseline (has {sorted(set(frame['split']))})")
    missing = sorted(set(class_names) - set(test_rows["brand"]))
    if missing:
        raise DataError(f"{manifest}: no test photos of {', '.join(missing)}; prepare with --split random or more shows")
    folder = RunFolder((runs_dir or settings.paths.runs) / (run or baseline_run_name(dataset_name(manifest), variant)))

    started = time.perf_counter()
    keras.utils.set_random_seed(ms.seed)
    model = build_model(len(class_names), ms.image_size, weights=None if weights == "random" else "imagenet",
                        settings=settings, augment=False)
    cache = cache_for(model, settings.paths.feature_cache, ms.image_size, ms.preprocess, ms.resize_filter,
                      ms.feature_cache_dtype)
    x_train = pooled_features(model, cache, list(train_rows["path"]), ms.eval_batch_size, settings.engine)
    x_test = pooled_features(model, cache, list(test_rows["path"]), ms.eval_batch_size, settings.engine)
    y_train, y_test = labels_for(train_rows, class_names), labels_for(test_rows, class_names)
    probe = fit_probe(x_train, y_train, ms.seed)
    # Classes the train split lacks get probability 0 (the probe only knows those it saw).
    probabilities = np.zeros((len(x_test), len(class_names)))
    probabilities[:, probe.classes_] = probe.predict_proba(x_test)
    seconds = time.perf_counter() - started

    metrics = {"split": "test", "n_images": len(test_rows), "class_names": class_names,
               **classification_metrics(y_test, probabilities, class_names), "manifest": str(manifest),
               "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"), "seconds": round(seconds, 2)}
    config = RunConfig(run=folder.name, variant=variant, class_names=class_names, manifest=str(manifest),
                       image_size=ms.image_size, resize_filter=ms.resize_filter, details={
                           "architecture": ARCHITECTURE, "dataset": dataset_name(manifest), "preprocess": ms.preprocess,
                           "seed": ms.seed, "weights": weights, "settings": {"image_size": ms.image_size,
                           "preprocess": ms.preprocess, "resize_filter": ms.resize_filter, "seed": ms.seed},
                           "classifier": "StandardScaler + LogisticRegression(C=1, multinomial)",
                           "features": "VGG16 block5_pool, spatial average (512-d)", "train_images": len(train_rows),
                           "created_at": metrics["evaluated_at"]})
    folder.root.mkdir(parents=True, exist_ok=True)
    write_dataframe_atomic(folder.predictions, predictions_frame(test_rows, class_names, y_test, probabilities))
    write_dataframe_atomic(folder.confusion, confusion_frame(y_test, probabilities.argmax(1), class_names))
    with atomic_path(folder.embeddings) as tmp:
        np.save(tmp, x_test.astype(np.float32))
    write_json_atomic(folder.metrics, metrics)
    folder.write_config(config)  # last: a run folder with a config is a complete run to the dashboard
    log.info("baseline %s: accuracy %s, top-2 %s (95%% intervals) on %d test photos (%.1f s)", folder.name,
             accuracy_text(metrics["accuracy"], len(test_rows)), accuracy_text(metrics["top2_accuracy"], len(test_rows)),
             len(test_rows), seconds)
    if metrics["test_set_warning"]:
        log.warning("baseline %s: %s", folder.name, metrics["test_set_warning"])
    return metrics
