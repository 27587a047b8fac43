"""A photo's five zones (head, torso, legs, feet, background) as soft masks at any resolution.

The four figure zones come from `analysis.attention.zones`: the generator's exact labels where a
demo photo has them, otherwise the figure mask's vertical extent cut into bands of
`AttentionSettings.zone_proportions` (what a real photo with a rembg mask gets). The background is
what the figure is not, so the five zones partition every pixel. Masks are brought to a model's
grid or input size by exact area averaging (`analysis.attention.masks.area_weights`), the way the
photo itself is squashed to a square.
"""

from __future__ import annotations

import numpy as np

from analysis.attention import AttentionError
from analysis.attention.masks import load_figure_mask, load_zone_labels
from analysis.attention.zones import grid_from_figure, grid_from_labels
from analysis.identity import ZONES
from core.config import AttentionSettings


def zone_grid(figure_path: str, zones_path: str, shape: tuple[int, int], attention: AttentionSettings,
              use_labels: bool = True) -> np.ndarray:
    """(5, h, w) float32: the fraction of each cell of a (h, w) grid that is each of `ZONES`, for one photo.

    Exact labels where the photo has them (and `use_labels`), else bands of the figure mask. Both are
    area-averaged straight to the grid, never built at the mask's size (real photos' masks are
    megapixels). Raises `AttentionError` without a usable mask.
    """
    shape = tuple(int(v) for v in shape)
    if use_labels and str(zones_path or "").strip():
        return with_background(grid_from_labels(load_zone_labels(zones_path), shape))
    if not str(figure_path or "").strip():
        raise AttentionError("no figure mask")
    return zones_of_mask(load_figure_mask(figure_path), shape, attention)


def zones_of_mask(mask: np.ndarray, shape: tuple[int, int], attention: AttentionSettings) -> np.ndarray:
    """(5, h, w) zone fractions of a (h, w) grid from a figure mask (H, W) in [0, 1] at any resolution: bands of
    the figure's height. Raises `AttentionError` for an empty mask."""
    figure_zones = grid_from_figure(np.asarray(mask, np.float32), tuple(int(v) for v in shape),
                                    attention.zone_proportions, attention.inside_threshold)
    if figure_zones is None:
        raise AttentionError("the figure mask is empty (no figure found)")
    return with_background(figure_zones)


def with_background(figure_zones: np.ndarray) -> np.ndarray:
    """The four figure zones and the background, which is what they leave: each cell's fractions add up to 1."""
    background = np.clip(1.0 - figure_zones.sum(axis=0), 0.0, 1.0)
    return np.concatenate([figure_zones, background[None]]).astype(np.float32)


def heat_shares(heat: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """(5,) share of a non-negative heat map's mass on each zone; `zones` (5, h, w) on the map's grid. NaN for a zero map."""
    heat = np.asarray(heat, dtype=np.float64)
    zones = np.asarray(zones, dtype=np.float64)
    if zones.shape != (len(ZONES), *heat.shape):
        raise ValueError(f"zones must be ({len(ZONES)}, {heat.shape[0]}, {heat.shape[1]}), got {zones.shape}")
    mass = np.einsum("hw,khw->k", heat, zones)
    total = mass.sum()
    return mass / total if total > 0 else np.full(len(ZONES), np.nan)
