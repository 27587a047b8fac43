"""Throughput of the network on this machine: forward pass, end-to-end training, and the fast path.

    python -m bench.model_throughput --images 128 --image-size 224 --batch-size 32

All paths see the same images (seeded random pixels: throughput does not depend on content).
Training rates are steady-state: the first epoch (graph tracing) is timed separately and left out.
The fast path's cost is split into its one-off part (block1–4 forward per image and copy, i.e.
filling the cache) and its per-epoch part (attention + block5 + head, forward and backward).
"""

from __future__ import annotations

import argparse
import json
import time

import keras
import numpy as np

from core.config import Settings, get_settings
from model.network import build_model, feature_model, tail_model


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else float("inf")


def _timed_fit(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int) -> list[float]:
    times = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: times.append(-time.perf_counter()),
        on_epoch_end=lambda epoch, logs: times.__setitem__(-1, times[-1] + time.perf_counter()),
    )
    model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0, callbacks=[timer])
    return times


def benchmark(images: int = 128, image_size: int = 224, batch_size: int = 32, epochs: int = 3, classes: int = 6,
              weights: str | None = None, settings: Settings | None = None) -> dict:
    """img/s for: full forward, end-to-end training, block1–4 feature caching, tail training from features."""
    settings = settings or get_settings()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(images, image_size, image_size, 3)).astype(np.float32)
    labels = rng.integers(0, classes, size=images)
    y = keras.utils.to_categorical(labels, classes)
    keras.utils.set_random_seed(0)
    model = build_model(classes, image_size, weights=weights, settings=settings)

    model.predict_on_batch(x[:batch_size])  # trace once
    started = time.perf_counter()
    for start in range(0, images, batch_size):
        model.predict_on_batch(x[start : start + batch_size])
    forward = _rate(images, time.perf_counter() - started)

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    end_to_end = _timed_fit(model, x, y, batch_size, epochs)

    extractor = feature_model(model)
    extractor.predict_on_batch(x[:batch_size])
    started = time.perf_counter()
    features = np.concatenate([np.asarray(extractor.predict_on_batch(x[s : s + batch_size]))
                               for s in range(0, images, batch_size)])
    caching = _rate(images, time.perf_counter() - started)

    tail = tail_model(model)
    tail.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    fast = _timed_fit(tail, features, y, batch_size, epochs)

    steady = slice(1, None) if epochs > 1 else slice(None)
    return {
        "images": images, "image_size": image_size, "batch_size": batch_size, "epochs_timed": epochs,
        "weights": "imagenet" if weights else "random (same cost)",
        "forward_images_per_second": forward,
        "end_to_end_train_images_per_second": _rate(images * len(end_to_end[steady]), sum(end_to_end[steady])),
        "end_to_end_first_epoch_seconds": round(end_to_end[0], 2),
        "feature_cache_images_per_second": caching,
        "fast_path_train_images_per_second": _rate(images * len(fast[steady]), sum(fast[steady])),
        "fast_path_first_epoch_seconds": round(fast[0], 2),
        "feature_megabytes_per_image_float32": round(features[0].nbytes / 1e6, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.model_throughput", description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed per path (the first is excluded)")
    parser.add_argument("--weights", choices=("imagenet", "random"), default="random")
    args = parser.parse_args(argv)
    result = benchmark(args.images, args.image_size, args.batch_size, args.epochs,
                       weights="imagenet" if args.weights == "imagenet" else None, settings=get_settings())
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
