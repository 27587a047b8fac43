"""Read a run folder (docs/ARCHITECTURE.md, "Run folder"): the one place that knows its file names.

The dashboard and the analytics modules read runs through these helpers; none of them imports
TensorFlow, so listing runs and reading metrics stays cheap.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import Settings, get_settings


class RunError(ValueError):
    """A run folder that is missing or incomplete; the message says which file and what to run."""


@dataclass(frozen=True)
class RunFolder:
    root: Path

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def history(self) -> Path:
        return self.root / "history.csv"

    @property
    def model(self) -> Path:
        return self.root / "model.keras"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.json"

    @property
    def confusion(self) -> Path:
        return self.root / "confusion.csv"

    @property
    def predictions(self) -> Path:
        return self.root / "predictions.csv"

    @property
    def attention_dir(self) -> Path:
        return self.root / "attention"

    @property
    def attention_maps(self) -> Path:
        return self.attention_dir / "maps.npy"

    @property
    def attention_sums(self) -> Path:
        return self.attention_dir / "sums.npz"

    @property
    def embeddings(self) -> Path:
        return self.root / "embeddings.npy"

    def require(self, path: Path, made_by: str) -> Path:
        if not path.is_file():
            raise RunError(f"run {self.name!r} has no {path.relative_to(self.root)}; run `{made_by}` first")
        return path


def resolve_run(run: str | os.PathLike, settings: Settings | None = None, must_exist: bool = True) -> RunFolder:
    """A run by name (under the workspace's runs/) or by folder path."""
    path = Path(run).expanduser()
    if not (path.is_dir() and (path / "config.json").is_file()):
        path = (settings or get_settings()).paths.run_dir(str(run))
    folder = RunFolder(path.resolve())
    if must_exist and not folder.config.is_file():
        raise RunError(f"no run {str(run)!r}: {folder.config} does not exist (train it with `python -m model train`)")
    return folder


def list_runs(settings: Settings | None = None) -> list[RunFolder]:
    """Every run folder of the workspace that has a config.json, by name."""
    runs = (settings or get_settings()).paths.runs
    if not runs.is_dir():
        return []
    return [RunFolder(p) for p in sorted(runs.iterdir()) if (p / "config.json").is_file()]


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RunError(f"{path} is unreadable ({exc})") from None


def read_config(run: RunFolder) -> dict:
    return _read_json(run.require(run.config, "python -m model train"))


def class_names(run: RunFolder) -> list[str]:
    return list(read_config(run)["class_names"])


def is_trained(run: RunFolder) -> bool:
    return run.model.is_file()


def is_evaluated(run: RunFolder) -> bool:
    return run.predictions.is_file() and run.metrics.is_file()


def read_history(run: RunFolder) -> pd.DataFrame:
    return pd.read_csv(run.require(run.history, "python -m model train"))


def read_metrics(run: RunFolder) -> dict:
    """metrics.json, or {} before the run is evaluated."""
    return _read_json(run.metrics) if run.metrics.is_file() else {}


def read_predictions(run: RunFolder) -> pd.DataFrame:
    return pd.read_csv(run.require(run.predictions, f"python -m model evaluate --run {run.name}"), keep_default_na=False)


def read_confusion(run: RunFolder) -> pd.DataFrame:
    return pd.read_csv(run.require(run.confusion, f"python -m model evaluate --run {run.name}"), index_col=0)


def read_attention_sums(run: RunFolder) -> dict[str, np.ndarray]:
    with np.load(run.require(run.attention_sums, f"python -m model evaluate --run {run.name}")) as sums:
        return {key: sums[key] for key in sums.files}


def read_attention_maps(run: RunFolder, mmap: bool = True) -> np.ndarray:
    """(N, h, w) float16, rows aligned with predictions.csv; memory-mapped by default."""
    return np.load(run.require(run.attention_maps, f"python -m model evaluate --run {run.name}"),
                   mmap_mode="r" if mmap else None)


def read_embeddings(run: RunFolder, mmap: bool = True) -> np.ndarray:
    return np.load(run.require(run.embeddings, f"python -m model evaluate --run {run.name}"),
                   mmap_mode="r" if mmap else None)
