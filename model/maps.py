"""Attention maps: summary statistics, upsampling to image size, and heat-map overlays (OpenCV).

A native map is the attention softmax over block4_conv3's grid (28×28 at 224 px) and sums to 1.
Upsampling is bilinear and keeps the per-cell values (it does not renormalise), so an upsampled
map reads as "attention of the cell under this pixel". Bilinear resizing is linear, which lets the
evaluation upsample a per-brand *sum* of maps instead of every map.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

COLORMAPS = {
    "jet": cv2.COLORMAP_JET,
    "inferno": cv2.COLORMAP_INFERNO,
    "viridis": cv2.COLORMAP_VIRIDIS,
    "magma": cv2.COLORMAP_MAGMA,
    "turbo": cv2.COLORMAP_TURBO,
    "hot": cv2.COLORMAP_HOT,
}

STAT_COLUMNS = ("attention_max", "attention_entropy", "attention_peak_row", "attention_peak_col")


def attention_stats(maps: np.ndarray) -> dict[str, np.ndarray]:
    """Per map of a (N, h, w) batch: max, entropy (nats; log(h·w) = uniform), peak row and column."""
    maps = np.asarray(maps, dtype=np.float64)
    flat = maps.reshape(len(maps), -1)
    entropy = -np.sum(flat * np.log(np.clip(flat, 1e-30, None)), axis=1)
    peak_row, peak_col = np.unravel_index(flat.argmax(axis=1), maps.shape[1:])
    return {
        "attention_max": flat.max(axis=1),
        "attention_entropy": entropy,
        "attention_peak_row": peak_row.astype(np.int64),
        "attention_peak_col": peak_col.astype(np.int64),
    }


def upsample(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of one (h, w) map or a stack (N, h, w) to (height, width) = `size`."""
    maps = np.asarray(maps, dtype=np.float32)
    height, width = size
    if maps.ndim == 2:
        return cv2.resize(maps, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.stack([cv2.resize(m, (width, height), interpolation=cv2.INTER_LINEAR) for m in maps]) if len(maps) else (
        np.zeros((0, height, width), np.float32)
    )


def normalise(heat: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1] (a constant map becomes zeros)."""
    heat = np.asarray(heat, dtype=np.float32)
    low, high = float(heat.min()), float(heat.max())
    return (heat - low) / (high - low) if high > low else np.zeros_like(heat)


def colorize(heat: np.ndarray, colormap: str = "jet") -> np.ndarray:
    """A [0, 1] map as an RGB uint8 image through an OpenCV colormap."""
    if colormap not in COLORMAPS:
        raise ValueError(f"unknown colormap {colormap!r}; expected one of {', '.join(COLORMAPS)}")
    levels = np.clip(np.asarray(heat) * 255.0, 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(levels, COLORMAPS[colormap]), cv2.COLOR_BGR2RGB)


def overlay(image: Image.Image, attention: np.ndarray, opacity: float = 0.5, colormap: str = "jet") -> Image.Image:
    """The attention map upsampled onto the photo at its own size, blended with `opacity` in [0, 1]."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be between 0 and 1, got {opacity}")
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    heat = colorize(normalise(upsample(attention, rgb.shape[:2])), colormap)
    return Image.fromarray(cv2.addWeighted(rgb, 1.0 - opacity, heat, opacity, 0.0))
