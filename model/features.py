"""The fast path's feature cache: block4_conv3 outputs computed once per image and kept on disk.

Block1–4 are frozen and come before the attention, so their output for a given photo never
changes during training. The cache lives in `cache/features/<key>/`, where the key hashes
everything a feature depends on: image size, resize filter, pixel scaling, the block1–4 weight
values and the stored dtype. Inside it each photo is stored under its own content hash (sha256 of
the file the model reads), so raw and background-removed photos never collide and two datasets
sharing photos share their features:

    <key>/meta.json                       what the key stands for
    <key>/orig/ab/<sha256>.npy            the un-augmented photo
    <key>/aug-<augkey>/ab/<sha256>-<k>.npy  augmented copy k (thesis flip/rotation/translation)

Every file is written atomically, so an interrupted caching run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import numpy as np

from core.config import EngineSettings, ModelSettings
from core.engine import limit_tensorflow_threads, planned_workers, run_tasks, runs_here, threads_per_worker
from core.fileio import atomic_path, sha256_file, write_json_atomic
from core.images import ImageError
from core.logs import progress_bar
from model.network import FEATURE_LAYER, augmentation_layers, feature_model, feature_weights_hash
from model.preprocess import load_model_input

CACHE_DTYPES = ("float32", "float16")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheSpec:
    image_size: int
    preprocess: str
    resize_filter: str
    weights_sha256: str
    dtype: str = "float32"
    layer: str = FEATURE_LAYER

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class AugmentSpec:
    """What an augmented copy depends on besides the photo: the thesis's augmentation and the seed."""

    rotation_radians: float
    translation_pixels: int
    seed: int

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


class FeatureCache:
    def __init__(self, root: Path, spec: CacheSpec):
        if spec.dtype not in CACHE_DTYPES:
            raise ValueError(f"unknown feature cache dtype {spec.dtype!r}; expected one of {', '.join(CACHE_DTYPES)}")
        self.spec = spec
        self.folder = Path(root) / spec.key

    def original(self, sha256: str) -> Path:
        return self.folder / "orig" / sha256[:2] / f"{sha256}.npy"

    def augmented(self, sha256: str, copy: int, augment: AugmentSpec) -> Path:
        return self.folder / f"aug-{augment.key}" / sha256[:2] / f"{sha256}-{copy}.npy"

    def write_meta(self, augment: AugmentSpec | None = None) -> None:
        meta = {"key": self.spec.key, **asdict(self.spec)}
        if augment is not None:
            meta[f"aug-{augment.key}"] = asdict(augment)
        existing = json.loads((self.folder / "meta.json").read_text()) if (self.folder / "meta.json").is_file() else {}
        if {**existing, **meta} != existing:
            write_json_atomic(self.folder / "meta.json", {**existing, **meta})


def cache_for(model: keras.Model, root: Path, image_size: int, preprocess: str, resize_filter: str,
              dtype: str = "float32") -> FeatureCache:
    spec = CacheSpec(image_size, preprocess, resize_filter, feature_weights_hash(model), dtype)
    return FeatureCache(root, spec)


def content_hashes(paths: list[str]) -> list[str]:
    """sha256 of each file the model reads (not the manifest column, which names the original photo)."""
    return [sha256_file(path) for path in paths]


def augment_image(layers: list[keras.layers.Layer], image: np.ndarray, seed: int) -> np.ndarray:
    """One augmented draw of a (S, S, 3) image, a pure function of (image, seed)."""
    batch = image[None].astype(np.float32)
    for offset, layer in enumerate(layers):
        # An integer seed makes Keras' random ops stateless: the same copy every time it is computed.
        transformation = layer.get_random_transformation(batch, training=True, seed=seed + offset)
        batch = layer.transform_images(batch, transformation, training=True)
    return np.asarray(batch)[0]


