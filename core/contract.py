"""The artifact contract between the stages: every file name and schema of a dataset folder and a run folder.

    datasets/<name>/            DatasetFolder: manifest.csv, summary.json, nobg/manifest.csv
    runs/<run>/                 RunFolder: config.json (RunConfig), history.csv, checkpoints/, model.keras,
                                metrics.json, confusion.csv, predictions.csv, embeddings.npy,
                                attention/{maps.npy, sums.npz, per_image.csv, gradcam.npz, reliance.csv},
                                brand_analytics.json, index/, identity.json, identity/{counterfactuals.npz,
                                occlusion.npz}; an ensemble also weight_grid.csv, validation/

Every stage and the dashboard reach these files through this module: nothing else spells a file
name or guesses a key. Readers validate what they read (columns, shapes, types) and raise
`ContractError` subclasses whose message names the file and the command that remakes it, so a
damaged or older artifact is one clear line, never a traceback. Writers are atomic (core.fileio).
docs/ARCHITECTURE.md describes the same layout in prose.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import Settings, get_settings
from core.fileio import write_dataframe_atomic, write_json_atomic
from core.tables import read_csv, read_csv_with_columns


class ContractError(ValueError):
    """An artifact that is missing, damaged or of another version; the message says which file and what to run."""


class DataError(ContractError):
    """A dataset, manifest or photo the next stage cannot use; the message is meant for the user."""


class RunError(ContractError):
    """A run folder that is missing, incomplete or damaged; the message says which file and what to run."""


class AnalyticsError(ContractError):
    """A question a run's outputs cannot answer (brand analytics, an ensemble of two runs); the message says what to do."""


@contextlib.contextmanager
def reraise_as(error: type[ContractError]) -> Iterator[None]:
    """Inside, any other `ContractError` comes out as `error` with the same message: for callers that catch one class."""
    try:
        yield
    except ContractError as exc:
        if isinstance(exc, error):
            raise
        raise error(str(exc)) from None


# --------------------------------------------------------------------------- source folder (a crawl, an import, the demo)

RUNWAY_CSV_FILE = "runway.csv"  # the thesis's columns first (core.config.RUNWAY_CSV_COLUMNS)
DEMO_GROUND_TRUTH_FILE = "demo.json"  # the demo generator's parameters and signature table, beside its runway CSV
DEMO_LOOKS_FILE = "looks.csv"  # the demo's per-look cues (fabric, cut, head, feet, venue)

# --------------------------------------------------------------------------- dataset folder

VARIANTS = ("raw", "nobg")
SPLITS = ("train", "val", "test")
MANIFEST_FILE = "manifest.csv"
SUMMARY_FILE = "summary.json"
NOBG_DIR = "nobg"
# Columns `prepare` writes, in order; `remove-background` adds the nobg ones.
MANIFEST_COLUMNS = ("path", "image_path", "brand", "brand_key", "collection", "season", "year", "split", "sha256",
                    "figure_mask_path", "zones_mask_path")
NOBG_EXTRA_COLUMNS = ("original_path", "rembg_mask_path")
NOBG_COLUMNS = MANIFEST_COLUMNS + NOBG_EXTRA_COLUMNS
# What training and evaluation need of any manifest (a hand-made one may hold only these).
TRAINING_COLUMNS = ("path", "brand", "split")
# `summary.json` → `source.kind`: what the data is, recorded by `prepare` so nobody has to guess.
SOURCE_KINDS = ("demo", "real")


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise DataError(f"unknown variant {variant!r}; expected one of: {', '.join(VARIANTS)}")
    return variant


