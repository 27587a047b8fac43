"""Fixtures for the model tests: a tiny generated dataset whose brands differ visibly (colour and shape)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw

# Three "houses", each a saturated colour and a shape on a grey runway; obvious to any feature extractor.
LOOKS = {
    "Rick Owens": ((200, 30, 30), "ellipse"),
    "Versace": ((30, 170, 40), "rectangle"),
    "Chanel": ((40, 60, 210), "triangle"),
}


def _photo(colour, shape: str, rng: np.random.Generator, background) -> Image.Image:
    width, height = 72, 96  # portrait like runway photos; the model squashes it to a square
    pixels = np.clip(rng.normal(background, 12, size=(height, width, 3)), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    cx, cy = rng.integers(32, width - 32), rng.integers(36, height - 36)
    r = int(rng.integers(28, 34))
    jitter = tuple(int(np.clip(c + rng.integers(-25, 26), 0, 255)) for c in colour)
    box = (cx - r, cy - r, cx + r, cy + r)
    if shape == "ellipse":
        draw.ellipse(box, fill=jitter)
    elif shape == "rectangle":
        draw.rectangle(box, fill=jitter)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=jitter)
    return image


def make_dataset(root: Path, per_split=(12, 6, 6), seed: int = 0, nobg: bool = True) -> Path:
    """datasets/<name>/manifest.csv (+ nobg/manifest.csv) under `root` as the data stage writes them."""
    rng = np.random.default_rng(seed)
    images_dir = root / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for brand, (colour, shape) in LOOKS.items():
        key = brand.lower().replace(" ", "-")
        for split, count in zip(("train", "val", "test"), per_split, strict=True):
            for i in range(count):
                relative = f"{key}/{split}-{i:03d}.png"
                path = images_dir / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                # the runway is tinted with the house colour too, so every region of the photo tells the brand
                tint = tuple(0.6 * 150 + 0.4 * c for c in colour)
                _photo(colour, shape, rng, background=tint).save(path)
                rows.append({
                    "path": str(path), "image_path": relative, "brand": brand, "brand_key": key,
                    "collection": f"{key}-fw-2023", "season": "fw", "year": "2023", "split": split,
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                    "figure_mask_path": "", "zones_mask_path": "",
                })
    dataset = root / "datasets" / "shapes"
    dataset.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows)
    frame.to_csv(dataset / "manifest.csv", index=False)
    if nobg:
        nobg_rows = []
        for row in rows:
            # "Background removed": the grey runway replaced by white, the garment kept.
            pixels = np.asarray(Image.open(row["path"]).convert("RGB")).copy()
            tint = np.array([0.6 * 150 + 0.4 * c for c in LOOKS[row["brand"]][0]])
            runway = np.abs(pixels.astype(float) - tint).max(axis=2) < 40
            pixels[runway] = 255
            target = root / "nobg" / row["image_path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(target)
            nobg_rows.append({**row, "path": str(target), "original_path": row["path"], "rembg_mask_path": ""})
        (dataset / "nobg").mkdir(exist_ok=True)
        pd.DataFrame(nobg_rows).to_csv(dataset / "nobg" / "manifest.csv", index=False)
    return dataset


@pytest.fixture
def shapes_dataset(workspace) -> Path:
    """A 3-brand dataset (12 train / 6 val / 6 test per brand) inside the test's workspace."""
    return make_dataset(workspace)


@dataclass
class TrainedRun:
    settings: object
    dataset: Path
    run: object  # core.contract.RunFolder
    result: object  # model.training.TrainResult
    options: dict


def train_with(settings=None, *, extra_callbacks: tuple = (), **options):
    """`model.training.train` with the request's fields and ModelSettings overrides given together."""
    from core.config import get_settings
    from model.training import TrainRequest, train

    request_fields = {f.name for f in dataclasses.fields(TrainRequest)}
    settings = settings or get_settings()
    model = dataclasses.replace(settings.model, **{k: v for k, v in options.items() if k not in request_fields})
    request = TrainRequest(**{k: v for k, v in options.items() if k in request_fields})
    return train(request, settings.replace(model=model), extra_callbacks=extra_callbacks)


@pytest.fixture(name="train_with")
def train_with_fixture():
    return train_with


# Enough for the random-weight backbone to separate the shapes: 12 epochs of 5 batches.
# The thesis network: these tests check its counts and its Dense-512 embedding.
LEARNING_RUN = dict(epochs=12, batch_size=8, image_size=64, weights="random", fast_path="on", architecture="thesis")


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> TrainedRun:
    """One fast-path run on the shapes dataset, trained once per session and shared read-only."""
    from core.config import get_settings

    root = tmp_path_factory.mktemp("model-workspace")
    dataset = make_dataset(root)
    settings = get_settings(root)
    result = train_with(settings, variant="raw", data=str(dataset), run="shapes-raw", **LEARNING_RUN)
    return TrainedRun(settings, dataset, result.run, result, LEARNING_RUN)


@pytest.fixture(scope="session")
def evaluated_run(trained_run) -> TrainedRun:
    from model.evaluation import evaluate

    evaluate(trained_run.run, trained_run.settings)
    return trained_run
