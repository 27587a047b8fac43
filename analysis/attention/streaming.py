"""Every per-image attention metric over a run, in chunks: memory stays flat in the number of images.

The maps come memory-mapped from `attention/maps.npy`; each chunk of `chunk_size` maps is read as
float32 together with the masks of its images (decoded one photo at a time and shrunk to the
grid at once), scored with the vectorised metric functions, and dropped. What accumulates is
ten floats per image. `in_memory_metrics` computes the same from fully loaded arrays; a test
asserts that both agree.

`time_per_1000` times the streamed computation on synthetic demo-sized maps and masks written to
a temporary folder (mask decoding included), for `make bench`.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analysis.attention import METRICS, ZONE_COLUMNS, ZONES, AttentionError
from analysis.attention.localisation import energy_pointing_game, mass_on_figure, pointing_game
from analysis.attention.masks import box_fractions, figure_extent, load_figure_mask, load_zone_labels, to_grid
from analysis.attention.zones import grid_from_figure, grid_from_labels, zone_profile
from core.config import AttentionSettings
from core.logs import progress_bar

STATUS_COLUMNS = ("zones_exact", "mask_problem")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GridMasks:
    """One image's masks on the map's grid: figure fraction, bounding-box fraction, zone fractions (4, h, w)."""

    figure: np.ndarray
    box: np.ndarray
    zones: np.ndarray
    zones_exact: bool


def grid_masks(
    figure_path: str, zones_path: str, grid: tuple[int, int], settings: AttentionSettings
) -> GridMasks:
    """Load an image's masks and bring them to the grid; raises `AttentionError` when it has no usable figure."""
    if not str(figure_path or "").strip():
        raise AttentionError("no figure mask")
    mask = load_figure_mask(figure_path)
    extent = figure_extent(mask, settings.inside_threshold)
    if extent is None:
        raise AttentionError(f"figure mask {Path(figure_path).name} is empty (no figure found)")
    exact = bool(str(zones_path or "").strip())
    if exact:
        zones, figure = grid_from_labels(load_zone_labels(zones_path), grid), to_grid(mask, grid)
    else:
        zones = grid_from_figure(mask, grid, settings.zone_proportions, settings.inside_threshold)
        figure = zones.sum(axis=0)  # derived zones partition the mask exactly: their sum is its grid
    return GridMasks(figure=figure, box=box_fractions(extent, mask.shape, grid), zones=zones, zones_exact=exact)


def score_chunk(maps: np.ndarray, masks: Sequence[GridMasks], inside_threshold: float = 0.5) -> dict[str, np.ndarray]:
    """The per-image metrics of a chunk of maps (n, h, w) with their masks, as {column: (n,) array}."""
    figure = np.stack([m.figure for m in masks])
    box = np.stack([m.box for m in masks])
    zones = np.stack([m.zones for m in masks])
    profile = zone_profile(maps, zones)
    columns = {
        "mass_on_figure": mass_on_figure(maps, figure),
        "pointing_game": pointing_game(maps, figure, inside_threshold),
        "energy_pointing_game": energy_pointing_game(maps, box),
    }
    columns.update({column: profile[:, k] for k, column in enumerate(ZONE_COLUMNS)})
    return columns


def _empty_frame(n: int) -> pd.DataFrame:
    frame = pd.DataFrame({column: np.full(n, np.nan) for column in (*METRICS, *ZONE_COLUMNS)})
    frame["zones_exact"] = pd.array([pd.NA] * n, dtype="boolean")
    frame["mask_problem"] = ""
    return frame


def _check_inputs(maps, figure_paths, zones_paths) -> None:
    if np.ndim(maps) != 3:
        raise AttentionError(f"attention maps must be (N, h, w), got shape {np.shape(maps)}")
    if not (len(maps) == len(figure_paths) == len(zones_paths)):
        raise AttentionError(
            f"{len(maps)} attention maps but {len(figure_paths)} figure masks and {len(zones_paths)} zone masks;"
            " maps.npy and predictions.csv must have aligned rows (rerun `python -m model evaluate`)"
        )


def _masks_for(rows: Iterable[int], figure_paths, zones_paths, grid, settings, frame) -> tuple[list[int], list[GridMasks]]:
    usable, masks = [], []
    for row in rows:
        try:
            masks.append(grid_masks(figure_paths[row], zones_paths[row], grid, settings))
        except AttentionError as exc:
            frame.at[row, "mask_problem"] = str(exc)
            continue
        usable.append(row)
    return usable, masks