@dataclass(frozen=True)
class DatasetFolder:
    """`datasets/<name>/`: the manifest of the raw photos, its summary, and the background-removed `nobg/`."""

    root: Path

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST_FILE

    @property
    def summary(self) -> Path:
        return self.root / SUMMARY_FILE

    @property
    def nobg_dir(self) -> Path:
        return self.root / NOBG_DIR

    @property
    def nobg_manifest(self) -> Path:
        return self.nobg_dir / MANIFEST_FILE

    def manifest_for(self, variant: str) -> Path:
        return self.manifest if check_variant(variant) == "raw" else self.nobg_manifest

    def exists(self) -> bool:
        return self.manifest.is_file()

    def read_summary(self) -> dict:
        """summary.json, or {} before `prepare` wrote one."""
        return read_json_object(self.summary, DataError) if self.summary.is_file() else {}

    def source(self) -> dict:
        """`{"kind": "demo"|"real", ...}` as `prepare` recorded it; kind "unknown" for datasets prepared before it did."""
        value = self.read_summary().get("source")
        return value if isinstance(value, dict) and value.get("kind") in SOURCE_KINDS else {"kind": "unknown"}

    def is_demo(self) -> bool:
        return self.source()["kind"] == "demo"

    @classmethod
    def of_manifest(cls, manifest: str | os.PathLike) -> DatasetFolder:
        """The dataset a manifest belongs to (`nobg/manifest.csv` belongs to its parent)."""
        folder = Path(manifest).parent
        return cls(folder.parent if folder.name == NOBG_DIR else folder)


def dataset_folder(name: str, settings: Settings | None = None) -> DatasetFolder:
    return DatasetFolder((settings or get_settings()).paths.datasets / name)


def list_datasets(settings: Settings | None = None) -> list[DatasetFolder]:
    """The workspace's dataset folders that hold a manifest, by name."""
    root = (settings or get_settings()).paths.datasets
    return [DatasetFolder(p) for p in sorted(root.iterdir()) if (p / MANIFEST_FILE).is_file()] if root.is_dir() else []


def read_manifest_table(path: str | os.PathLike, required: tuple[str, ...] = MANIFEST_COLUMNS) -> pd.DataFrame:
    """A manifest as strings (empty cells ""), with `required` columns checked; raises `DataError`."""
    return read_csv_with_columns(Path(path), required, "manifest", DataError)


def write_manifest(path: str | os.PathLike, frame: pd.DataFrame, columns: tuple[str, ...] = MANIFEST_COLUMNS) -> Path:
    return write_dataframe_atomic(path, frame.loc[:, list(columns)])


# --------------------------------------------------------------------------- run folder

CONFIG_FILE = "config.json"
MODEL_FILE = "model.keras"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
CONFUSION_FILE = "confusion.csv"
PREDICTIONS_FILE = "predictions.csv"
VAL_PREDICTIONS_FILE = "val_predictions.csv"
EMBEDDINGS_FILE = "embeddings.npy"
BRAND_ANALYTICS_FILE = "brand_analytics.json"
WEIGHT_GRID_FILE = "weight_grid.csv"
ATTENTION_DIR = "attention"
IDENTITY_FILE = "identity.json"  # `python -m analysis identity`: where each house's identity lives
IDENTITY_DIR = "identity"  # its resumable model passes
IDENTITY_KEYS = ("profile", "rival", "headline_method", "skipped")  # always present; a demo run adds "faithfulness"
IDENTITY_COMMAND = "python -m analysis identity --run {run}"
PROB_PREFIX = "prob_"
PREDICTION_COLUMNS = ("path", "brand", "predicted")
HISTORY_COLUMNS = ("epoch", "accuracy", "loss")  # what the Training page draws; training also writes val_* and more
SUMS_KEYS = ("by_true_native", "by_pred_native", "count_by_true", "count_by_pred", "by_true_upsampled",
             "by_pred_upsampled", "class_names", "image_size")
# config.json's layout version. Version 1 (no key) is the same flat layout without it, and loads as is.
CONFIG_VERSION = 2
TRAIN_COMMAND = "python -m model train --variant <raw|nobg> --data <dataset> --run {run} --restart"
EVALUATE_COMMAND = "python -m model evaluate --run {run}"


