"""Decode any photo a user or a website hands us into a clean RGB image, or say clearly why not.

Runway photos arrive as JPEG, PNG or WEBP, sometimes CMYK, grayscale, 16-bit, with alpha or
EXIF rotation, sometimes truncated or not images at all. Every stage (scraping, data preparation,
the dashboard's upload) decodes through `load_rgb`, so they all accept and reject the same files.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 60_000_000


class ImageError(ValueError):
    """A photo that cannot be used, with a message fit to show a user."""


@dataclass(frozen=True)
class ImageInfo:
    format: str
    mode: str
    width: int
    height: int
    size_bytes: int


def _open(source: str | os.PathLike | bytes) -> tuple[Image.Image, int, str]:
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        label = "the upload"
    else:
        path = Path(source)
        label = path.name
        if path.is_dir():  # a common slip (a shell glob or a drag of the folder); "not found" would mislead
            raise ImageError(f"{label}: is a folder, not a photo")
        if not path.is_file():
            raise ImageError(f"{label}: file not found")
        data = path.read_bytes()
    if not data:
        raise ImageError(f"{label}: the file is empty (0 bytes)")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(f"{label}: not an image (JPEG, PNG or WEBP expected)") from None
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{label}: refused, too many pixels, possible decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:  # header cut short or malformed
        raise ImageError(f"{label}: the image is damaged or truncated ({exc})") from None
    return image, len(data), label


def probe_image(source: str | os.PathLike | bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Read format, mode and size from the file itself, after checking that it fully decodes."""
    image, size_bytes, _ = _open(source)
    fmt, mode, (width, height) = image.format or "", image.mode, image.size
    _decode(image, max_pixels, source if not isinstance(source, (bytes, bytearray)) else "the upload")
    return ImageInfo(format=fmt, mode=mode, width=width, height=height, size_bytes=size_bytes)


def _decode(image: Image.Image, max_pixels: int, label) -> Image.Image:
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(
            f"{Path(str(label)).name}: refused, {width}x{height} is {width * height:,} pixels, "
            f"over the {max_pixels:,} limit (possible decompression bomb)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{Path(str(label)).name}: the image is damaged or truncated ({exc})") from None
    return image


def to_rgb(image: Image.Image, background=(255, 255, 255)) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB; alpha is composited on `background`."""
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        # 16/32-bit grayscale: map the full 16-bit range to 0..255 instead of clipping to white.
        array = np.asarray(image, dtype=np.float64)
        if mode.startswith("I;16") or (array.size and array.max() > 255):
            array = array / 257.0
        return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), mode="L").convert("RGB")
    if mode == "P":
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, background)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if mode == "RGB":
        return image
    # CMYK, YCbCr, L, 1, LAB, HSV ...
    return image.convert("RGB")


def load_rgb(
    source: str | os.PathLike | bytes,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = 1,
    background=(255, 255, 255),
) -> Image.Image:
    """Decode a file path or bytes to an upright 8-bit RGB image; raise `ImageError` with a clear reason."""
    image, _, label = _open(source)
    image = _decode(image, max_pixels, label)
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block must not lose the photo; keep it as stored
        pass
    if min(image.size) < min_side:
        raise ImageError(f"{label}: too small ({image.size[0]}x{image.size[1]} px, at least {min_side} px a side needed)")
    return to_rgb(image, background)


def load_mask(path: str | os.PathLike, size: tuple[int, int] | None = None) -> np.ndarray:
    """A mask PNG as float32 in [0, 1], optionally resized to (width, height)."""
    image = Image.open(path)
    image = image.convert("L")
    if size is not None and image.size != tuple(size):
        image = image.resize(tuple(size), Image.BILINEAR)
    return np.asarray(image, dtype=np.float32) / 255.0
