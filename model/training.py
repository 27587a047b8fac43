"""Train the thesis's network on one variant (raw or background-removed) of a dataset, resumably.

Thesis 3.5: Adam at 1e-3, categorical cross-entropy, batch 64, 100 epochs, and a schedule that
drops the rate by 10% after epoch 100. Options beyond the thesis (early stopping, ReduceLROnPlateau,
class weights, smaller images, VGG preprocessing) are off unless asked for.

Two ways to fit the same model:
- end-to-end: images through the whole network, augmentation layers active (the thesis's way);
- fast path: block1–4 outputs cached once per photo (`model.features`), then attention + block5 +
  head trained from the cache through `tail_model`, which shares its layers with the full model.

Either way the run folder gets config.json, per-epoch checkpoints, history.csv and, at the end,
model.keras (the full model, loadable with safe_mode=True).
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.utils.class_weight import compute_class_weight

from core.config import EngineSettings, ModelSettings, Settings, get_settings
from core.contract import RunConfig, RunFolder
from core.fileio import atomic_path, write_dataframe_atomic
from core.images import ImageError
from core.logs import progress_bar, shows_progress
from core.tables import read_csv
from model.batches import FeatureBatches, ImageBatches
from model.checkpoints import HISTORY_COLUMNS, EpochCheckpoint, ThesisLearningRateDrop, latest_state, restore_checkpoint
from model.data import (
    DataError,
    check_variant,
    dataset_name,
    labels_for,
    ordered_class_names,
    read_manifest,
    resolve_manifest,
    split_rows,
)
from model.features import FeatureCachingError, cache_for, content_hashes, ensure_features
from model.network import (
    PREDICTIONS,
    THESIS_ARCHITECTURE,
    build_model,
    embedding_model,
    feature_grid,
    feature_model,
    parameter_counts,
    tail_model,
)
from model.preprocess import load_model_input

WEIGHT_SOURCES = ("imagenet", "random")
# What a run is, besides its settings: a resumed run must match these and every ModelSettings field
# marked resume=True (core.config.setting); epochs and patience may change between calls.
RUN_IDENTITY_KEYS = ("variant", "manifest", "class_names", "weights", "fast_path")
log = logging.getLogger(__name__)


class TrainError(ValueError):
    """A training request that cannot go ahead as asked; the message says why and what to do."""


@dataclass(frozen=True)
class TrainRequest:
    """What to train; how (every hyper-parameter) is `Settings.model`."""

    variant: str
    data: str  # dataset folder, its manifest.csv, or a dataset name
    run: str | None = None  # default: <dataset>-<variant>
    weights: str = "imagenet"  # or "random" (tests and timing only)
    restart: bool = False  # discard an existing run folder first
    runs_dir: Path | None = None  # where the run folder goes (default: the workspace's runs/)


@dataclass
class TrainResult:
    run: RunFolder
    epochs_done: int
    trained_now: int  # epochs trained by this call (0: the run was already complete)
    stopped_early: bool
    history: pd.DataFrame


def _choice_problems(ms: ModelSettings) -> list[str]:
    """A value outside a field's declared choices (a CLI checks them too; a settings object may not)."""
    problems = []
    for item in dataclasses.fields(ms):
        choices = item.metadata.get("choices")
        if choices and getattr(ms, item.name) not in choices:
            problems.append(f"unknown {item.name.replace('_', ' ')} {getattr(ms, item.name)!r} "
                            f"(expected {', '.join(map(str, choices))})")
    return problems


def check_model_settings(ms: ModelSettings) -> None:
    problems = _choice_problems(ms)
    if ms.epochs < 1:
        problems.append(f"epochs must be at least 1 (got {ms.epochs})")
    if ms.batch_size < 1:
        problems.append(f"batch size must be at least 1 (got {ms.batch_size})")
    if ms.image_size < 32 or ms.image_size % 8:
        problems.append(f"image size must be a multiple of 8 and at least 32 (got {ms.image_size})")
    if ms.augment_copies < 0:
        problems.append(f"augment copies must be 0 or more (got {ms.augment_copies})")
    if not ms.learning_rate > 0:
        problems.append(f"learning rate must be positive (got {ms.learning_rate})")
    if problems:
        raise TrainError("; ".join(problems))


def set_op_determinism(enabled: bool) -> None:
    """TensorFlow's deterministic kernels (process-wide): same seed, same weights, at some cost in speed."""
    from tensorflow.python.framework import config as tf_config  # the public API can enable, not disable

    if enabled:
        tf_config.enable_op_determinism()
    else:
        tf_config.disable_op_determinism()


def distribution_strategy() -> tf.distribute.Strategy:
    """MirroredStrategy over several visible GPUs, one device otherwise: no code change either way."""
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    if len(gpus) == 1:
        return tf.distribute.OneDeviceStrategy(gpus[0].name)
    return tf.distribute.get_strategy()


