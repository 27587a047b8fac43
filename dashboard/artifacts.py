"""The dashboard's only door to the workspace: run folders and dataset folders, cached.

Every reader here follows docs/ARCHITECTURE.md (run folders through `model.runs`, dataset
folders through their `manifest.csv`/`summary.json`) and nothing else; the dashboard never trains.
Tables and arrays are cached with `st.cache_data`, keyed by the file's path *and* modification
time, so a rerun of `python -m model evaluate` shows up without restarting the app. Models and
rembg sessions are cached with `st.cache_resource` (one per process).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from core.config import Settings, get_settings
from core.images import ImageError, load_rgb
from model import runs as run_files

MANIFEST = "manifest.csv"
SUMMARY = "summary.json"
NOBG = "nobg"
DEMO_MARKERS = ("demo.json",)


class ArtifactError(ValueError):
    """A run or dataset file the dashboard cannot read; the message names the file and the fix."""


def stamp(path: str | os.PathLike) -> int:
    """Modification time in ns (0 when missing): part of every cache key, so new files invalidate."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


# --------------------------------------------------------------------------- runs and datasets


@dataclass(frozen=True)
class RunInfo:
    """What the sidebar needs to know about one run folder."""

    name: str
    path: str
    variant: str  # "raw", "nobg", or "" when config.json does not say
    dataset_dir: str  # the dataset folder the run trained on, "" when unknown
    trained: bool
    evaluated: bool

    @property
    def folder(self) -> run_files.RunFolder:
        return run_files.RunFolder(Path(self.path))

    @property
    def dataset(self) -> str:
        return Path(self.dataset_dir).name if self.dataset_dir else ""


def _manifest_paths(value) -> list[str]:
    """Every string in a (nested) config that names a manifest CSV."""
    if isinstance(value, dict):
        return [p for v in value.values() for p in _manifest_paths(v)]
    if isinstance(value, list):
        return [p for v in value for p in _manifest_paths(v)]
    return [value] if isinstance(value, str) and value.endswith(".csv") and "manifest" in value else []


def dataset_dir_of(config: dict, settings: Settings) -> str:
    """The dataset folder named by a run's config.json (a manifest path, or a dataset name/folder)."""
    for manifest in _manifest_paths(config):
        folder = Path(manifest).parent
        return str(folder.parent if folder.name == NOBG else folder)
    for key in ("dataset_dir", "dataset"):
        value = config.get(key)
        if isinstance(value, str) and value:
            path = Path(value)
            if not path.is_absolute():
                path = settings.paths.datasets / value
            return str(path.parent if path.name == NOBG else path)
    return ""


def variant_of(config: dict) -> str:
    variant = str(config.get("variant", "")).lower()
    if variant:  # "raw", "nobg", or another kind of run (an ensemble) the pickers leave out
        return variant
    manifests = _manifest_paths(config)
    if manifests:
        return "nobg" if Path(manifests[0]).parent.name == NOBG else "raw"
    return ""


@st.cache_data(show_spinner=False)
def _run_infos(runs_root: str, stamps: tuple) -> list[RunInfo]:
    settings = get_settings(Path(runs_root).parent)
    infos = []
    for folder in run_files.list_runs(settings):
        try:
            config = run_files.read_config(folder)
        except run_files.RunError:
            continue
        infos.append(
            RunInfo(
                name=folder.name, path=str(folder.root), variant=variant_of(config),
                dataset_dir=dataset_dir_of(config, settings), trained=run_files.is_trained(folder),
                evaluated=run_files.is_evaluated(folder),
            )
        )
    return infos


def list_run_infos(settings: Settings | None = None) -> list[RunInfo]:
    """Every run folder with a config.json, re-read when any run's config/model/metrics changes."""
    settings = settings or get_settings()
    root = settings.paths.runs
    stamps = tuple(
        (p.name, stamp(p / "config.json"), stamp(p / "model.keras"), stamp(p / "metrics.json"))
        for p in (sorted(root.iterdir()) if root.is_dir() else [])
    )
    return _run_infos(str(root), stamps)


def list_datasets(settings: Settings | None = None) -> list[str]:
    """Dataset folder names (those with a manifest.csv)."""
    settings = settings or get_settings()
    root = settings.paths.datasets
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())


# --------------------------------------------------------------------------- dataset folders


@st.cache_data(show_spinner=False)
def _read_json(path: str, mtime: int) -> dict:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path} is not readable JSON ({exc})") from None
    return value if isinstance(value, dict) else {}