def _copy_seed(sha256: str, copy: int, seed: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{sha256}:{copy}".encode()).digest()[:4], "little")


def _save(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        np.save(tmp, array)


# --------------------------------------------------------------------------- one batch (runs on a worker)


@dataclass(frozen=True)
class FeatureBatch:
    """Photos a worker turns into feature files: (photo path, content sha256, copy number, output file),
    copy 0 being the un-augmented photo."""

    items: tuple[tuple[str, str, int, str], ...]


@dataclass
class FeatureWorker:
    extractor: keras.Model
    augmentation: list
    image_size: int
    resize_filter: str
    dtype: str
    seed: int


def extractor_spec(model: keras.Model, cache: FeatureCache, model_settings: ModelSettings | None, seed: int,
                   threads: int | None) -> dict:
    """What a worker needs: block1–4 itself when it runs in this process (`threads` None); otherwise what
    rebuilds it exactly in another process (the architecture and the weight values, so random-weight test
    models travel too) and its thread count. Plus the augmentation's settings."""
    extractor = feature_model(model)
    spec = {"model_settings": model_settings, "seed": seed, "image_size": cache.spec.image_size,
            "resize_filter": cache.spec.resize_filter, "dtype": cache.spec.dtype, "threads": threads}
    if threads is None:
        return {**spec, "extractor": extractor}
    return {**spec, "config": extractor.to_json(), "weights": extractor.get_weights()}


def feature_worker(spec: dict) -> FeatureWorker:
    """A worker's block1–4 extractor, built once per worker process (the engine's `make_worker`)."""
    extractor = spec.get("extractor")
    if extractor is None:
        limit_tensorflow_threads(spec["threads"])
        extractor = keras.models.model_from_json(spec["config"])
        extractor.set_weights(spec["weights"])
    augmentation = augmentation_layers(spec["model_settings"], spec["seed"]) if spec["model_settings"] else []
    return FeatureWorker(extractor, augmentation, spec["image_size"], spec["resize_filter"], spec["dtype"],
                         spec["seed"])


def cache_batch(worker: FeatureWorker, batch: FeatureBatch) -> tuple[FeatureBatch, str]:
    """Compute and atomically write one batch's features (the engine's `work`); ("", ok) or the reason."""
    try:
        images = []
        for path, sha256, copy, _ in batch.items:
            image = load_model_input(path, worker.image_size, worker.resize_filter)
            if copy:
                image = augment_image(worker.augmentation, image, _copy_seed(sha256, copy, worker.seed))
            images.append(image)
        features = np.asarray(worker.extractor.predict_on_batch(np.stack(images).astype(np.float32)))
    except ImageError as exc:
        return batch, str(exc)
    for (*_, output), feature in zip(batch.items, features, strict=True):
        _save(Path(output), feature.astype(np.dtype(worker.dtype)))
    return batch, ""


def lost_batch(batch: FeatureBatch, reason: str) -> tuple[FeatureBatch, str]:
    return batch, reason


class FeatureCachingError(RuntimeError):
    """Some photos' features could not be computed; what is cached stays, and a rerun resumes."""


def ensure_features(
    model: keras.Model,
    cache: FeatureCache,
    paths: list[str],
    hashes: list[str],
    *,
    copies: int = 0,
    model_settings: ModelSettings | None = None,
    seed: int = 0,
    batch_size: int = 32,
    engine: EngineSettings | None = None,
) -> list[list[Path]]:
    """Compute what is missing from the cache, on the chosen engine (in this process by default); return,
    per image, its original and K augmented files."""
    augment = None
    if copies:
        augment = AugmentSpec(model_settings.rotation_radians, model_settings.translation_pixels, seed)
    cache.write_meta(augment)
    files = [[cache.original(h)] + [cache.augmented(h, k, augment) for k in range(1, copies + 1)] for h in hashes]
    todo = [(paths[i], hashes[i], k, str(path)) for i, row in enumerate(files) for k, path in enumerate(row)
            if not path.is_file()]
    if not todo:
        return files
    engine = engine or EngineSettings()
    batches = [FeatureBatch(tuple(todo[start:start + batch_size])) for start in range(0, len(todo), batch_size)]
    workers = planned_workers(engine, len(batches))
    in_process = runs_here(engine, workers)
    spec = extractor_spec(model, cache, model_settings if copies else None, seed,
                          None if in_process else threads_per_worker(workers))
    bar = progress_bar(total=len(todo), logger=log, desc="caching block4 features", unit="img")
    results = run_tasks(batches, make_worker=feature_worker, spec=spec, work=cache_batch, lost=lost_batch,
                        workers=workers, engine=engine, on_result=lambda result: bar.update(len(result[0].items)))
    bar.close()
    failed = [(batch, reason) for batch, reason in results if reason]
    if failed:
        photos = sum(len(batch.items) for batch, _ in failed)
        raise FeatureCachingError(f"{photos} photo(s) could not be cached ({failed[0][1]}); the rest are kept, "
                                  "and a rerun resumes")
    return files
