"""The dashboard's only door to the workspace: run folders and dataset folders, cached.

File names, schemas and validation are core.contract's: every reader here is a contract reader
(`RunFolder.read_*`, `DatasetFolder`, `read_manifest_table`) wrapped in a cache, and raises its
`ContractError` (the message names the file and the command that remakes it) for pages to show.
Tables and arrays are cached with `st.cache_data`, keyed by the folder *and* the modification time
of every file the reader opens, so a rerun of `python -m model evaluate` shows up without
restarting the app. Models and rembg sessions are cached with `st.cache_resource` (one per process).
The dashboard never trains; what it does write (a run's look index on a miss, ...) is listed in
docs/DASHBOARD.md, "What it writes".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from core import contract
from core.config import Settings, get_settings
from core.contract import ContractError, DatasetFolder, RunConfig, RunFolder
from core.images import ImageError, load_rgb


def stamp(path: str | os.PathLike) -> int:
    """Modification time in ns (0 when missing): part of every cache key, so new files invalidate."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


# --------------------------------------------------------------------------- runs and datasets


@dataclass(frozen=True)
class RunInfo:
    """What the sidebar needs to know about one run folder, from its config.json."""

    name: str
    path: str
    variant: str  # config.json's variant: "raw", "nobg", or another kind ("ensemble"); "" when it says none
    dataset_dir: str  # the dataset folder of config.json's manifest, "" when it names none
    trained: bool
    evaluated: bool
    problem: str = ""  # why config.json cannot be read (the file and what to rerun); "" for a readable run
    architecture: str = ""  # config.json's architecture: "attention-pool", "thesis" (before it was recorded), "baseline"

    @property
    def folder(self) -> RunFolder:
        return RunFolder(Path(self.path))

    @property
    def dataset(self) -> str:
        return Path(self.dataset_dir).name if self.dataset_dir else ""

    @property
    def damaged(self) -> bool:
        return bool(self.problem)


def run_info(folder: RunFolder) -> RunInfo:
    """The run as its config.json describes it; a damaged config gives a run that carries the problem."""
    trained, evaluated = folder.is_trained(), folder.is_evaluated()
    try:
        config = folder.read_config()
    except ContractError as exc:
        return RunInfo(name=folder.name, path=str(folder.root), variant="", dataset_dir="", trained=trained,
                       evaluated=evaluated, problem=str(exc))
    dataset = config.dataset
    return RunInfo(name=folder.name, path=str(folder.root), variant=config.variant,
                   dataset_dir=str(dataset.root) if dataset else "", trained=trained, evaluated=evaluated,
                   architecture=contract.architecture_of(config))


@st.cache_data(show_spinner=False)
def _run_infos(workspace: str, stamps: tuple) -> list[RunInfo]:
    # `stamps` (every run's `_listing_stamps`) is only the cache key: a changed file re-lists the runs.
    return [run_info(folder) for folder in contract.list_runs(get_settings(workspace))]


def _listing_stamps(folder: RunFolder) -> tuple:
    """What `run_info` reads of a run: its config, and the files that make it trained / evaluated."""
    return folder.name, stamp(folder.config), stamp(folder.model), stamp(folder.metrics), stamp(folder.predictions)


def list_run_infos(settings: Settings | None = None) -> list[RunInfo]:
    """Every run folder with a config.json, damaged ones included; re-read when any of their files changes."""
    settings = settings or get_settings()
    root = settings.paths.runs
    folders = [RunFolder(p) for p in sorted(root.iterdir())] if root.is_dir() else []
    return _run_infos(str(settings.paths.root), tuple(_listing_stamps(f) for f in folders))


@st.cache_data(show_spinner=False)
def _comparison(path: str, mtime: int) -> dict:
    return contract.ComparisonFiles(Path(path).parent, Path(path).stem).read_summary()


def comparisons(settings: Settings | None = None) -> dict[str, dict]:
    """`python -m model compare` tables by name (comparisons/<name>.json), re-read when one changes."""
    return {files.name: _comparison(str(files.summary_json), stamp(files.summary_json))
            for files in contract.list_comparisons(settings or get_settings())}


def list_datasets(settings: Settings | None = None) -> list[str]:
    """Names of the workspace's dataset folders (those with a manifest)."""
    return [folder.name for folder in contract.list_datasets(settings or get_settings())]


# --------------------------------------------------------------------------- dataset folders


def dataset_folder(dataset_dir: str) -> DatasetFolder:
    return DatasetFolder(Path(dataset_dir))


@st.cache_data(show_spinner=False)
def _dataset_summary(root: str, summary_mtime: int) -> dict:
    return DatasetFolder(Path(root)).read_summary()