def use_fast_path(choice: str) -> bool:
    """`auto` caches features on CPU, where block1–4 dominate the cost; on a GPU it trains end-to-end."""
    if choice == "auto":
        return not tf.config.list_logical_devices("GPU")
    return choice == "on"


def decode_images(paths: list[str], image_size: int, resize_filter: str) -> np.ndarray:
    images = np.empty((len(paths), image_size, image_size, 3), dtype=np.uint8)
    for i, path in enumerate(progress_bar(paths, logger=log, desc="decoding photos", unit="img")):
        try:
            images[i] = load_model_input(path, image_size, resize_filter)
        except ImageError as exc:
            raise DataError(f"cannot read a training photo: {exc} ({path})") from None
    return images


def class_weight_map(labels: np.ndarray, choice: str) -> dict[int, float] | None:
    if choice == "none":
        return None
    present = np.unique(labels)
    weights = compute_class_weight("balanced", classes=present, y=labels)
    return {int(c): float(w) for c, w in zip(present, weights, strict=True)}


def library_versions() -> dict[str, str]:
    import sklearn

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "pandas": pd.__version__, "scikit-learn": sklearn.__version__}


def build_config(*, run: RunFolder, variant: str, manifest: Path, class_names: list[str], ms: ModelSettings,
                 fast: bool, weights: str, weights_file: str | None, params: dict, counts: dict,
                 cache_key: str | None, strategy: tf.distribute.Strategy) -> RunConfig:
    """The run's config.json: what it is (typed in RunConfig), the settings it was asked for, and what it used."""
    details = {
        "dataset": dataset_name(manifest),
        "num_classes": len(class_names),
        "architecture": ms.architecture,
        "attention_grid": feature_grid(ms.image_size),
        "settings": dataclasses.asdict(ms),
        "preprocess": ms.preprocess,
        "seed": ms.seed,
        "epochs": ms.epochs,
        "batch_size": ms.batch_size,
        "learning_rate": ms.learning_rate,
        "fast_path": fast,
        "augment_copies": ms.augment_copies if fast else 0,
        "feature_flip": ms.feature_flip if fast else False,
        "cache_dtype": ms.feature_cache_dtype if fast else None,
        "class_weights": ms.class_weights,
        "weights": weights,
        "optimizer": "adam",
        "loss": "categorical_crossentropy",
        "augmentation": "in the model (end-to-end)" if not fast else
                        f"{ms.augment_copies} cached copies per photo, feature flip {ms.feature_flip}",
        "fast_path_cache": {"key": cache_key, "layer": "block4_conv3"} if fast else None,
        "weights_file": weights_file,
        "parameters": params,
        "counts": counts,
        "strategy": {"class": type(strategy).__name__, "replicas": strategy.num_replicas_in_sync},
        "versions": library_versions(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return RunConfig(run=run.name, variant=variant, class_names=class_names, manifest=str(manifest),
                     image_size=ms.image_size, resize_filter=ms.resize_filter, details=details)


def _split_counts(frame: pd.DataFrame, class_names: list[str]) -> dict:
    table = pd.crosstab(frame["brand"], frame["split"]).reindex(index=class_names, fill_value=0)
    return {
        "by_split": {split: int(n) for split, n in frame["split"].value_counts().items()},
        "by_brand_split": {brand: {split: int(n) for split, n in row.items()} for brand, row in table.iterrows()},
    }


def resume_keys() -> tuple[str, ...]:
    """The settings a resumed run must share with its checkpoints."""
    return tuple(f.name for f in dataclasses.fields(ModelSettings) if f.metadata["resume"])


def _incompatibilities(old: RunConfig, new: RunConfig) -> list[str]:
    old_settings, new_settings = old.get("settings"), new.get("settings")
    if not isinstance(old_settings, dict):
        return ["settings: recorded by an earlier Runway Lens that did not keep them all"]
    clashes = [f"{key}: {old.get(key)!r} → {new.get(key)!r}" for key in RUN_IDENTITY_KEYS if old.get(key) != new.get(key)]
    return clashes + [f"{key}: {old_settings.get(key)!r} → {new_settings[key]!r}" for key in resume_keys()
                      if old_settings.get(key) != new_settings[key]]


def _write_history(run: RunFolder, rows: list[dict]) -> None:
    write_dataframe_atomic(run.history, pd.DataFrame(rows, columns=list(HISTORY_COLUMNS)))


def train(options: TrainRequest, settings: Settings | None = None, *, extra_callbacks: tuple = ()) -> TrainResult:
    """Train (or resume, or confirm finished) one run with `settings.model`; every user error is a DataError/TrainError."""
    settings = settings or get_settings()
    check_variant(options.variant)
    if options.weights not in WEIGHT_SOURCES:
        raise TrainError(f"unknown weights {options.weights!r} (expected {', '.join(WEIGHT_SOURCES)})")
    ms = settings.model
    check_model_settings(ms)

    manifest = resolve_manifest(options.data, options.variant, settings)
    frame = read_manifest(manifest)
    class_names = ordered_class_names(frame["brand"], settings.data.brands)
    if len(class_names) < 2:
        raise DataError(f"{manifest}: at least two brands are needed to train a classifier (found {class_names})")
    train_rows, val_rows = split_rows(frame, "train"), split_rows(frame, "val")
    if train_rows.empty:
        raise DataError(f"{manifest} has no rows with split 'train'")
    if val_rows.empty and (ms.early_stopping_patience or ms.reduce_lr_patience):
        raise DataError(f"{manifest} has no 'val' rows: early stopping and ReduceLROnPlateau need a validation split")
    run = RunFolder((options.runs_dir or settings.paths.runs) / (options.run or f"{dataset_name(manifest)}-{options.variant}"))
    if options.restart and run.root.exists():
        log.info("[train] --restart: discarding %s", run.root)
        shutil.rmtree(run.root)
    fast = use_fast_path(ms.fast_path)

    keras.utils.set_random_seed(ms.seed)
    set_op_determinism(ms.deterministic)
    strategy = distribution_strategy()
    with strategy.scope():
        model = build_model(len(class_names), ms.image_size, weights=None if options.weights == "random" else "imagenet",
                            settings=settings, augment=True, architecture=ms.architecture)
        fit_model = tail_model(model) if fast else model
        fit_model.compile(optimizer=keras.optimizers.Adam(ms.learning_rate), loss="categorical_crossentropy",
                          metrics=["accuracy"])
    cache = cache_for(model, settings.paths.feature_cache, ms.image_size, ms.preprocess, ms.resize_filter,
                      ms.feature_cache_dtype) if fast else None
    weights_file = None if options.weights == "random" else str(settings.paths.vgg16_weights)
    config = build_config(run=run, variant=options.variant, manifest=manifest, class_names=class_names, ms=ms,
                          fast=fast, weights=options.weights, weights_file=weights_file,
                          params=parameter_counts(model), counts=_split_counts(frame, class_names),
                          cache_key=cache.spec.key if cache else None, strategy=strategy)

    state = latest_state(run.checkpoints)
    if state is not None:
        old = run.read_config() if run.config.is_file() else config
        clashes = _incompatibilities(old, config)
        if clashes:
            raise TrainError(f"run {run.name!r} was started with other settings ({'; '.join(clashes)}). "
                             "Resume with the same settings, pick another --run, or pass --restart to discard it.")
        config.details["created_at"] = old.get("created_at", config.get("created_at"))
        if run.model.is_file() and (state["epoch"] >= ms.epochs or state.get("stopped_early")):
            why = "stopped early" if state.get("stopped_early") else "done"
            log.info("[train] run %r already trained (%d epochs, %s); nothing to do", run.name, state["epoch"], why)
            return TrainResult(run, state["epoch"], 0, bool(state.get("stopped_early")), read_csv(run.history))
    run.write_config(config)

    y_train = labels_for(train_rows, class_names)
    y_val = labels_for(val_rows, class_names) if not val_rows.empty else None
    initial_epoch = state["epoch"] if state else 0
    batches = dict(batch_size=ms.batch_size, seed=ms.seed)
    remaining = dict(first_epoch=initial_epoch, epochs=ms.epochs - initial_epoch)
    if fast:
        hashes = content_hashes(list(train_rows["path"]) + list(val_rows["path"]))
        log.info("[train] fast path: block4 features cached in %s", cache.folder)
        train_files = _cached(model, cache, list(train_rows["path"]), hashes[: len(train_rows)], ms, ms.augment_copies,
                              settings.engine)
        train_data = FeatureBatches(train_files, y_train, len(class_names), flip=ms.feature_flip, shuffle=True,
                                    **remaining, **batches)
        val_data = None
        if y_val is not None:
            val_files = _cached(model, cache, list(val_rows["path"]), hashes[len(train_rows):], ms, 0, settings.engine)
            val_data = FeatureBatches(val_files, y_val, len(class_names), shuffle=False, **batches)
    else:
        train_images = decode_images(list(train_rows["path"]), ms.image_size, ms.resize_filter)
        train_data = ImageBatches(train_images, y_train, len(class_names), shuffle=True, **remaining, **batches)
        val_data = None
        if y_val is not None:
            val_images = decode_images(list(val_rows["path"]), ms.image_size, ms.resize_filter)
            val_data = ImageBatches(val_images, y_val, len(class_names), shuffle=False, **batches)

    if not initial_epoch and ms.architecture != THESIS_ARCHITECTURE:
        first_copies = [files[0] for files in train_files] if fast else None
        start_from_probe(model, first_copies, None if fast else train_images, y_train, len(class_names), ms)
        log.info("[train] softmax layer set from a logistic-regression probe on the starting features")

    state = dict(state or {"epoch": 0, "history": []})
    if initial_epoch:
        with strategy.scope():
            restore_checkpoint(fit_model, state)
        log.info("[train] resuming run %r after epoch %d", run.name, initial_epoch)
    state.pop("_folder", None)
    state["stopped_early"] = False

    watched, callbacks = {}, [ThesisLearningRateDrop(ms.lr_drop_epoch, ms.lr_drop_factor)]
    if ms.early_stopping_patience:
        watched["early_stopping"] = keras.callbacks.EarlyStopping(monitor="val_loss", patience=ms.early_stopping_patience)
    if ms.reduce_lr_patience:
        watched["reduce_lr"] = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=ms.reduce_lr_factor,
                                                                 patience=ms.reduce_lr_patience)
    callbacks += list(watched.values())
    callbacks.append(EpochCheckpoint(run.checkpoints, state, lambda rows: _write_history(run, rows), watched))
    callbacks += list(extra_callbacks)

    started = time.perf_counter()
    if initial_epoch < ms.epochs:
        log.info("[train] training %r: %d train / %d val photos, %s, epochs %d..%d", run.name, len(train_rows),
                 len(val_rows), "fast path" if fast else "end-to-end", initial_epoch + 1, ms.epochs)
        # shuffle=False: the batches shuffle themselves, reproducibly (model.batches)
        fit_model.fit(train_data, validation_data=val_data, epochs=ms.epochs, initial_epoch=initial_epoch,
                      steps_per_epoch=train_data.steps_per_epoch, shuffle=False, callbacks=callbacks,
                      verbose=2 if shows_progress(log) else 0, class_weight=class_weight_map(y_train, ms.class_weights))
    seconds = time.perf_counter() - started

    with atomic_path(run.model) as tmp:
        model.save(tmp)
    history = pd.DataFrame(state["history"], columns=list(HISTORY_COLUMNS))
    _write_history(run, state["history"])
    trained_now = state["epoch"] - initial_epoch
    config.details["training"] = {
        "epochs_done": state["epoch"],
        "stopped_early": state["stopped_early"],
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "last_call_seconds": round(seconds, 2),
        "train_images_per_second": round(trained_now * len(train_rows) / seconds, 2) if trained_now else None,
    }
    run.write_config(config)
    log.info("[train] saved %s (%d epochs)", run.model, state["epoch"])
    return TrainResult(run, state["epoch"], trained_now, state["stopped_early"], history)


def start_from_probe(model: keras.Model, feature_files: list | None, images: np.ndarray | None, labels: np.ndarray,
                     num_classes: int, ms: ModelSettings) -> None:
    """Linear probing before fine-tuning: set the softmax layer from a logistic regression fitted on the model's own
    starting embedding (average-pooled, as the attention starts constant), so training starts from the plain probe."""
    from model.baseline import fit_probe

    features = embedding_model(model)
    batches = []
    count = len(feature_files) if feature_files is not None else len(images)
    for start in range(0, count, ms.eval_batch_size):
        if feature_files is not None:
            block4 = np.stack([np.load(path) for path in feature_files[start:start + ms.eval_batch_size]])
        else:
            block4 = feature_model(model).predict_on_batch(images[start:start + ms.eval_batch_size].astype(np.float32))
        batches.append(np.asarray(features.predict_on_batch(np.asarray(block4, np.float32))))
    probe = fit_probe(np.concatenate(batches), labels, ms.seed)
    scaler, regression = probe[0], probe[-1]
    kernel, bias = model.get_layer(PREDICTIONS).get_weights()
    weights = regression.coef_ / scaler.scale_  # the scaler folded into the layer: W (x - mean) / scale + b
    intercepts = regression.intercept_ - weights @ scaler.mean_
    if len(regression.classes_) == 2:  # scikit-learn keeps one row of weights for two classes
        weights, intercepts = np.stack([-weights[0] / 2, weights[0] / 2]), np.array([-intercepts[0] / 2, intercepts[0] / 2])
    kernel[:] = 0.0
    bias[:] = -30.0  # a class the train split lacks is never predicted
    kernel[:, regression.classes_] = weights.T
    bias[regression.classes_] = intercepts
    model.get_layer(PREDICTIONS).set_weights([kernel, bias])


def _cached(model, cache, paths, hashes, ms: ModelSettings, copies: int, engine: EngineSettings):
    try:
        return ensure_features(model, cache, paths, hashes, copies=copies, model_settings=ms, seed=ms.seed,
                               batch_size=ms.eval_batch_size, engine=engine)
    except (ImageError, FeatureCachingError) as exc:
        raise DataError(f"cannot read a training photo: {exc}") from None

