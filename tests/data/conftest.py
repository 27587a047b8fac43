"""Fixtures for the data stage: generated runway CSVs, figure photos with exact masks, a rembg workspace."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw

from core.config import RUNWAY_CSV_COLUMNS, RUNWAY_CSV_EXTRA_COLUMNS

CSV_COLUMNS = RUNWAY_CSV_COLUMNS + RUNWAY_CSV_EXTRA_COLUMNS


def figure_photo(seed: int, size=(128, 192)) -> tuple[Image.Image, np.ndarray]:
    """A walking figure (head, torso, arms, legs) on a plain, slightly noisy backdrop, and its exact mask."""
    rng = np.random.default_rng(seed)
    width, height = size
    backdrop = tuple(int(v) for v in rng.integers(200, 240, size=3))
    noise = rng.normal(0, 3, size=(height, width, 3))
    photo = Image.fromarray(np.clip(np.array(backdrop) + noise, 0, 255).astype(np.uint8), "RGB")
    mask = Image.new("L", size, 0)
    garment = tuple(int(v) for v in rng.integers(10, 140, size=3))
    skin = (120, 80, 60)
    cx = width // 2 + int(rng.integers(-width // 10, width // 10 + 1))
    u = width / 128  # unit: shapes scale with the photo
    shapes = [
        ("ellipse", (cx - 9 * u, 18 * u, cx + 9 * u, 40 * u), skin),  # head
        (
            "polygon",
            [(cx - 20 * u, 42 * u), (cx + 20 * u, 42 * u), (cx + 26 * u, 110 * u), (cx - 26 * u, 110 * u)],
            garment,
        ),
        (
            "polygon",
            [(cx - 20 * u, 44 * u), (cx - 30 * u, 100 * u), (cx - 24 * u, 102 * u), (cx - 14 * u, 50 * u)],
            garment,
        ),
        (
            "polygon",
            [(cx + 20 * u, 44 * u), (cx + 30 * u, 100 * u), (cx + 24 * u, 102 * u), (cx + 14 * u, 50 * u)],
            garment,
        ),
        ("rectangle", (cx - 18 * u, 108 * u, cx - 4 * u, 176 * u), (30, 30, 30)),  # legs
        ("rectangle", (cx + 4 * u, 108 * u, cx + 18 * u, 176 * u), (30, 30, 30)),
    ]
    draw_photo, draw_mask = ImageDraw.Draw(photo), ImageDraw.Draw(mask)
    for kind, xy, colour in shapes:
        getattr(draw_photo, kind)(xy, fill=colour)
        getattr(draw_mask, kind)(xy, fill=255)
    return photo, np.asarray(mask) > 127


def _noise_jpeg(path: Path, seed: int, size=(32, 48)) -> None:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)).save(path, "JPEG")


def write_runway_csv(path: Path, rows: list[dict]) -> Path:
    extra = sorted({key for row in rows for key in row} - set(CSV_COLUMNS))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*CSV_COLUMNS, *extra], restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def runway_row(image_path: str, brand: str, collection: str, **extra) -> dict:
    return {
        "collection_url": f"https://www.example.org/fashion-shows/{collection}",
        "image_url": f"https://img.example.org/{image_path}",
        "image_name": Path(image_path).name,
        "image_path": image_path,
        "brand": brand,
        **extra,
    }


def make_runway(root: Path, brands: dict[str, tuple[int, int]], seed: int = 0) -> tuple[Path, Path]:
    """A runway CSV plus distinct noise photos: brand -> (collections, photos per collection)."""
    images = root / "images"
    rows, number = [], 0
    for brand, (collections, per_collection) in brands.items():
        slug = brand.lower().replace(" ", "-")
        for c in range(collections):
            collection = f"fall-{2015 + c}-ready-to-wear/{slug}"
            for i in range(per_collection):
                relative = f"{slug}/{2015 + c}/{i:03d}.jpg"
                _noise_jpeg(images / relative, seed * 100_000 + number)
                rows.append(runway_row(relative, brand, collection))
                number += 1
    return write_runway_csv(root / "runway.csv", rows), images


@pytest.fixture
def runway_factory(tmp_path):
    def factory(brands: dict[str, tuple[int, int]], name: str = "src", seed: int = 0):
        return make_runway(tmp_path / name, brands, seed)

    return factory


@pytest.fixture
def rembg_workspace(provisioned_workspace, workspace) -> Path:
    """A tmp workspace whose u2netp is a link to the provisioned one: nothing else is written there."""
    source = provisioned_workspace / "assets" / "u2net" / "u2netp.onnx"
    target = workspace / "assets" / "u2net" / "u2netp.onnx"
    target.parent.mkdir(parents=True)
    os.symlink(source, target)
    return workspace


def make_figure_runway(root: Path, count: int, size=(128, 192)) -> Path:
    """Figure photos with their exact masks (relative to the image root): two brands, two shows each."""
    images, rows = root / "images", []
    for number in range(count):
        brand = ("Chanel", "Versace")[number % 2]
        photo, mask = figure_photo(number, size)
        relative, mask_relative = f"{brand.lower()}/{number:02d}.jpg", f"masks/{number:02d}.png"
        for path in (images / relative, images / mask_relative):
            path.parent.mkdir(parents=True, exist_ok=True)
        photo.save(images / relative, quality=92)
        Image.fromarray(mask.astype(np.uint8) * 255).save(images / mask_relative)
        collection = f"spring-2020/{brand.lower()}-{number % 4 // 2}"
        rows.append(runway_row(relative, brand, collection, figure_mask_path=mask_relative))
    return write_runway_csv(root / "runway.csv", rows)


@pytest.fixture
def figure_runway_factory(tmp_path):
    def factory(count: int, name: str = "figures", size=(128, 192)) -> Path:
        return make_figure_runway(tmp_path / name, count, size)

    return factory


@pytest.fixture
def make_figure():
    return figure_photo


def odd_photos(images: Path) -> dict[str, str]:
    """image_path -> what it is; every one of these must be handled without stopping the run."""
    odd = images / "odd"
    odd.mkdir(parents=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees: upright it is portrait
    Image.new("RGB", (48, 32), (10, 200, 30)).save(odd / "exif.jpg", exif=exif)
    Image.new("CMYK", (32, 48), (0, 255, 255, 0)).save(odd / "cmyk.jpg")
    Image.new("L", (32, 48), 100).save(odd / "gray.png")
    rgba = Image.new("RGBA", (32, 48), (0, 0, 255, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 16, 48))  # left half transparent
    rgba.save(odd / "rgba.png")
    Image.fromarray(np.full((48, 32), 32768, dtype=np.uint16)).save(odd / "16bit.png")
    Image.new("RGB", (32, 48), (200, 50, 50)).save(odd / "webp.jpg", format="WEBP")
    whole = images / "chanel/2015/000.jpg"
    (odd / "truncated.jpg").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    (odd / "empty.jpg").write_bytes(b"")
    (images.parent / "outside.jpg").write_bytes(whole.read_bytes())
    return {
        "odd/exif.jpg": "ok",
        "odd/cmyk.jpg": "ok",
        "odd/gray.png": "ok",
        "odd/rgba.png": "ok",
        "odd/16bit.png": "ok",
        "odd/webp.jpg": "ok",
        "odd/truncated.jpg": "damaged or truncated",
        "odd/empty.jpg": "empty (0 bytes)",
        "../outside.jpg": "outside the image root",
        "odd/missing.jpg": "file not found",
    }


@pytest.fixture
def odd_runway_factory(tmp_path):
    """A runway CSV whose Chanel rows include every kind of odd or broken photo, beside noise photos."""

    def factory(per_collection: int):
        csv_path, images = make_runway(
            tmp_path / "odd", {"Chanel": (2, per_collection), "Versace": (2, per_collection)}
        )
        odd = odd_photos(images)
        rows = pd.read_csv(csv_path, dtype=str, keep_default_na=False).to_dict("records")
        rows += [{**rows[0], "image_path": path, "image_name": Path(path).name} for path in odd]
        write_runway_csv(csv_path, rows)
        return csv_path, images, odd

    return factory
