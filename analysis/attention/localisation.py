"""Does the attention fall on the figure? Mass on the figure, pointing game, energy-based pointing game.

All three take a batch of attention maps (n, h, w) and masks on the same grid (`masks.to_grid`),
and return one value per map. Maps are renormalised to sum to 1 (stored maps are float16 softmax
outputs, which sum to 1 only up to rounding).

- Mass on the figure: sum(map · figure) with the figure fraction per cell, i.e. the share of the
  attention that falls on figure pixels when a cell's attention is spread evenly over its footprint.
  All mass on full-figure cells gives 1.0; a uniform map gives the figure's area fraction.
- Pointing game (Zhang et al., "Top-down neural attention by excitation backprop", 2016/2018):
  a hit when the map's maximum lies on the figure (a cell at least half figure). Tied maxima share
  the vote: the score is the fraction of them on the figure, so a flat map scores chance, not
  whatever cell comes first.
- Energy-based pointing game (Wang et al., "Score-CAM", CVPR-W 2020, section 4.2): the share of
  the map's energy inside the figure's bounding box, sum(map · box) / sum(map). With a box rather
  than the mask it forgives attention on the gaps between arms and body that the mass metric counts
  as background.
"""

from __future__ import annotations

import numpy as np


def normalise_maps(maps: np.ndarray) -> np.ndarray:
    """(n, h, w) float64 maps that sum to 1 each (NaN for an all-zero map); one (h, w) map becomes (1, h, w)."""
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim == 2:
        maps = maps[None]
    if (maps < 0).any():
        raise ValueError("attention maps must be non-negative")
    totals = maps.sum(axis=(1, 2), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, maps / totals, np.nan)


def as_mask_batch(masks: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """`masks` as a float64 batch shaped like `maps`; a different grid is an error."""
    masks = np.asarray(masks, dtype=np.float64)
    masks = masks[None] if masks.ndim == 2 else masks
    if masks.shape != maps.shape:
        raise ValueError(f"maps {maps.shape} and masks {masks.shape} must share the grid (see masks.to_grid)")
    return masks


def mass_on_figure(maps: np.ndarray, figure: np.ndarray) -> np.ndarray:
    """Share of each map's attention on the figure; `figure` holds the figure fraction per cell (0..1)."""
    maps = normalise_maps(maps)
    return np.sum(maps * as_mask_batch(figure, maps), axis=(1, 2))


def pointing_game(maps: np.ndarray, figure: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """1.0 when the maximum is on the figure, 0.0 when not; tied maxima score the share of them on it."""
    maps = normalise_maps(maps)
    inside = as_mask_batch(figure, maps) >= threshold
    flat, inside = maps.reshape(len(maps), -1), inside.reshape(len(maps), -1)
    empty = np.isnan(flat).all(axis=1)  # an all-zero map has no maximum to point with
    flat = np.where(np.isnan(flat), -np.inf, flat)
    tied = flat >= flat.max(axis=1, keepdims=True)
    return np.where(empty, np.nan, (tied & inside).sum(axis=1) / tied.sum(axis=1))


def energy_pointing_game(maps: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Score-CAM's energy-based pointing game: share of the energy inside the bounding box (cell fractions)."""
    maps = normalise_maps(maps)
    return np.sum(maps * as_mask_batch(box, maps), axis=(1, 2))