def read_json(path: str | os.PathLike) -> dict:
    """A JSON object file, or {} when it does not exist."""
    path = Path(path)
    return _read_json(str(path), stamp(path)) if path.is_file() else {}


@st.cache_data(show_spinner=False)
def _read_csv(path: str, mtime: int, index_col: int | None = None) -> pd.DataFrame:
    try:
        return pd.read_csv(path, keep_default_na=False, index_col=index_col)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ArtifactError(f"{path} is not a readable CSV ({exc})") from None


def read_csv(path: str | os.PathLike, index_col: int | None = None) -> pd.DataFrame | None:
    """A CSV as a DataFrame (empty cells stay ""), or None when the file does not exist."""
    path = Path(path)
    return _read_csv(str(path), stamp(path), index_col) if path.is_file() else None


def dataset_summary(dataset_dir: str) -> dict:
    return read_json(Path(dataset_dir) / SUMMARY)


def dataset_manifest(dataset_dir: str, nobg: bool = False) -> pd.DataFrame | None:
    folder = Path(dataset_dir) / NOBG if nobg else Path(dataset_dir)
    return read_csv(folder / MANIFEST)


@st.cache_data(show_spinner=False)
def _csv_mentions_demo(csv_path: str, mtime: int) -> bool:
    try:
        head = pd.read_csv(csv_path, nrows=20, usecols=lambda c: c in ("image_alt", "show_type", "collection_url"))
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return False
    text = " ".join(head.fillna("").astype(str).to_numpy().ravel()).lower()  # pandas 3 keeps NaN through astype(str)
    return "demo" in text


def dataset_is_demo(dataset_dir: str) -> bool:
    """A generated demo dataset: its summary or runway CSV says so, or a demo.json sits beside the CSV."""
    if not dataset_dir:
        return False
    summary = dataset_summary(dataset_dir)
    if summary.get("demo") or str(summary.get("source", "")).lower() == "demo":
        return True
    csv = summary.get("csv")
    if not csv:
        return False
    csv_path = Path(csv)
    if any((csv_path.parent / marker).is_file() for marker in DEMO_MARKERS):
        return True
    return csv_path.is_file() and _csv_mentions_demo(str(csv_path), stamp(csv_path))


# --------------------------------------------------------------------------- run folders


def run_config(run: RunInfo) -> dict:
    return read_json(run.folder.config)


def run_metrics(run: RunInfo) -> dict:
    return read_json(run.folder.metrics)


def run_history(run: RunInfo) -> pd.DataFrame | None:
    history = read_csv(run.folder.history)
    if history is None:
        return None
    return history.apply(pd.to_numeric, errors="coerce")


def run_confusion(run: RunInfo) -> pd.DataFrame | None:
    matrix = read_csv(run.folder.confusion, index_col=0)
    return None if matrix is None else matrix.apply(pd.to_numeric, errors="coerce").fillna(0).astype(int)


def run_predictions(run: RunInfo) -> pd.DataFrame | None:
    return read_csv(run.folder.predictions)


def run_class_names(run: RunInfo) -> list[str]:
    config = run_config(run)
    for key in ("class_names", "classes", "brands"):
        if isinstance(config.get(key), list) and config[key]:
            return [str(v) for v in config[key]]
    matrix = run_confusion(run)
    return list(matrix.index) if matrix is not None else []


@st.cache_data(show_spinner=False)
def _attention_sums(path: str, mtime: int) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as sums:
        return {key: np.asarray(sums[key]) for key in sums.files}


def run_attention_sums(run: RunInfo) -> dict[str, np.ndarray] | None:
    path = run.folder.attention_sums
    return _attention_sums(str(path), stamp(path)) if path.is_file() else None


@st.cache_data(show_spinner=False, max_entries=8)
def _attention_maps(path: str, mtime: int) -> np.ndarray:
    # float16 (N, 28, 28): 1.5 kB a photo, small enough to hold in memory as float32.
    return np.load(path, allow_pickle=False).astype(np.float32)


def run_attention_maps(run: RunInfo) -> np.ndarray | None:
    path = run.folder.attention_maps
    return _attention_maps(str(path), stamp(path)) if path.is_file() else None


