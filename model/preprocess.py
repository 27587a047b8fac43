"""Photo → model input: the one resize every path uses (training, fast-path cache, evaluation, dashboard).

Decoding goes through `core.images.load_rgb`; the pixel scaling (thesis /255 or VGG's mean-centred
BGR) is the model's own `InputPreprocess` layer, so callers only ever hand the model 0..255 RGB.
The thesis squashed each photo to 224×224 with `load_img(target_size=...)`, whose default filter
is nearest-neighbour; `resize_filter` keeps that default and offers smoother filters as an option.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from core.images import load_rgb

RESIZE_FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
}


def check_resize_filter(name: str) -> str:
    if name not in RESIZE_FILTERS:
        raise ValueError(f"unknown resize filter {name!r}; expected one of {', '.join(RESIZE_FILTERS)}")
    return name


def to_model_input(image: Image.Image, image_size: int, resize_filter: str = "nearest") -> np.ndarray:
    """An RGB PIL image squashed to (image_size, image_size, 3) uint8, as the thesis fed VGG16."""
    resample = RESIZE_FILTERS[check_resize_filter(resize_filter)]
    if image.mode != "RGB":
        image = image.convert("RGB")
    if image.size != (image_size, image_size):
        image = image.resize((image_size, image_size), resample)
    return np.asarray(image, dtype=np.uint8)


def load_model_input(path: str | os.PathLike, image_size: int, resize_filter: str = "nearest") -> np.ndarray:
    """Decode a photo with `load_rgb` (raises `core.images.ImageError` with a reason) and resize it."""
    return to_model_input(load_rgb(path), image_size, resize_filter)
