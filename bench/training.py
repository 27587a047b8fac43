"""Training throughput: the end-to-end path against the cached-feature fast path, same data and model.

The measurement is the model engineer's `bench.model_throughput.benchmark` (one process: the same seeded
images, the same network, first epoch of each path left out as warm-up). This module picks the
sizes, adds the ratio and what the fast path costs once (filling the feature cache), and labels
the device, so a GPU figure is never mistaken for a CPU one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.harness import Row

GOAL_SPEEDUP = 4.0  # the fast path must be at least this many times the end-to-end rate on CPU


@dataclass(frozen=True)
class Sizes:
    images: int
    image_size: int
    batch_size: int
    epochs: int  # the first is warm-up, the rest are timed


FULL = Sizes(images=64, image_size=224, batch_size=32, epochs=3)
QUICK = Sizes(images=16, image_size=224, batch_size=16, epochs=2)


def device_label() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"GPU ({len(gpus)}× {gpus[0].name})" if gpus else "CPU"


def layer_gmacs(layer) -> float:
    """Multiply-adds (G) of one Conv2D or Dense layer for one image, from its built output shape."""
    import keras

    if isinstance(layer, keras.layers.Conv2D):
        kernel = layer.kernel.shape  # (kh, kw, in, out)
        height, width = layer.output.shape[1:3]
        return height * width * int(np.prod(kernel)) / 1e9
    if isinstance(layer, keras.layers.Dense):
        positions = int(np.prod(layer.output.shape[1:-1])) if len(layer.output.shape) > 2 else 1
        return positions * int(np.prod(layer.kernel.shape)) / 1e9
    return 0.0


def flop_bound(image_size: int, settings) -> dict:
    """Multiply-adds per image of each path's training step, and the speedup they allow.

    End to end: block1–4 forward (frozen, no backward: nothing before them trains) plus the tail
    forward and backward. Fast path: the tail forward and backward only. The tail's backward is
    counted as one more forward (gradients through the frozen block5 convs are one input-gradient
    pass each; the trainable layers are small), so the bound is (front + 2·tail) / (2·tail).
    """
    from model.network import build_model, feature_model

    model = build_model(6, image_size, weights=None, settings=settings)
    front_names = {layer.name for layer in feature_model(model).layers}
    front = sum(layer_gmacs(layer) for layer in model.layers if layer.name in front_names)
    tail = sum(layer_gmacs(layer) for layer in model.layers if layer.name not in front_names)
    return {"front_gmac": round(front, 3), "tail_gmac": round(tail, 3),
            "speedup_bound": round((front + 2 * tail) / (2 * tail), 2)}


def amortised_speedup(measured: dict, epochs: int) -> float:
    """End-to-end time over fast-path time for an `epochs`-epoch run, the one-off cache fill included."""
    per_image_end_to_end = epochs / measured["end_to_end_train_images_per_second"]
    per_image_fast = 1 / measured["feature_cache_images_per_second"] + epochs / measured[
        "fast_path_train_images_per_second"]
    return per_image_end_to_end / per_image_fast


def run(settings, quick: bool = False) -> dict:
    from bench.model_throughput import benchmark
    from core.config import PROFILES, profile_settings

    sizes = QUICK if quick else FULL
    measured = benchmark(images=sizes.images, image_size=sizes.image_size, batch_size=sizes.batch_size,
                         epochs=sizes.epochs, settings=settings)
    end_to_end = measured["end_to_end_train_images_per_second"]
    cached = measured["fast_path_train_images_per_second"]
    speedup = cached / end_to_end
    return {
        "end_to_end_img_per_s": end_to_end,
        "cached_img_per_s": cached,
        "speedup": round(speedup, 2),
        "goal": f">= {GOAL_SPEEDUP:g}x on CPU",
        "goal_met": speedup >= GOAL_SPEEDUP,
        "device": device_label(),
        "feature_cache_fill_img_per_s": measured["feature_cache_images_per_second"],
        "forward_img_per_s": measured["forward_images_per_second"],
        "amortised_speedup": {f"{name} profile, {epochs} epochs": round(amortised_speedup(measured, epochs), 2)
                              for name in PROFILES
                              for epochs in [profile_settings(name, settings).model.epochs]},
        "flop_bound": flop_bound(sizes.image_size, settings),
        "measured_by": "bench.model_throughput.benchmark",
        "details": measured,
    }


def rows(result: dict) -> list[Row]:
    device = result.get("device", "CPU")
    return [
        Row(f"end-to-end training ({device})", result["end_to_end_img_per_s"], "img/s"),
        Row(f"cached-feature training ({device})", result["cached_img_per_s"], "img/s"),
        Row(f"fast-path speedup ({device})", result["speedup"], "×", f"≥ {GOAL_SPEEDUP:g}× on CPU",
            result["goal_met"] if device == "CPU" else None),
    ]


def notes(result: dict) -> list[str]:
    details = result["details"]
    lines = [
        f"Training: {details['images']} seeded random images of {details['image_size']} px, batch "
        f"{details['batch_size']}, {details['epochs_timed'] - 1} timed epoch(s) after a warm-up epoch, weights "
        f"{details['weights']}. Filling the feature cache (block1–4 forward, once per image) runs at "
        f"{result['feature_cache_fill_img_per_s']:,.1f} img/s; with that one-off cost included the fast path is "
        + ", ".join(f"{value:.1f}× faster over the {name}" for name, value in result["amortised_speedup"].items())
        + "."
    ]
    bound = result["flop_bound"]
    lines.append(
        f"Training work per image: block1–4 forward {bound['front_gmac']} G multiply-adds, the tail (attention, "
        f"block5, head) {bound['tail_gmac']} G forward; counting its backward as one more forward, the fast path "
        f"can be at most about {bound['speedup_bound']}× faster; measured {result['speedup']}×."
    )
    if not result["goal_met"] and result.get("device") == "CPU":
        share = result["speedup"] / bound["speedup_bound"]
        lines.append(
            f"Training speedup below goal: the measured ratio reaches {share:.0%} of the multiply-add bound"
            + (", so the bound itself is below the goal." if bound["speedup_bound"] < GOAL_SPEEDUP else
               "; the rest is time the fast path spends outside its multiply-adds, which weighs more on its "
               f"shorter steps (batch {details['batch_size']}, {details['images']} images per epoch).")
        )
    return lines
