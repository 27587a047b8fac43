"""Shared pytest fixtures: every test gets its own workspace, so nothing touches ./workspace.

`run_kit` writes hand-made run folders in the artifact contract's format, so the analytics, ensemble and
report tests need no trained model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
# Quiet TensorFlow and keep it to the CI machine's two cores.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """An empty workspace folder, named by RUNWAY_LENS_WORKSPACE for the test's duration."""
    root = tmp_path / "workspace"
    root.mkdir()
    monkeypatch.setenv("RUNWAY_LENS_WORKSPACE", str(root))
    return root


@pytest.fixture(scope="session")
def provisioned_workspace() -> Path:
    """The real workspace whose model assets `make test` provisioned first (VGG16 weights, u2netp).

    Tests that need the true ImageNet weights or rembg's model use this one; they skip with
    the reason if assets were not provisioned (e.g. running a single file without `make test`).
    """
    from core.config import get_settings

    settings = get_settings()
    missing = [p for p in (settings.paths.vgg16_weights, settings.paths.u2net_home / "u2netp.onnx") if not p.exists()]
    if missing:
        if os.environ.get("CI"):  # in CI the assets are provisioned first; missing ones are a failure
            pytest.fail(f"model assets missing in CI: {missing}")
        pytest.skip(f"model assets not provisioned ({', '.join(map(str, missing))}); run `python -m model.assets`")
    return settings.paths.root


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Streamlit's AppTest leaves its page module installed as `__main__`; spawned worker processes
    (the rembg pool) re-import `__main__` and would run a dashboard page. Put the real one back."""
    import sys

    main = sys.modules.get("__main__")
    yield
    if sys.modules.get("__main__") is not main:
        sys.modules["__main__"] = main


def probabilities_for(predicted: np.ndarray, n_classes: int, confidence: float = 0.7) -> np.ndarray:
    """Rows that put `confidence` on the predicted class and share the rest evenly."""
    rest = (1.0 - confidence) / (n_classes - 1)
    probabilities = np.full((len(predicted), n_classes), rest)
    probabilities[np.arange(len(predicted)), predicted] = confidence
    return probabilities


def write_run(
    root: Path,
    name: str,
    looks: pd.DataFrame,
    class_names: list[str],
    predicted: np.ndarray,
    embeddings: np.ndarray,
    probabilities: np.ndarray | None = None,
    variant: str = "raw",
    split: str = "random",
    attention: bool = False,
) -> Path:
    """A run folder: config.json, predictions.csv, embeddings.npy, metrics.json, confusion.csv (+ attention/)."""
    run_dir = root / "runs" / name
    run_dir.mkdir(parents=True)
    truth = np.array([class_names.index(b) for b in looks["brand"]])
    probabilities = probabilities if probabilities is not None else probabilities_for(predicted, len(class_names))
    frame = pd.DataFrame({"path": looks["path"], "brand": looks["brand"]})
    frame["predicted"] = [class_names[i] for i in predicted]
    frame["correct"] = frame["brand"] == frame["predicted"]
    for i, brand in enumerate(class_names):
        frame[f"prob_{brand}"] = probabilities[:, i]
    for column in looks.columns:
        if column not in frame.columns:
            frame[column] = looks[column].to_numpy()
    frame.to_csv(run_dir / "predictions.csv", index=False)
    np.save(run_dir / "embeddings.npy", embeddings.astype(np.float32))
    (run_dir / "config.json").write_text(
        json.dumps({"variant": variant, "class_names": class_names, "split": split, "image_size": 64})
    )
    confusion = np.zeros((len(class_names), len(class_names)), dtype=int)
    np.add.at(confusion, (truth, predicted), 1)
    pd.DataFrame(confusion, index=pd.Index(class_names, name="brand"), columns=class_names).reset_index().to_csv(
        run_dir / "confusion.csv", index=False
    )
    metrics = {"accuracy": float((truth == predicted).mean()), "class_names": class_names}
    if attention:
        grid, size = 8, 64
        maps = np.random.default_rng(1).random((len(frame), grid, grid))
        maps[:, 5:, 3:5] += 3.0  # a hot spot low in the frame, where a hem would be
        maps /= maps.sum(axis=(1, 2), keepdims=True)
        (run_dir / "attention").mkdir()
        np.save(run_dir / "attention" / "maps.npy", maps.astype(np.float16))
        by_true = np.stack([maps[truth == c].sum(axis=0) for c in range(len(class_names))])
        up = np.kron(by_true, np.ones((size // grid, size // grid)))
        np.savez(
            run_dir / "attention" / "sums.npz",
            by_true_native=by_true, by_pred_native=by_true, by_true_upsampled=up, by_pred_upsampled=up,
            count_by_true=np.bincount(truth, minlength=len(class_names)),
            count_by_pred=np.bincount(predicted, minlength=len(class_names)),
            class_names=np.array(class_names), image_size=size,
        )
        shares = {"head": 0.10, "torso": 0.30, "legs": 0.45, "feet": 0.15}
        metrics["attention"] = {  # the format of analysis.attention.sections
            "body_zones": {
                "zones": list(shares),
                "per_brand": {
                    brand: {z: {"mean": v, "ci_low": v - 0.02, "ci_high": v + 0.03, "n": 5} for z, v in shares.items()}
                    for brand in class_names
                },
                "mean": shares,
            }
        }
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    return run_dir


def make_looks(brands: list[str], per_brand: int, years=(2018,), photos_dir: Path | None = None) -> pd.DataFrame:
    """One row per look: path, brand, collection, season, year, image_path, sha256 (photos drawn if asked)."""
    rows = []
    for b, brand in enumerate(brands):
        for i in range(per_brand):
            year = years[i % len(years)]
            image_path = f"{brand.lower().replace(' ', '-')}/{year}/look-{i:03d}.png"
            path = (photos_dir / image_path) if photos_dir else Path("/photos") / image_path
            if photos_dir:
                path.parent.mkdir(parents=True, exist_ok=True)
                colour = tuple(int(v) for v in (40 + 50 * b, 200 - 30 * b, 90 + 5 * i % 160))
                Image.new("RGB", (48, 72), colour).save(path)
            rows.append(
                {
                    "path": str(path),
                    "brand": brand,
                    "collection": f"{brand}-{year}-ss",
                    "season": "SS",
                    "year": year,
                    "image_path": image_path,
                    "sha256": hashlib.sha256(image_path.encode()).hexdigest(),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def settings(workspace):
    """Workspace settings with a smaller bootstrap, to keep the suite fast."""
    from core.config import get_settings

    base = get_settings(workspace)
    return base.replace(analytics=dataclasses.replace(base.analytics, bootstrap_resamples=200))


@pytest.fixture
def run_kit():
    """The helpers above, as a fixture (test modules cannot import conftest under --import-mode=importlib)."""
    return SimpleNamespace(write_run=write_run, make_looks=make_looks, probabilities_for=probabilities_for)