def dataset_summary(dataset_dir: str) -> dict:
    """summary.json of a dataset folder, {} before `prepare` wrote one; raises DataError when damaged."""
    folder = dataset_folder(dataset_dir)
    return _dataset_summary(str(folder.root), stamp(folder.summary))


@st.cache_data(show_spinner=False)
def _dataset_source_kind(root: str, summary_mtime: int) -> str:
    return DatasetFolder(Path(root)).source()["kind"]


def dataset_source_kind(dataset_dir: str) -> str:
    """What the data is, as `prepare` recorded it in summary.json: "demo", "real", or "unknown" when it predates that."""
    folder = dataset_folder(dataset_dir)
    return _dataset_source_kind(str(folder.root), stamp(folder.summary))


def dataset_is_demo(dataset_dir: str) -> bool:
    """A generated demo dataset: its summary.json's `source.kind` says so (nothing else is looked at)."""
    return bool(dataset_dir) and dataset_source_kind(dataset_dir) == "demo"


@st.cache_data(show_spinner=False)
def _manifest(path: str, mtime: int) -> pd.DataFrame:
    return contract.read_manifest_table(path, required=contract.TRAINING_COLUMNS)


def dataset_manifest(dataset_dir: str, variant: str = "raw") -> pd.DataFrame:
    """The manifest of one variant ("raw" or "nobg") as strings; raises DataError when missing or damaged."""
    path = dataset_folder(dataset_dir).manifest_for(variant)
    return _manifest(str(path), stamp(path))


# --------------------------------------------------------------------------- run folders


@st.cache_data(show_spinner=False)
def _run_config(root: str, config_mtime: int) -> RunConfig:
    return RunFolder(Path(root)).read_config()


def run_config(run: RunInfo) -> RunConfig:
    return _run_config(run.path, stamp(run.folder.config))


def run_class_names(run: RunInfo) -> list[str]:
    """The model's classes in output order: config.json's class_names, the one place that records them."""
    return list(run_config(run).class_names)


@st.cache_data(show_spinner=False)
def _run_metrics(root: str, metrics_mtime: int) -> dict:
    return RunFolder(Path(root)).read_metrics()


def run_metrics(run: RunInfo) -> dict:
    """metrics.json, {} before the run is evaluated."""
    return _run_metrics(run.path, stamp(run.folder.metrics))


@st.cache_data(show_spinner=False)
def _run_history(root: str, history_mtime: int) -> pd.DataFrame:
    return RunFolder(Path(root)).read_history()


def run_history(run: RunInfo) -> pd.DataFrame:
    return _run_history(run.path, stamp(run.folder.history))


@st.cache_data(show_spinner=False)
def _run_confusion(root: str, confusion_mtime: int) -> pd.DataFrame:
    return RunFolder(Path(root)).read_confusion()


def run_confusion(run: RunInfo) -> pd.DataFrame:
    return _run_confusion(run.path, stamp(run.folder.confusion))


@st.cache_data(show_spinner=False)
def _run_predictions(root: str, predictions_mtime: int) -> pd.DataFrame:
    return RunFolder(Path(root)).read_predictions()


def run_predictions(run: RunInfo) -> pd.DataFrame:
    """predictions.csv as strings (empty cells ""): one row per test photo."""
    return _run_predictions(run.path, stamp(run.folder.predictions))


@st.cache_data(show_spinner=False)
def _attention_sums(root: str, sums_mtime: int) -> dict[str, np.ndarray]:
    # The heatmaps need every array evaluate writes in the archive.
    return RunFolder(Path(root)).read_attention_sums(required=contract.SUMS_KEYS)


def run_attention_sums(run: RunInfo) -> dict[str, np.ndarray]:
    return _attention_sums(run.path, stamp(run.folder.attention_sums))


@st.cache_data(show_spinner=False, max_entries=8)
def _attention_maps(root: str, maps_mtime: int, rows: int) -> np.ndarray:
    # float16 (N, 28, 28): 1.5 kB a photo, small enough to hold in memory as float32.
    return np.array(RunFolder(Path(root)).read_attention_maps(rows=rows), dtype=np.float32)


def run_attention_maps(run: RunInfo, rows: int) -> np.ndarray:
    """attention/maps.npy, checked to hold `rows` maps: one per row of predictions.csv, in its order."""
    return _attention_maps(run.path, stamp(run.folder.attention_maps), int(rows))


ATTENTION_COMMAND = "python -m analysis attention --run {run}"


@st.cache_data(show_spinner=False)
def _attention_per_image(root: str, mtime: int) -> pd.DataFrame:
    folder = RunFolder(Path(root))
    try:
        frame = contract.read_table(folder.attention_per_image, contract.PREDICTION_COLUMNS, "per-image attention metrics")
    except ContractError as exc:  # the table reader names the file; add the command that remakes it
        raise contract.RunError(f"{exc}; rerun `{ATTENTION_COMMAND.format(run=folder.name)}`") from None
    numeric = [c for c in frame.columns if c not in contract.PREDICTION_COLUMNS]
    frame[numeric] = frame[numeric].apply(pd.to_numeric, errors="coerce")
    return frame


