"""`core.images.load_rgb` turns every photo variant into upright 8-bit RGB, or says clearly why not."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from core.images import ImageError, load_rgb, probe_image


def _encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def test_exif_rotation_is_applied():
    # Stored landscape 60x40 with orientation 6 ("rotate 90 CW to display"): displayed portrait 40x60.
    stored = Image.new("RGB", (60, 40), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6
    rgb = load_rgb(_encode(stored, "JPEG", exif=exif))
    assert rgb.size == (40, 60)


@pytest.mark.parametrize(
    "image, expected",
    [
        (Image.new("CMYK", (8, 8), (0, 255, 255, 0)), (255, 0, 0)),
        (Image.new("L", (8, 8), 128), (128, 128, 128)),
        (Image.new("RGBA", (8, 8), (0, 0, 255, 0)), (255, 255, 255)),  # transparent → white backdrop
        (Image.new("RGBA", (8, 8), (0, 0, 255, 255)), (0, 0, 255)),
    ],
    ids=["cmyk", "grayscale", "transparent-rgba", "opaque-rgba"],
)
def test_modes_convert_to_rgb(image, expected):
    fmt = "JPEG" if image.mode == "CMYK" else "PNG"
    rgb = load_rgb(_encode(image, fmt))
    assert rgb.mode == "RGB"
    assert np.abs(np.asarray(rgb)[4, 4].astype(int) - expected).max() <= 3


def test_16_bit_grayscale_keeps_its_range():
    array = np.full((8, 8), 32768, dtype=np.uint16)  # mid-grey in 16 bits
    rgb = load_rgb(_encode(Image.fromarray(array), "PNG"))
    assert rgb.mode == "RGB"
    assert 120 <= np.asarray(rgb)[0, 0, 0] <= 135


def test_webp_named_jpg_is_read_by_content(tmp_path):
    path = tmp_path / "look.jpg"
    path.write_bytes(_encode(Image.new("RGB", (10, 12), (0, 200, 0)), "WEBP"))
    assert load_rgb(path).size == (10, 12)
    assert probe_image(path).format == "WEBP"


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"", "empty"),
        (b"<html><body>Not found</body></html>", "not an image"),
        (_encode(Image.new("RGB", (64, 64), (1, 2, 3)), "JPEG")[:200], "damaged or truncated"),
    ],
    ids=["zero-bytes", "html", "truncated"],
)
def test_bad_files_raise_clear_errors(payload, message):
    with pytest.raises(ImageError, match=message):
        load_rgb(payload)


def test_decompression_bomb_is_refused():
    bomb = _encode(Image.new("L", (9000, 9000), 0), "PNG")
    with pytest.raises(ImageError, match="decompression bomb"):
        load_rgb(bomb, max_pixels=50_000_000)


def test_too_small_is_refused():
    with pytest.raises(ImageError, match="too small"):
        load_rgb(_encode(Image.new("RGB", (1, 1)), "PNG"), min_side=32)