def run_attention_per_image(run: RunInfo) -> pd.DataFrame | None:
    """`attention/per_image.csv` from `python -m analysis attention` (issue 8), when it has run."""
    frame = read_csv(run.folder.attention_dir / "per_image.csv")
    if frame is None:
        return None
    numeric = [c for c in frame.columns if c not in ("path", "brand", "predicted")]
    frame = frame.copy()
    frame[numeric] = frame[numeric].apply(pd.to_numeric, errors="coerce")
    return frame


# --------------------------------------------------------------------------- photos


@st.cache_data(show_spinner=False, max_entries=2048)
def _thumbnail(path: str, mtime: int, max_side: int) -> np.ndarray | None:
    try:
        image = load_rgb(path)
    except ImageError:
        return None
    image.thumbnail((max_side, max_side), Image.BILINEAR)
    return np.asarray(image)


def thumbnail(path: str, max_side: int = 256) -> np.ndarray | None:
    """A photo downsampled to at most `max_side` pixels a side, or None when it cannot be read."""
    return _thumbnail(str(path), stamp(path), max_side)


@st.cache_data(show_spinner=False, max_entries=64)
def _mean_mask(paths: tuple[str, ...], size: tuple[int, int]) -> np.ndarray | None:
    from core.images import load_mask

    total, count = np.zeros(size, np.float64), 0
    for path in paths:
        try:
            total += load_mask(path, size=(size[1], size[0]))
            count += 1
        except (OSError, ValueError):
            continue
    return total / count if count else None


def mean_silhouettes(manifest: pd.DataFrame, size: tuple[int, int], per_brand: int = 200) -> dict[str, np.ndarray]:
    """Each brand's mean figure mask at (height, width) `size`, from the manifest's figure masks."""
    column = next((c for c in ("figure_mask_path", "rembg_mask_path") if c in manifest), None)
    if column is None:
        return {}
    out = {}
    for brand, rows in manifest.groupby("brand", sort=False):
        paths = tuple(p for p in rows[column].astype(str) if p and Path(p).is_file())[:per_brand]
        mask = _mean_mask(paths, size) if paths else None
        if mask is not None:
            out[str(brand)] = mask
    return out


# --------------------------------------------------------------------------- models (cache_resource)


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def _analyser(run_dir: str, mtime: int):
    from model.predict import load_analyser

    return load_analyser(run_dir)


def analyser(run: RunInfo):
    """The run's model wrapped by `model.predict.load_analyser` (custom layers from `model.layers`)."""
    return _analyser(run.path, stamp(run.folder.model))


@st.cache_resource(show_spinner="Loading the background-removal model…")
def rembg_session(model_name: str, workspace: str):
    from data.background import new_rembg_session

    return new_rembg_session(model_name, get_settings(workspace))


@st.cache_data(show_spinner=False, max_entries=1024)
def _overlay(path: str, photo_mtime: int, maps_path: str, maps_mtime: int, row: int, opacity: float, max_side: int):
    from model.maps import overlay

    picture = _thumbnail(path, photo_mtime, max_side)
    if picture is None:
        return None
    attention = _attention_maps(maps_path, maps_mtime)[row]
    return np.asarray(overlay(Image.fromarray(picture), attention, opacity=opacity))


def attention_overlay(run: RunInfo, row: int, path: str, opacity: float = 0.5, max_side: int = 256) -> np.ndarray | None:
    """Test photo `row` of a run (downsampled) with its attention map blended over it (model.maps.overlay)."""
    maps_path = run.folder.attention_maps
    if not maps_path.is_file():
        return None
    return _overlay(str(path), stamp(path), str(maps_path), stamp(maps_path), int(row), float(opacity), max_side)


@st.cache_resource(show_spinner="Preparing Grad-CAM…", max_entries=4)
def _gradcam_model(run_dir: str, mtime: int):
    from analysis.attention.gradcam import GradCam

    return GradCam(_analyser(run_dir, mtime).model)


def gradcam_model(run: RunInfo):
    """Grad-CAM (analysis.attention.gradcam, block5_conv3) on the run's loaded model."""
    return _gradcam_model(run.path, stamp(run.folder.model))


@st.cache_resource(show_spinner="Indexing the runway looks…", max_entries=4)
def _look_index(run_dir: str, embeddings_mtime: int, workspace: str):
    from analysis.brand.similarity import load_or_build_index

    return load_or_build_index(run_dir, get_settings(workspace))


def look_index(run: RunInfo):
    """The run's cosine kNN index of its test looks (built once, cached on disk by brand analytics)."""
    return _look_index(run.path, stamp(run.folder.embeddings), str(Path(run.path).parents[1]))