def stream_metrics(
    maps: np.ndarray,
    figure_paths: Sequence[str],
    zones_paths: Sequence[str],
    settings: AttentionSettings | None = None,
    *,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Per-image metrics, computed chunk by chunk; `maps` may be a memory map (N, h, w).

    Returns one row per map: the metric columns (NaN where the image has no usable mask),
    `zones_exact` (generator's zones vs derived from the figure) and `mask_problem` (why not).
    """
    settings = settings or AttentionSettings()
    _check_inputs(maps, figure_paths, zones_paths)
    chunk_size = chunk_size or settings.chunk_size
    if chunk_size < 1:
        raise AttentionError(f"chunk size must be at least 1, got {chunk_size}")
    n, grid = len(maps), tuple(maps.shape[1:])
    frame = _empty_frame(n)
    # The products here are small; a multi-threaded BLAS only adds contention (40x slower on a busy 2-core box).
    with threadpool_limits(1, user_api="blas"), progress_bar(total=n, logger=log, desc="attention metrics",
                                                              unit="img") as bar:
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            usable, masks = _masks_for(range(start, stop), figure_paths, zones_paths, grid, settings, frame)
            if usable:
                chunk = np.asarray(maps[start:stop], dtype=np.float32)[np.asarray(usable) - start]
                for column, values in score_chunk(chunk, masks, settings.inside_threshold).items():
                    frame.loc[usable, column] = values
                frame.loc[usable, "zones_exact"] = [m.zones_exact for m in masks]
            bar.update(stop - start)
    return frame


def in_memory_metrics(
    maps: np.ndarray, figure_paths: Sequence[str], zones_paths: Sequence[str], settings: AttentionSettings | None = None
) -> pd.DataFrame:
    """The same metrics from all maps and masks loaded at once (the reference the streaming is tested against)."""
    settings = settings or AttentionSettings()
    _check_inputs(maps, figure_paths, zones_paths)
    maps = np.asarray(maps, dtype=np.float32)
    frame = _empty_frame(len(maps))
    with threadpool_limits(1, user_api="blas"):
        usable, masks = _masks_for(range(len(maps)), figure_paths, zones_paths, tuple(maps.shape[1:]), settings, frame)
    if usable:
        for column, values in score_chunk(maps[usable], masks, settings.inside_threshold).items():
            frame.loc[usable, column] = values
        frame.loc[usable, "zones_exact"] = [m.zones_exact for m in masks]
    return frame


# --------------------------------------------------------------------------- timing for `make bench`


def synthetic_run(folder: Path, n_images: int, grid: int = 28, mask_size: tuple[int, int] = (192, 288),
                  seed: int = 0) -> tuple[Path, list[str], list[str]]:
    """Write n random softmax maps (float16 .npy) and demo-like figure and zone masks; return their paths."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    logits = rng.normal(size=(n_images, grid, grid)).astype(np.float32) * 2.0
    maps = np.exp(logits) / np.exp(logits).sum(axis=(1, 2), keepdims=True)
    maps_path = folder / "maps.npy"
    np.save(maps_path, maps.astype(np.float16))
    width, height = mask_size
    figures, zones = [], []
    for i in range(n_images):
        labels = np.zeros((height, width), np.uint8)
        margin, half = max(2, height // 8), int(rng.integers(max(1, width // 10), max(2, width // 3)))
        top, bottom = int(rng.integers(1, margin)), height - int(rng.integers(1, margin))
        left, right = width // 2 - half, width // 2 + half
        bounds = top + np.round(np.cumsum([0, 0.13, 0.32, 0.45, 0.10]) * (bottom - top)).astype(int)
        for label in range(1, len(ZONES) + 1):
            labels[bounds[label - 1]:bounds[label], left:right] = label
        figures.append(str(folder / f"{i:05d}.png"))
        zones.append(str(folder / f"{i:05d}.zones.png") if i % 2 == 0 else "")  # half derive their zones
        Image.fromarray(np.where(labels > 0, 255, 0).astype(np.uint8)).save(figures[-1])
        if zones[-1]:
            Image.fromarray(labels).save(zones[-1])
    return maps_path, figures, zones


def time_per_1000(n_images: int = 1000, grid: int = 28, mask_size: tuple[int, int] = (192, 288),
                  settings: AttentionSettings | None = None, workdir: str | os.PathLike | None = None) -> dict:
    """Seconds to compute every attention metric for 1,000 images (streamed, masks decoded), plus the bootstrap.

    Returns {"n_images", "grid", "mask_size", "metrics_seconds", "bootstrap_seconds", "seconds_per_1000"}.
    """
    from analysis.attention.bootstrap import per_brand_stats

    settings = settings or AttentionSettings()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        maps_path, figures, zones = synthetic_run(Path(tmp), n_images, grid, mask_size)
        maps = np.load(maps_path, mmap_mode="r")
        started = time.perf_counter()
        frame = stream_metrics(maps, figures, zones, settings)
        metrics_seconds = time.perf_counter() - started
    frame["brand"] = [f"brand {i % 6}" for i in range(n_images)]
    started = time.perf_counter()
    for column in (*METRICS, *ZONE_COLUMNS):
        per_brand_stats(frame, column, resamples=settings.bootstrap_resamples,
                        confidence=settings.confidence_level, seed=settings.seed)
    bootstrap_seconds = time.perf_counter() - started
    return {
        "n_images": n_images,
        "grid": grid,
        "mask_size": list(mask_size),
        "metrics_seconds": round(metrics_seconds, 3),
        "bootstrap_seconds": round(bootstrap_seconds, 3),
        "seconds_per_1000": round((metrics_seconds + bootstrap_seconds) * 1000 / n_images, 3),
    }
