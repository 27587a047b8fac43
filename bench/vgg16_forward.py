"""VGG16 forward throughput at 224×224, in GFLOP/s, against a same-process numpy sgemm.

FLOPs are counted the way the sgemm's are, two per multiply-add, from the network's own conv
layers: 30.7 GFLOP per 224×224 image for VGG16 without its top. The often-quoted "15.5 GFLOP" is the
usual VGG16 figure in multiply-adds (15.5 G MACs with the dense top); comparing it with an sgemm
counted at 2·m·n·k would halve the apparent efficiency, so both counts are recorded.

The sgemm is block3_conv2 as an im2col product, (3136·B × 2304) @ (2304 × 256) in float32: the
shape one of VGG16's convolutions reduces to. It is timed before and after the network and the
median of both is the reference, so load that changes during the run shows up in both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from bench.harness import Row, median, time_call

SPEC_GFLOP_PER_IMAGE = 15.5  # the often-quoted figure: VGG16 multiply-adds at 224×224 (with the dense top)
GOAL_FRACTION_OF_SGEMM = 0.60
IMAGE_SIZE = 224


@dataclass(frozen=True)
class Sizes:
    batches: tuple[int, ...]
    repeats: int
    sgemm_rows: int  # rows of the im2col matrix: 3136 output pixels of block3 per image


FULL = Sizes(batches=(1, 8, 16, 32), repeats=3, sgemm_rows=3136 * 8)
QUICK = Sizes(batches=(1, 8), repeats=2, sgemm_rows=3136 * 2)


def conv_gflop_per_image(model, image_size: int = IMAGE_SIZE) -> float:
    """2 × multiply-adds of every Conv2D in `model` for one image_size² input (padding "same")."""
    import keras

    flops, side = 0, image_size
    for layer in model.layers:
        if isinstance(layer, keras.layers.MaxPooling2D):
            side //= layer.strides[0]
        elif isinstance(layer, keras.layers.Conv2D):
            kernel = layer.kernel.shape  # (kh, kw, in, out)
            flops += 2 * side * side * int(np.prod(kernel))
    return flops / 1e9


def sgemm_gflops(rows: int, inner: int = 2304, cols: int = 256, repeats: int = 5) -> float:
    """float32 matrix product rate of numpy's BLAS, median of `repeats` after two warm-ups."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((rows, inner), dtype=np.float32)
    b = rng.standard_normal((inner, cols), dtype=np.float32)
    seconds = median(time_call(lambda: a @ b, repeats=repeats, warmup=2))
    return 2.0 * rows * inner * cols / seconds / 1e9


def images_per_second(forward, batch_size: int, repeats: int) -> float:
    import tensorflow as tf

    batch = tf.constant(np.random.default_rng(0).uniform(0, 255, (batch_size, IMAGE_SIZE, IMAGE_SIZE, 3))
                        .astype("float32"))
    seconds = median(time_call(lambda: forward(batch).numpy(), repeats=repeats, warmup=1))
    return batch_size / seconds


def block_gflops(vgg, batch_size: int, repeats: int) -> dict[str, float]:
    """GFLOP/s of each VGG16 block (its convs and pool) alone: where the time goes."""
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # one tf.function per block is intended: silence the retracing warning
    rng = np.random.default_rng(0)
    blocks: dict[str, list] = {}
    for layer in vgg.layers:
        if layer.name.startswith("block"):
            blocks.setdefault(layer.name.split("_")[0], []).append(layer)
    rates, side, channels = {}, IMAGE_SIZE, 3
    for name, layers in blocks.items():
        inputs = tf.constant(rng.uniform(0, 1, (batch_size, side, side, channels)).astype("float32"))
        forward = tf.function(lambda x, layers=layers: _apply(layers, x))
        seconds = median(time_call(lambda f=forward, x=inputs: f(x).numpy(), repeats=repeats, warmup=1))
        convs = [layer for layer in layers if isinstance(layer, keras.layers.Conv2D)]
        flops = sum(2 * side * side * int(np.prod(layer.kernel.shape)) for layer in convs) * batch_size
        rates[name] = round(flops / seconds / 1e9, 2)
        side, channels = side // 2, int(convs[-1].kernel.shape[-1])
    return rates


def _apply(layers, x):
    for layer in layers:
        x = layer(x)
    return x


def thread_settings() -> dict:
    """What decides how many cores TensorFlow and numpy use here."""
    import tensorflow as tf

    from bench.harness import blas_info

    return {
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),  # 0: one per core
        "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86 CPUs)"),
        "numpy_blas": [pool for pool in blas_info() if pool["package"] == "numpy"],
    }


