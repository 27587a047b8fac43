"""Aggregated-heatmap computation over N = 1k, 5k and 20k attention maps: time and peak memory.

The per-brand heat maps (thesis figures 3.8/3.9) are sums of native attention maps by true and by
predicted brand, upsampled once at the end (bilinear resizing is linear). `model.evaluation.evaluate`
keeps them with `np.add.at` into (C, h, w) accumulators one batch at a time; `accumulate` below does
the same four `np.add.at` calls on batches read from a memory-mapped float16 maps.npy, the run
folder's format, so memory holds one batch whatever N is. For contrast the same sums are computed
from the whole array loaded at once, whose peak grows with N.

Peak memory is Python's `tracemalloc` peak (numpy reports its buffers to it); pages of the memory
map are file cache, not allocations, which is the point of streaming.

`attention_metrics` adds the attention analytics engineer's own figure, every per-image attention
metric per 1,000 images (`analysis.attention.streaming.time_per_1000`).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.harness import Row, median, time_call

GRID = 28  # block4_conv3's grid at 224 px, the thesis's size
CLASSES = 6
IMAGE_SIZE = 224
FLAT_RATIO = 1.5  # "flat": the largest N's peak within this factor of the smallest N's


@dataclass(frozen=True)
class Sizes:
    counts: tuple[int, ...]
    repeats: int
    metrics_images: int


FULL = Sizes(counts=(1_000, 5_000, 20_000), repeats=5, metrics_images=1_000)
QUICK = Sizes(counts=(1_000, 5_000, 20_000), repeats=1, metrics_images=100)


def synthetic_maps(path: Path, n: int, grid: int = GRID, classes: int = CLASSES, seed: int = 0):
    """n softmax maps saved as float16 .npy (as evaluate writes them) and random true/predicted labels."""
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(n, grid, grid))
    for start in range(0, n, 1024):  # written in blocks, so making 20k maps needs no 20k-map buffer either
        logits = rng.normal(size=(min(1024, n - start), grid, grid)) * 2.0
        maps = np.exp(logits)
        out[start:start + len(maps)] = maps / maps.sum(axis=(1, 2), keepdims=True)
    out.flush()
    del out
    return rng.integers(0, classes, n), rng.integers(0, classes, n)


def accumulate(maps, y_true: np.ndarray, y_pred: np.ndarray, classes: int, batch_size: int) -> dict:
    """Per-brand sums and counts, batch by batch, with evaluate's accumulator; then upsampled once."""
    from model.maps import upsample

    grid = tuple(maps.shape[1:])
    sums = {"by_true_native": np.zeros((classes, *grid)), "by_pred_native": np.zeros((classes, *grid))}
    counts = {"count_by_true": np.zeros(classes, np.int64), "count_by_pred": np.zeros(classes, np.int64)}
    for start in range(0, len(maps), batch_size):
        stop = min(start + batch_size, len(maps))
        attention = np.asarray(maps[start:stop], dtype=np.float64)
        np.add.at(sums["by_true_native"], y_true[start:stop], attention)
        np.add.at(sums["by_pred_native"], y_pred[start:stop], attention)
        np.add.at(counts["count_by_true"], y_true[start:stop], 1)
        np.add.at(counts["count_by_pred"], y_pred[start:stop], 1)
    return {**sums, **counts,
            "by_true_upsampled": upsample(sums["by_true_native"], (IMAGE_SIZE, IMAGE_SIZE)),
            "by_pred_upsampled": upsample(sums["by_pred_native"], (IMAGE_SIZE, IMAGE_SIZE))}


def peak_bytes(fn) -> int:
    """tracemalloc's peak while `fn()` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(path: Path, y_true, y_pred, batch_size: int, repeats: int) -> dict:
    streamed = lambda: accumulate(np.load(path, mmap_mode="r"), y_true, y_pred, CLASSES, batch_size)  # noqa: E731
    loaded = lambda: accumulate(np.load(path), y_true, y_pred, CLASSES, len(y_true))  # noqa: E731
    reference, whole = streamed(), loaded()
    for key in ("by_true_native", "by_pred_native"):  # both ways must give the same sums
        if not np.allclose(reference[key], whole[key]):
            raise AssertionError(f"streamed and in-memory {key} differ")
    return {
        "seconds": round(median(time_call(streamed, repeats=repeats, warmup=1)), 4),
        "peak_mb": round(peak_bytes(streamed) / 1e6, 3),
        "in_memory_seconds": round(median(time_call(loaded, repeats=repeats, warmup=1)), 4),
        "in_memory_peak_mb": round(peak_bytes(loaded) / 1e6, 3),
    }


def run(settings, quick: bool = False) -> dict:
    from analysis.attention.streaming import time_per_1000

    sizes = QUICK if quick else FULL
    batch_size = settings.model.eval_batch_size
    by_n = {}
    with tempfile.TemporaryDirectory(prefix="bench-heatmaps-") as tmp:
        for n in sizes.counts:
            path = Path(tmp) / f"maps-{n}.npy"
            y_true, y_pred = synthetic_maps(path, n)
            by_n[str(n)] = measure(path, y_true, y_pred, batch_size, sizes.repeats)
            path.unlink()
        started = time.perf_counter()
        metrics = time_per_1000(n_images=sizes.metrics_images, settings=settings.attention, workdir=tmp)
        metrics["wall_seconds"] = round(time.perf_counter() - started, 3)
    peaks = [entry["peak_mb"] for entry in by_n.values()]
    growth = peaks[-1] / peaks[0]
    return {
        "grid": GRID,
        "classes": CLASSES,
        "batch_size": batch_size,
        "by_n": by_n,
        "peak_growth_largest_over_smallest": round(growth, 2),
        "goal": f"peak memory flat in N (largest N within {FLAT_RATIO}x of the smallest)",
        "goal_met": growth <= FLAT_RATIO,
        "attention_metrics": metrics,
    }


def rows(result: dict) -> list[Row]:
    rows_ = []
    for n, entry in result["by_n"].items():
        rows_ += [Row(f"aggregated heatmaps, N = {int(n):,}: time", entry["seconds"], "s"),
                  Row(f"aggregated heatmaps, N = {int(n):,}: peak memory", entry["peak_mb"], "MB")]
    rows_.append(Row("peak memory, largest N / smallest N", result["peak_growth_largest_over_smallest"], "×",
                     f"flat (≤ {FLAT_RATIO:g}×)", result["goal_met"]))
    metrics = result["attention_metrics"]
    rows_.append(Row("attention metrics per 1,000 images", metrics["seconds_per_1000"], "s"))
    return rows_


def notes(result: dict) -> list[str]:
    entries = result["by_n"]
    contrast = ", ".join(f"N = {int(n):,}: {entry['in_memory_peak_mb']:,.1f} MB" for n, entry in entries.items())
    metrics = result["attention_metrics"]
    return [
        f"Aggregated heatmaps: {result['grid']}×{result['grid']} maps, {result['classes']} brands, streamed in batches "
        f"of {result['batch_size']} (the evaluation batch) from a memory-mapped float16 maps.npy. Loading every map "
        f"at once instead peaks at {contrast}.",
        f"Attention metrics (analysis.attention.streaming.time_per_1000 on {metrics['n_images']} synthetic "
        f"images): metrics {metrics['metrics_seconds']} s, bootstrap {metrics['bootstrap_seconds']} s, "
        f"{metrics['seconds_per_1000']} s per 1,000 images.",
    ]