def run_attention_per_image(run: RunInfo) -> pd.DataFrame | None:
    """`attention/per_image.csv` from `python -m analysis attention`, None before it has run."""
    path = run.folder.attention_per_image
    return _attention_per_image(run.path, stamp(path)) if path.is_file() else None


@st.cache_data(show_spinner=False)
def _brand_analytics(root: str, analytics_mtime: int) -> dict:
    return RunFolder(Path(root)).read_brand_analytics()


def run_brand_analytics(run: RunInfo) -> dict:
    """brand_analytics.json from `python -m analysis`, {} before it has run."""
    return _brand_analytics(run.path, stamp(run.folder.brand_analytics))


IDENTITY_COMMAND = contract.IDENTITY_COMMAND


@st.cache_data(show_spinner=False)
def _identity(root: str, identity_mtime: int) -> dict:
    return RunFolder(Path(root)).read_identity()


def run_identity(run: RunInfo) -> dict:
    """identity.json from `python -m analysis identity`, {} before it has run; raises RunError when damaged."""
    return _identity(run.path, stamp(run.folder.identity))


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
def _mean_mask(paths: tuple[str, ...], mtimes: tuple[int, ...], size: tuple[int, int]) -> np.ndarray | None:
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
        mask = _mean_mask(paths, tuple(stamp(p) for p in paths), size) if paths else None
        if mask is not None:
            out[str(brand)] = mask
    return out


# --------------------------------------------------------------------------- models (cache_resource)


def model_stamp(run: RunInfo) -> tuple[int, int]:
    """What a loaded model depends on: model.keras and config.json (classes, input size, resize filter)."""
    return stamp(run.folder.model), stamp(run.folder.config)


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def _analyser(run_dir: str, model_stamp: tuple[int, int]):
    from model.predict import load_analyser

    return load_analyser(run_dir)


def analyser(run: RunInfo):
    """The run's model wrapped by `model.predict.load_analyser` (custom layers from `model.layers`)."""
    return _analyser(run.path, model_stamp(run))


@st.cache_resource(show_spinner="Loading the background-removal model…")
def rembg_session(model_name: str, workspace: str):
    from data.background import new_rembg_session

    return new_rembg_session(model_name, get_settings(workspace))


@st.cache_data(show_spinner=False, max_entries=1024)
def _overlay(path: str, photo_mtime: int, run_dir: str, maps_mtime: int, rows: int, row: int, opacity: float,
             max_side: int):
    from model.maps import overlay

    picture = _thumbnail(path, photo_mtime, max_side)
    if picture is None:
        return None
    attention = _attention_maps(run_dir, maps_mtime, rows)[row]
    return np.asarray(overlay(Image.fromarray(picture), attention, opacity=opacity))


def attention_overlay(run: RunInfo, row: int, path: str, rows: int, opacity: float = 0.5,
                      max_side: int = 256) -> np.ndarray | None:
    """Row `row` of predictions.csv (`rows` rows): its photo, downsampled, with its attention map blended over it
    (model.maps.overlay). None when the photo cannot be read; raises ContractError when maps.npy is missing or
    does not hold one map per prediction."""
    maps_mtime = stamp(run.folder.attention_maps)
    return _overlay(str(path), stamp(path), run.path, maps_mtime, int(rows), int(row), float(opacity), max_side)


@st.cache_resource(show_spinner="Preparing Grad-CAM…", max_entries=4)
def _gradcam_model(run_dir: str, model_stamp: tuple[int, int]):
    from analysis.attention.gradcam import GradCam

    return GradCam(_analyser(run_dir, model_stamp).model)


def gradcam_model(run: RunInfo):
    """Grad-CAM (analysis.attention.gradcam, block5_conv3) on the run's loaded model."""
    return _gradcam_model(run.path, model_stamp(run))


@st.cache_resource(show_spinner="Indexing the runway looks…", max_entries=4)
def _look_index(run_dir: str, embeddings_mtime: int, predictions_mtime: int, workspace: str):
    from analysis.brand.similarity import load_or_build_index

    return load_or_build_index(run_dir, get_settings(workspace))


def look_index(run: RunInfo):
    """The run's cosine kNN index of its test looks (embeddings.npy + predictions.csv). Read from the run's
    `index/` folder when current, else built and written there: the one file the dashboard writes on its own."""
    folder = run.folder
    return _look_index(run.path, stamp(folder.embeddings), stamp(folder.predictions), str(folder.root.parents[1]))
