"""Figure masks on the attention map's grid.

The attention map lives on block4_conv3's grid (28×28 at 224 px), and every metric compares it
with the masks at that native resolution: the map is never upsampled. The network squashes the
whole photo to a square, so the whole mask is squashed the same way, and each grid cell covers the
same part of the photo in both. A mask is brought to the grid by area averaging
(`cv2.INTER_AREA`), so a cell's value is the fraction of its footprint that is figure (0..1),
not a thresholded guess.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from analysis.attention import AttentionError


def load_figure_mask(path: str | os.PathLike) -> np.ndarray:
    """A figure mask PNG (0/255, or rembg's soft alpha) as float32 in [0, 1] at its own size."""
    return _open_array(path, "figure mask", as_labels=False).astype(np.float32) / 255.0


def load_zone_labels(path: str | os.PathLike) -> np.ndarray:
    """A body-zone label PNG (0 background, 1 head, 2 torso, 3 legs, 4 feet) as uint8 labels."""
    labels = _open_array(path, "zones mask", as_labels=True)
    if labels.size and labels.max() > 4:
        raise AttentionError(f"{path}: zones mask has label {int(labels.max())}; expected 0..4 (bg, head, torso, legs, feet)")
    return labels


def _open_array(path: str | os.PathLike, what: str, as_labels: bool) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise AttentionError(f"{what} not found: {path}")
    try:
        with Image.open(path) as image:
            image.load()
            # Labels are read as stored (a palette PNG's indices are the labels); a figure mask as luminance.
            if as_labels and image.mode in ("P", "L", "I", "I;16"):
                array = np.asarray(image)
            elif image.mode in ("RGBA", "LA") and not as_labels:
                array = np.asarray(image.getchannel("A"))  # a cut-out: the alpha is the mask
            else:
                array = np.asarray(image.convert("L"))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise AttentionError(f"{what} {path} is unreadable ({exc})") from None
    if array.ndim != 2 or min(array.shape) == 0:
        raise AttentionError(f"{what} {path} has shape {array.shape}; expected a single-channel image")
    return array.astype(np.uint8) if as_labels else np.clip(array, 0, 255).astype(np.uint8)


def area_weights(source: int, target: int) -> np.ndarray:
    """(target, source) matrix of exact area averaging along one axis: row i holds how much of cell i
    each source pixel covers (rows sum to 1). Pixel j spans [j, j+1)·target/source in cell units."""
    edges = np.arange(source + 1, dtype=np.float64) * target / source
    cells = np.arange(target, dtype=np.float64)[:, None]
    overlap = np.minimum(edges[None, 1:], cells + 1) - np.maximum(edges[None, :-1], cells)
    return np.clip(overlap, 0.0, None).astype(np.float32)


def to_grid(mask: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Area-average a (H, W) mask, or a stack (K, H, W), to the (h, w) grid: the figure fraction per cell.

    Area averaging is separable, R · mask · Cᵀ with the `area_weights` of both axes; that is what
    `cv2.INTER_AREA` computes when shrinking, and it stays exact for non-integer ratios and stacks.
    """
    mask = np.asarray(mask, dtype=np.float32)
    height, width = grid
    rows, cols = area_weights(mask.shape[-2], height), area_weights(mask.shape[-1], width)
    return np.clip(rows @ mask @ cols.T, 0.0, 1.0)


def figure_extent(mask: np.ndarray, threshold: float = 0.5) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right), inclusive pixel indices of the pixels >= threshold; None when there are none."""
    inside = np.asarray(mask) >= threshold
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if not len(rows):
        return None
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def box_fractions(extent: tuple[int, int, int, int], mask_shape: tuple[int, int], grid: tuple[int, int]) -> np.ndarray:
    """The fraction of each grid cell covered by the bounding box `extent` of a (H, W) mask: exact, analytic."""
    top, bottom, left, right = extent
    (mask_h, mask_w), (height, width) = mask_shape, grid
    rows = _coverage(top * height / mask_h, (bottom + 1) * height / mask_h, height)
    cols = _coverage(left * width / mask_w, (right + 1) * width / mask_w, width)
    return np.outer(rows, cols).astype(np.float32)


def _coverage(start: float, stop: float, cells: int) -> np.ndarray:
    """How much of each unit cell [i, i+1) the interval [start, stop) covers."""
    edges = np.arange(cells, dtype=np.float64)
    return np.clip(np.minimum(edges + 1, stop) - np.maximum(edges, start), 0.0, 1.0)
