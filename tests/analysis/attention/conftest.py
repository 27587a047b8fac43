"""Fixtures for the attention analytics: a tiny saved model and a small run folder with masks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

IMAGE_SIZE = 64  # attention grid 8×8, block5_conv3 4×4
BRANDS = ("Versace", "Chanel", "Giorgio Armani")
VENUES = ((40, 90, 160), (170, 60, 60), (60, 150, 70))  # one venue colour per brand: a leaky background
GARMENTS = ((230, 200, 40), (20, 20, 20), (240, 240, 240))


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory) -> Path:
    """A randomly initialised thesis network at 64 px and 3 classes, saved as model.keras."""
    from model.network import build_model

    path = tmp_path_factory.mktemp("tiny-model") / "model.keras"
    build_model(num_classes=len(BRANDS), image_size=IMAGE_SIZE, weights=None, seed=3).save(path)
    return path


def figure_photo(rng: np.random.Generator, brand_index: int, size=(48, 72)) -> tuple[np.ndarray, np.ndarray]:
    """(photo, zone labels): a textured venue of the brand's colour and a four-zone figure on it."""
    width, height = size
    venue = np.clip(rng.normal(VENUES[brand_index], 25, size=(height, width, 3)), 0, 255)
    labels = np.zeros((height, width), np.uint8)
    top, bottom = int(rng.integers(4, 10)), height - int(rng.integers(3, 8))
    cx, half = width // 2 + int(rng.integers(-5, 6)), int(rng.integers(7, 11))
    bounds = top + np.round(np.cumsum([0, 0.15, 0.3, 0.45, 0.10]) * (bottom - top)).astype(int)
    for label in range(1, 5):
        wide = half if label in (2, 3) else half // 2 + 1
        labels[bounds[label - 1]:bounds[label], cx - wide:cx + wide] = label
    photo = venue.copy()
    photo[labels > 0] = GARMENTS[brand_index]
    return photo.astype(np.uint8), labels


@pytest.fixture(scope="session")
def tiny_run_files(tmp_path_factory, tiny_model_file) -> dict:
    """Photos, exact masks, predictions and attention maps of a small test set, made once per session."""
    from model.network import attention_model, load_saved_model

    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("tiny-demo")
    rows, inputs = [], []
    for b, brand in enumerate(BRANDS):
        for i in range(4):
            photo, labels = figure_photo(rng, b)
            stem = root / f"{b}-{i:02d}"
            Image.fromarray(photo).save(f"{stem}.png")
            Image.fromarray(np.where(labels > 0, 255, 0).astype(np.uint8)).save(f"{stem}.figure.png")
            with_zones = i % 2 == 0  # half the photos derive their zones from the figure, like real photos
            if with_zones:
                Image.fromarray(labels).save(f"{stem}.zones.png")
            rows.append({"path": f"{stem}.png", "brand": brand, "figure_mask_path": f"{stem}.figure.png",
                         "zones_mask_path": f"{stem}.zones.png" if with_zones else "", "split": "test"})
            inputs.append(np.asarray(Image.fromarray(photo).resize((IMAGE_SIZE, IMAGE_SIZE), Image.NEAREST)))
    out = attention_model(load_saved_model(tiny_model_file)).predict_on_batch(np.stack(inputs).astype(np.float32))
    predictions = pd.DataFrame(rows)
    predicted = np.asarray(out["probabilities"]).argmax(axis=1)
    predictions.insert(2, "predicted", [BRANDS[k] for k in predicted])
    predictions.insert(3, "correct", predictions["predicted"] == predictions["brand"])
    return {"predictions": predictions, "maps": np.asarray(out["attention"]).astype(np.float16)}


@pytest.fixture
def make_run(workspace, tiny_model_file, tiny_run_files):
    """Build `runs/<name>/` as `python -m model evaluate` leaves it (3 brands × 4 photos with exact masks)."""

    def build(name: str = "tiny", metrics: dict | None = None) -> Path:
        run = workspace / "runs" / name
        (run / "attention").mkdir(parents=True)
        shutil.copyfile(tiny_model_file, run / "model.keras")
        tiny_run_files["predictions"].to_csv(run / "predictions.csv", index=False)
        np.save(run / "attention" / "maps.npy", tiny_run_files["maps"])
        (run / "config.json").write_text(json.dumps({
            "run": name, "variant": "raw", "manifest": str(workspace / "datasets" / "demo" / "manifest.csv"),
            "class_names": list(BRANDS), "image_size": IMAGE_SIZE, "resize_filter": "nearest", "preprocess": "thesis",
        }))
        (run / "metrics.json").write_text(json.dumps(metrics if metrics is not None else {"accuracy": 0.5}))
        return run

    return build
