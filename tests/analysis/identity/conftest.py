"""Fixtures for the identity analysis.

- `demo_workspace` / `demo_copy`: a tiny two-house demo run (generated, prepared, a random 64 px
  model, evaluated), made once per module that asks for it, and a private copy per test;
- `zone_kit`: hand-made photos with one fixed zone layout, and a fake model whose score depends on
  the pixels of one zone only, so the right answer of every method is known.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

IMAGE_SIZE = 64
DEMO_SIZE = (64, 96)


def build_demo_run(root: Path, name: str = "tiny-raw") -> Path:
    """`root` as a workspace holding demo/, datasets/demo/ and runs/<name>/ (evaluated); returns the run folder."""
    from core.config import get_settings
    from data.demo.generate import DemoParams, generate
    from data.prepare import PrepareOptions, prepare_dataset
    from model.evaluation import evaluate
    from model.network import build_model

    settings = get_settings(root)
    params = DemoParams(houses=2, per_house=10, width=DEMO_SIZE[0], height=DEMO_SIZE[1],
                        background_informativeness=0.7, seasonal_drift=0.3, seed=7, signature_strength=0.75)
    generate(params, settings.paths.demo)
    prepared = prepare_dataset(PrepareOptions(csv=settings.paths.demo / "runway.csv", images_root=settings.paths.demo,
                                              name="demo"), settings)
    brands = sorted(prepared.manifest["brand"].unique())
    run = settings.paths.run_dir(name)
    run.mkdir(parents=True)
    build_model(num_classes=len(brands), image_size=IMAGE_SIZE, weights=None, seed=3).save(run / "model.keras")
    (run / "config.json").write_text(json.dumps({
        "run": name, "variant": "raw", "manifest": str(prepared.dataset_dir / "manifest.csv"), "class_names": brands,
        "image_size": IMAGE_SIZE, "resize_filter": "nearest", "preprocess": "thesis"}))
    evaluate(name, settings)
    return run


@pytest.fixture(scope="module")
def demo_workspace(tmp_path_factory) -> Path:
    """A workspace with a tiny evaluated demo run `tiny-raw` (2 houses × 10 looks at 64×96, random weights)."""
    root = tmp_path_factory.mktemp("identity-demo") / "workspace"
    build_demo_run(root)
    return root


@pytest.fixture
def demo_copy(demo_workspace, tmp_path, monkeypatch) -> Path:
    """A private copy of the demo workspace (tests write identity.json and caches into it)."""
    root = tmp_path / "workspace"
    # the model file is only read: link it rather than copy 60 MB per test
    shutil.copytree(demo_workspace, root, symlinks=True, ignore=shutil.ignore_patterns("model.keras"))
    for model in demo_workspace.glob("runs/*/model.keras"):
        os.symlink(model, root / model.relative_to(demo_workspace))
    monkeypatch.setenv("RUNWAY_LENS_WORKSPACE", str(root))
    return root


# --------------------------------------------------------------------------- a fake model that reads one zone

SIDE = 32  # photos are already the model's square input size: no resize blurs a zone's edge
ZONE_ROWS = {"head": (2, 6), "torso": (6, 14), "legs": (14, 26), "feet": (26, 30)}
FIGURE_COLUMNS = (10, 22)
LABELS = {"background": 0, "head": 1, "torso": 2, "legs": 3, "feet": 4}


def zone_labels() -> np.ndarray:
    labels = np.zeros((SIDE, SIDE), np.uint8)
    for zone, (top, bottom) in ZONE_ROWS.items():
        labels[top:bottom, FIGURE_COLUMNS[0]:FIGURE_COLUMNS[1]] = LABELS[zone]
    return labels


class ZoneScorer:
    """Two classes; the logit of the first is `gain` × (mean red − mean green) / 255 over the pixels of `zone`
    (the same pixels on every photo), the second's is 0. Nothing outside `zone` can change its output."""

    image_size, resize_filter = SIDE, "nearest"

    def __init__(self, zone: str, class_names=("A", "B"), gain: float = 8.0):
        self.zone, self.class_names, self.gain = zone, list(class_names), gain
        self.stamp = f"zone-scorer:{zone}:{gain}"
        self.mask = zone_labels() == LABELS[zone]
        self.calls = 0

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        self.calls += len(inputs)
        inputs = np.asarray(inputs, np.float64)
        difference = (inputs[..., 0] - inputs[..., 1])[:, self.mask].mean(axis=1) / 255.0
        logits = np.stack([self.gain * difference, np.zeros(len(inputs))], axis=1)
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)


def zone_photos(folder: Path, zone: str, per_class: int = 3, seed: int = 0) -> pd.DataFrame:
    """Photos of classes A and B on one zone layout: every zone grey except `zone`, red for A and green for B.

    Returns rows as `IdentityContext.rows` holds them (path, brand, predicted, target, masks)."""
    rng = np.random.default_rng(seed)
    labels = zone_labels()
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(labels).save(folder / "zones.png")
    Image.fromarray(np.where(labels > 0, 255, 0).astype(np.uint8)).save(folder / "figure.png")
    key = {"A": (220, 40, 40), "B": (40, 220, 40)}
    rows = []
    for brand in ("A", "B"):
        for i in range(per_class):
            grey = rng.integers(60, 200, size=(SIDE, SIDE, 1))
            photo = np.repeat(grey, 3, axis=2) + rng.integers(-6, 7, size=(SIDE, SIDE, 3))
            for name, label in LABELS.items():  # a grey level per zone, so zones differ but carry no colour
                if name != zone:
                    photo[labels == label] = photo[labels == label].mean(axis=0).mean()
            photo[labels == LABELS[zone]] = key[brand]
            path = folder / f"{brand}-{i}.png"
            Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(path)
            rows.append({"path": str(path), "brand": brand, "predicted": brand, "target": brand, "image_path": "",
                         "figure_mask": str(folder / "figure.png"), "zones_mask": str(folder / "zones.png"),
                         "mask_source": "generator"})
    return pd.DataFrame(rows)


def zone_context(root: Path, zone: str, settings_overrides: dict | None = None, per_class: int = 3):
    """(IdentityContext on hand-made photos with a `ZoneScorer` for `zone`, the scorer)."""
    from analysis.identity.context import IdentityContext
    from core.config import get_settings
    from core.contract import RunConfig, RunFolder

    # the photos' labelled zones, exactly: the fake model reads one labelled zone's pixels
    settings = get_settings(root).with_overrides({"identity": {"bootstrap_resamples": 200, "zone_source": "exact",
                                                               **(settings_overrides or {})}})
    rows = zone_photos(root / "photos", zone, per_class)
    run = RunFolder(root / "runs" / "fake")
    run.root.mkdir(parents=True, exist_ok=True)
    config = RunConfig(run="fake", variant="raw", class_names=["A", "B"], image_size=SIDE)
    scorer = ZoneScorer(zone)
    context = IdentityContext(run=run, config=config, settings=settings, predictions=rows, rows=rows,
                              scorer_factory=lambda: scorer)
    return context, scorer


@pytest.fixture
def zone_kit():
    return SimpleNamespace(context=zone_context, photos=zone_photos, ZoneScorer=ZoneScorer, labels=zone_labels,
                           LABELS=LABELS, SIDE=SIDE)