def run(settings, quick: bool = False) -> dict:
    import tensorflow as tf

    from model.assets import build_vgg16_notop, vgg16_weights_path

    sizes = QUICK if quick else FULL
    vgg = build_vgg16_notop(vgg16_weights_path(settings))
    gflop = conv_gflop_per_image(vgg)
    forward = tf.function(lambda x: vgg(x, training=False), reduce_retracing=True)

    sgemm_before = sgemm_gflops(sizes.sgemm_rows, repeats=sizes.repeats)
    by_batch = {batch: images_per_second(forward, batch, sizes.repeats) for batch in sizes.batches}
    best_batch = max(by_batch, key=by_batch.get)
    by_block = block_gflops(vgg, best_batch, sizes.repeats)
    sgemm_after = sgemm_gflops(sizes.sgemm_rows, repeats=sizes.repeats)
    sgemm = median([sgemm_before, sgemm_after])

    images = by_batch[best_batch]
    gflops = images * gflop
    fraction = gflops / sgemm
    return {
        "images_per_s": round(images, 3),
        "best_batch_size": best_batch,
        "images_per_s_by_batch": {str(batch): round(value, 3) for batch, value in by_batch.items()},
        "gflop_per_image": round(gflop, 2),
        "spec_gflop_per_image": SPEC_GFLOP_PER_IMAGE,
        "gflops": round(gflops, 2),
        "gflops_at_spec_count": round(images * SPEC_GFLOP_PER_IMAGE, 2),
        "gflops_by_block": by_block,
        "sgemm_gflops": round(sgemm, 2),
        "sgemm_gflops_before_after": [round(sgemm_before, 2), round(sgemm_after, 2)],
        "sgemm_shape": [sizes.sgemm_rows, 2304, 256],
        "fraction_of_sgemm": round(fraction, 3),
        "goal": f">= {GOAL_FRACTION_OF_SGEMM:.0%} of the same-run sgemm rate",
        "goal_met": fraction >= GOAL_FRACTION_OF_SGEMM,
        "threads": thread_settings(),
    }


def rows(result: dict) -> list[Row]:
    return [
        Row(f"VGG16 forward, 224 px, batch {result['best_batch_size']}", result["gflops"], "GFLOP/s"),
        Row("numpy sgemm, same run", result["sgemm_gflops"], "GFLOP/s"),
        Row("VGG16 forward / sgemm", result["fraction_of_sgemm"], "%", f"≥ {GOAL_FRACTION_OF_SGEMM:.0%}",
            result["goal_met"]),
    ]


def notes(result: dict) -> list[str]:
    threads = result["threads"]
    blas = ", ".join(f"{pool['library']} {pool['version']} ({pool['threads']} threads)"
                     for pool in threads["numpy_blas"] if pool.get("package") == "numpy") or "unknown"
    by_batch = ", ".join(f"batch {batch}: {value:,.2f} img/s" for batch, value in
                         result["images_per_s_by_batch"].items())
    lines = [
        f"VGG16 forward: {result['gflop_per_image']} GFLOP per image counted as 2 × multiply-adds (the often-quoted "
        f"{result['spec_gflop_per_image']} is the multiply-add count; at that count the rate would read "
        f"{result['gflops_at_spec_count']:,.1f} GFLOP/s). {by_batch}. TensorFlow intra-op threads "
        f"{threads['tf_intra_op_threads'] or 'default (one per core)'}, inter-op "
        f"{threads['tf_inter_op_threads'] or 'default'}, oneDNN {threads['onednn']}; numpy BLAS: {blas}. "
        f"sgemm before/after the network: {result['sgemm_gflops_before_after']} GFLOP/s.",
    ]
    if not result["goal_met"]:
        batches = list(result["images_per_s_by_batch"].values())
        spread = max(batches) / min(batches) if min(batches) > 0 else float("inf")
        blocks = result["gflops_by_block"]
        slowest = min(blocks, key=blocks.get)
        lines.append(
            f"VGG16 forward below goal ({result['fraction_of_sgemm']:.0%} of sgemm). Batch size changes the rate by "
            f"{spread:.2f}× between batch {min(result['images_per_s_by_batch'], key=int)} and the best. Per block "
            f"(GFLOP/s at batch {result['best_batch_size']}): "
            + ", ".join(f"{name} {value:,.1f}" for name, value in blocks.items())
            + f"; {slowest} is the slowest against the sgemm's {result['sgemm_gflops']:,.1f}."
        )
    return lines
