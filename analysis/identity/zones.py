"""A photo's five zones (head, torso, legs, feet, background) as soft masks at any resolution.

The four figure zones come from `analysis.attention.zones`: the generator's exact labels where a
demo photo has them, otherwise the figure mask's vertical extent cut into bands of
`AttentionSettings.zone_proportions` (what a real photo with a rembg mask gets). The background is
what the figure is not, so the five zones partition every pixel. A stack is brought to a model's
grid or input size by exact area averaging (`analysis.attention.masks.to_grid`), the way the photo
itself is squashed to a square.
"""

from __future__ import annotations

import numpy as np

from analysis.attention import AttentionError
from analysis.attention.masks import figure_extent, load_figure_mask, load_zone_labels, to_grid
from analysis.attention.zones import stack_from_figure, stack_from_labels
from analysis.identity import ZONES
from core.config import AttentionSettings


def full_stack(figure_path: str, zones_path: str, attention: AttentionSettings, use_labels: bool = True) -> np.ndarray:
    """(5, H, W) float32 zone fractions of one photo at its mask's size; raises `AttentionError` without a usable mask.

    `use_labels=False` ignores the exact labels and derives bands from the figure mask, as for real photos.
    """
    if use_labels and str(zones_path or "").strip():
        labels = load_zone_labels(zones_path)
        figure_zones = stack_from_labels(labels)
        background = (labels == 0).astype(np.float32)[None]
        return np.concatenate([figure_zones, background]).astype(np.float32)
    if not str(figure_path or "").strip():
        raise AttentionError("no figure mask")
    mask = load_figure_mask(figure_path)
    if figure_extent(mask, attention.inside_threshold) is None:
        raise AttentionError("the figure mask is empty (no figure found)")
    figure_zones = stack_from_figure(mask, attention.zone_proportions, attention.inside_threshold)
    return np.concatenate([figure_zones, np.clip(1.0 - mask, 0.0, 1.0)[None]]).astype(np.float32)


def resize_stack(stack: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A (5, H, W) stack area-averaged to (5, h, w): the fraction of each cell that is each zone."""
    return to_grid(stack, tuple(shape))


def heat_shares(heat: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """(5,) share of a non-negative heat map's mass on each zone; `zones` (5, h, w) on the map's grid. NaN for a zero map."""
    heat = np.asarray(heat, dtype=np.float64)
    zones = np.asarray(zones, dtype=np.float64)
    if zones.shape != (len(ZONES), *heat.shape):
        raise ValueError(f"zones must be ({len(ZONES)}, {heat.shape[0]}, {heat.shape[1]}), got {zones.shape}")
    mass = np.einsum("hw,khw->k", heat, zones)
    total = mass.sum()
    return mass / total if total > 0 else np.full(len(ZONES), np.nan)
