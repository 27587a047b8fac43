"""Photos the benchmarks feed the product: demo photos where the workspace has them, drawn ones otherwise.

Timing does not depend on what a photo shows (rembg and VGG16 see fixed-size inputs), only on its
size, so a drawn stand-in gives the same figures when `make demo` has not run.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from core.fileio import write_bytes_atomic

RUNWAY_SIZE = (1700, 2560)  # width × height of a typical runway photo
DEMO_SIZE = (192, 288)


def demo_photo_paths(settings, limit: int) -> list[Path]:
    """Up to `limit` of the demo generator's photos, in a stable order (empty if there is no demo)."""
    folder = settings.paths.demo / "images"
    return sorted(folder.rglob("*.jpg"))[:limit] if folder.is_dir() else []


def drawn_photo(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """A runway-like picture: a lit backdrop, a floor, and a standing figure in the middle."""
    width, height = size
    image = Image.new("RGB", size, (200 - seed % 40, 196, 190))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, int(height * 0.8), width, height), fill=(120, 110, 100))
    half, top = width // 6, height // 10
    draw.ellipse((width // 2 - half // 2, top, width // 2 + half // 2, top + height // 9), fill=(205, 170, 140))
    draw.rectangle((width // 2 - half, top + height // 9, width // 2 + half, int(height * 0.6)),
                   fill=(30 + 20 * (seed % 5), 40, 90))
    draw.rectangle((width // 2 - half // 2, int(height * 0.6), width // 2 + half // 2, int(height * 0.92)),
                   fill=(20, 20, 25))
    return image


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def runway_jpeg(settings, size: tuple[int, int] = RUNWAY_SIZE) -> tuple[bytes, str]:
    """(JPEG bytes of a runway-sized photo, where it came from): an upscaled demo photo, else a drawn one."""
    demo = demo_photo_paths(settings, 1)
    if demo:
        with Image.open(demo[0]) as photo:
            return jpeg_bytes(photo.convert("RGB").resize(size, Image.Resampling.BICUBIC)), (
                f"{demo[0].name} from the demo, upscaled to {size[0]}×{size[1]}")
    return jpeg_bytes(drawn_photo(size)), f"drawn {size[0]}×{size[1]} stand-in (no demo photos in the workspace)"


def photo_files(settings, count: int, folder: Path, size: tuple[int, int] = DEMO_SIZE) -> tuple[list[Path], str]:
    """`count` photo files: the demo's where there are enough, else drawn ones written into `folder`."""
    demo = demo_photo_paths(settings, count)
    if len(demo) == count:
        with Image.open(demo[0]) as first:
            return demo, f"{count} demo photos ({first.size[0]}×{first.size[1]})"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"drawn-{index:03d}.jpg"
        write_bytes_atomic(path, jpeg_bytes(drawn_photo(size, seed=index)))
        paths.append(path)
    return paths, f"{count} drawn {size[0]}×{size[1]} photos (no demo in the workspace)"


def runway_files(settings, count: int, folder: Path, size: tuple[int, int] = RUNWAY_SIZE) -> tuple[list[Path], str]:
    """`count` runway-sized JPEG files written into `folder` (an upscaled demo photo, or a drawn one)."""
    data, source = runway_jpeg(settings, size)
    return [write_bytes_atomic(folder / f"runway-{index}.jpg", data) for index in range(count)], source