@dataclass(frozen=True)
class RunConfig:
    """`config.json`: what a run is. The typed fields are what other stages read; `details` keeps the rest
    (hyper-parameters, library versions, ...) verbatim, so a config round-trips through JSON unchanged."""

    run: str
    variant: str  # "raw", "nobg", "ensemble", ...
    class_names: list[str]
    manifest: str | None = None  # the manifest it was trained (or joined) on
    image_size: int | None = None
    resize_filter: str = "nearest"
    details: dict = field(default_factory=dict)

    TYPED = ("run", "variant", "class_names", "manifest", "image_size", "resize_filter")

    @property
    def dataset(self) -> DatasetFolder | None:
        return DatasetFolder.of_manifest(self.manifest) if self.manifest else None

    @property
    def dataset_name(self) -> str:
        return self.dataset.name if self.dataset else ""

    def get(self, key: str, default=None):
        """A typed field or a detail, by its config.json key."""
        return getattr(self, key) if key in self.TYPED else self.details.get(key, default)

    def to_dict(self) -> dict:
        typed = {key: getattr(self, key) for key in self.TYPED}
        return {"config_version": CONFIG_VERSION, **typed, **self.details}

    @classmethod
    def from_dict(cls, value: dict, where: Path | str = CONFIG_FILE) -> RunConfig:
        if not isinstance(value, dict):
            raise RunError(f"{where} should hold a JSON object")
        version = value.get("config_version", 1)
        if version not in (1, CONFIG_VERSION):
            raise RunError(f"{where} is config version {version!r}, which this Runway Lens cannot read; "
                           "update Runway Lens, or retrain the run")
        names = value.get("class_names")
        if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
            raise RunError(f"{where} has no class_names list; retrain the run "
                           f"(`{TRAIN_COMMAND.format(run=Path(where).parent.name)}`)")
        details = {k: v for k, v in value.items() if k not in cls.TYPED and k != "config_version"}
        run = value.get("run") or Path(where).parent.name
        size = value.get("image_size")
        return cls(run=str(run), variant=str(value.get("variant") or ""), class_names=list(names),
                   manifest=value.get("manifest") or None, image_size=int(size) if size is not None else None,
                   resize_filter=str(value.get("resize_filter") or "nearest"), details=details)

    def replace(self, **changes) -> RunConfig:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class RunFolder:
    """`runs/<run>/`: one trained (or combined) model and everything computed from it."""

    root: Path

    @property
    def name(self) -> str:
        return self.root.name

    config = property(lambda self: self.root / CONFIG_FILE)
    checkpoints = property(lambda self: self.root / "checkpoints")
    history = property(lambda self: self.root / HISTORY_FILE)
    model = property(lambda self: self.root / MODEL_FILE)
    metrics = property(lambda self: self.root / METRICS_FILE)
    confusion = property(lambda self: self.root / CONFUSION_FILE)
    predictions = property(lambda self: self.root / PREDICTIONS_FILE)
    val_predictions = property(lambda self: self.root / VAL_PREDICTIONS_FILE)
    embeddings = property(lambda self: self.root / EMBEDDINGS_FILE)
    brand_analytics = property(lambda self: self.root / BRAND_ANALYTICS_FILE)
    look_index_dir = property(lambda self: self.root / "index")
    weight_grid = property(lambda self: self.root / WEIGHT_GRID_FILE)  # an ensemble's weight search
    validation_dir = property(lambda self: self.root / "validation")  # an ensemble's members' validation predictions
    attention_dir = property(lambda self: self.root / ATTENTION_DIR)
    attention_maps = property(lambda self: self.attention_dir / "maps.npy")
    attention_sums = property(lambda self: self.attention_dir / "sums.npz")
    attention_per_image = property(lambda self: self.attention_dir / "per_image.csv")
    gradcam_cache = property(lambda self: self.attention_dir / "gradcam.npz")
    reliance_cache = property(lambda self: self.attention_dir / "reliance.csv")
    identity = property(lambda self: self.root / IDENTITY_FILE)
    identity_dir = property(lambda self: self.root / IDENTITY_DIR)
    # model scores of the counterfactual renders and of the occluded photos, keyed by photo, edit and model file
    counterfactual_cache = property(lambda self: self.identity_dir / "counterfactuals.npz")
    occlusion_cache = property(lambda self: self.identity_dir / "occlusion.npz")
    swap_cache = property(lambda self: self.identity_dir / "swap.npz")

    def require(self, path: Path, made_by: str) -> Path:
        if not path.is_file():
            raise RunError(f"run {self.name!r} has no {path.relative_to(self.root)}; run `{made_by}` first")
        return path

    def is_trained(self) -> bool:
        return self.model.is_file()

    def is_evaluated(self) -> bool:
        return self.predictions.is_file() and self.metrics.is_file()

    # ---- readers: each validates what it reads

    def read_config(self) -> RunConfig:
        path = self.require(self.config, "python -m model train")
        return RunConfig.from_dict(read_json_object(path, RunError), path)

    def write_config(self, config: RunConfig) -> Path:
        return write_json_atomic(self.config, config.to_dict())

    def read_metrics(self) -> dict:
        """metrics.json, or {} before the run is evaluated."""
        return read_json_object(self.metrics, RunError) if self.metrics.is_file() else {}

    def read_history(self) -> pd.DataFrame:
        """history.csv with epoch, accuracy and loss, numbers parsed."""
        path = self.require(self.history, "python -m model train")
        # Training rewrites it atomically and whole, ending in a line break: a file that does not was cut off,
        # and its last row (or its header) is partial, which the CSV reader would take as missing values.
        if is_cut_off(path):
            raise RunError(f"{path} is cut off (its last line is incomplete); rerun `{TRAIN_COMMAND.format(run=self.name)}`")
        frame = read_table(path, HISTORY_COLUMNS, "training history")
        return frame.apply(pd.to_numeric, errors="coerce")

    def read_predictions(self, path: Path | None = None) -> pd.DataFrame:
        """predictions.csv (numbers parsed, empty cells ""), with path/brand/predicted and at least one row."""
        path = self.require(path or self.predictions, EVALUATE_COMMAND.format(run=self.name))
        frame = read_table(path, PREDICTION_COLUMNS, "predictions", as_text=False)
        for column in PREDICTION_COLUMNS:
            frame[column] = frame[column].astype(str)
        if frame.empty:
            raise RunError(f"{path} has no rows; rerun `{EVALUATE_COMMAND.format(run=self.name)}`")
        return frame

    def read_confusion(self) -> pd.DataFrame:
        """The square confusion matrix (true brand × predicted brand) as integers."""
        path = self.require(self.confusion, EVALUATE_COMMAND.format(run=self.name))
        try:
            frame = read_csv(path, index_col=0)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise RunError(f"{path} is not a readable CSV ({exc}); rerun `{EVALUATE_COMMAND.format(run=self.name)}`") from None
        numbers = frame.apply(pd.to_numeric, errors="coerce")
        if frame.empty or frame.shape[0] != frame.shape[1] or numbers.isna().any().any():
            raise RunError(f"{path} is not a square matrix of counts (shape {frame.shape}); "
                           f"rerun `{EVALUATE_COMMAND.format(run=self.name)}`")
        return numbers.astype(int)

    def read_attention_maps(self, mmap: bool = True, rows: int | None = None) -> np.ndarray:
        """(N, h, w) float16 maps, rows aligned with predictions.csv; memory-mapped by default."""
        path = self.require(self.attention_maps, EVALUATE_COMMAND.format(run=self.name))
        maps = read_npy(path, mmap, RunError, EVALUATE_COMMAND.format(run=self.name))
        expected = "" if rows is None or maps.shape[:1] == (rows,) else f" and {rows} rows (one per prediction)"
        if maps.ndim != 3 or expected:
            raise RunError(f"{path} has shape {maps.shape}; expected (photos, height, width){expected}; "
                           f"rerun `{EVALUATE_COMMAND.format(run=self.name)}`")
        return maps

    def read_attention_sums(self, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
        """attention/sums.npz's arrays; `required` (e.g. SUMS_KEYS) are the ones the caller cannot do without."""
        path = self.require(self.attention_sums, EVALUATE_COMMAND.format(run=self.name))
        try:
            with np.load(path, allow_pickle=False) as sums:
                values = {key: np.asarray(sums[key]) for key in sums.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise RunError(f"{path} is damaged ({exc}); rerun `{EVALUATE_COMMAND.format(run=self.name)}`") from None
        missing = [key for key in required if key not in values]
        if missing:
            raise RunError(f"{path} lacks {', '.join(missing)}; rerun `{EVALUATE_COMMAND.format(run=self.name)}`")
        return values

    def read_embeddings(self, mmap: bool = True, rows: int | None = None) -> np.ndarray:
        path = self.require(self.embeddings, EVALUATE_COMMAND.format(run=self.name))
        vectors = read_npy(path, mmap, RunError, EVALUATE_COMMAND.format(run=self.name))
        if vectors.ndim != 2 or (rows is not None and vectors.shape[0] != rows):
            raise RunError(f"{path} has shape {vectors.shape}; expected one row per predictions.csv row"
                           f"{f' ({rows})' if rows is not None else ''}")
        return vectors

    def read_brand_analytics(self) -> dict:
        return read_json_object(self.brand_analytics, RunError) if self.brand_analytics.is_file() else {}

    def read_identity(self) -> dict:
        """identity.json with its keys checked (`IDENTITY_KEYS`; `faithfulness` on demo data); {} before it is written."""
        if not self.identity.is_file():
            return {}
        value = read_json_object(self.identity, RunError)
        remake = IDENTITY_COMMAND.format(run=self.name)
        missing = [key for key in IDENTITY_KEYS if key not in value]
        if missing:
            raise RunError(f"{self.identity} lacks {', '.join(missing)}; rerun `{remake}`")
        if not all(isinstance(value[key], dict) for key in ("profile", "rival", "skipped")):
            raise RunError(f"{self.identity}: profile, rival and skipped should be objects; rerun `{remake}`")
        if "faithfulness" in value and not isinstance(value["faithfulness"], dict):
            raise RunError(f"{self.identity}: faithfulness should be an object; rerun `{remake}`")
        return value


def resolve_run(run: str | os.PathLike, settings: Settings | None = None, must_exist: bool = True) -> RunFolder:
    """A run by name (under the workspace's runs/) or by folder path."""
    path = Path(run).expanduser()
    if not (path.is_dir() and (path / CONFIG_FILE).is_file()):
        path = (settings or get_settings()).paths.run_dir(str(run))
    folder = RunFolder(path.resolve())
    if must_exist and not folder.config.is_file():
        raise RunError(f"no run {str(run)!r}: {folder.config} does not exist (train it with `python -m model train`)")
    return folder


def list_runs(settings: Settings | None = None) -> list[RunFolder]:
    """Every run folder of the workspace that has a config.json, by name."""
    runs = (settings or get_settings()).paths.runs
    return [RunFolder(p) for p in sorted(runs.iterdir()) if (p / CONFIG_FILE).is_file()] if runs.is_dir() else []


def probability_columns(class_names: list[str]) -> list[str]:
    return [f"{PROB_PREFIX}{name}" for name in class_names]


# --------------------------------------------------------------------------- validated low-level readers


def read_json_object(path: Path, error: type[ContractError] = ContractError) -> dict:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path} is not readable JSON ({exc})") from None
    if not isinstance(value, dict):
        raise error(f"{path} should hold a JSON object")
    return value


def is_cut_off(path: Path) -> bool:
    """A text file that does not end with a line break: cut off mid-line (an empty file is not; its reader says so)."""
    with open(path, "rb") as file:
        if file.seek(0, os.SEEK_END) == 0:
            return False
        file.seek(-1, os.SEEK_END)
        return file.read(1) not in (b"\n", b"\r")


def read_table(path: Path, required: tuple[str, ...], what: str, as_text: bool = True) -> pd.DataFrame:
    return read_csv_with_columns(Path(path), required, what, RunError, as_text=as_text)


def read_npy(path: Path, mmap: bool, error: type[ContractError], remake: str) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise error(f"{path} is damaged ({exc}); rerun `{remake}`") from None


# --------------------------------------------------------------------------- comparisons (`python -m model compare`)

COMPARISONS_DIR = "comparisons"
# config.json's `architecture`; a run written before it was recorded is the thesis network.
DEFAULT_RECORDED_ARCHITECTURE = "thesis"


@dataclass(frozen=True)
class ComparisonFiles:
    """`comparisons/<name>.json` (the summary table), `<name>-seeds.csv` (one row per seed) and the runs behind them."""

    root: Path
    name: str

    @property
    def summary_json(self) -> Path:
        return self.root / f"{self.name}.json"

    @property
    def seeds_csv(self) -> Path:
        return self.root / f"{self.name}-seeds.csv"

    @property
    def runs_dir(self) -> Path:
        return self.root / self.name / "runs"

    def read_summary(self) -> dict:
        return read_json_object(self.summary_json, ContractError)


def comparison_files(settings: Settings, name: str) -> ComparisonFiles:
    return ComparisonFiles(settings.paths.root / COMPARISONS_DIR, name)


def list_comparisons(settings: Settings) -> list[ComparisonFiles]:
    root = settings.paths.root / COMPARISONS_DIR
    return [ComparisonFiles(root, p.stem) for p in sorted(root.glob("*.json"))] if root.is_dir() else []


def architecture_of(config: RunConfig) -> str:
    return str(config.get("architecture") or DEFAULT_RECORDED_ARCHITECTURE)
