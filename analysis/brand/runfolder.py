"""Read a run folder (docs/ARCHITECTURE.md, "Run folder") into arrays, and keep `brand_analytics.json`.

A run folder holds `config.json` (class names), `predictions.csv` (one row per test image: `path,
brand, predicted, prob_<brand>…`, often `collection, season, year, sha256`), `embeddings.npy` (rows
aligned with `predictions.csv`) and `metrics.json`. Where `predictions.csv` lacks the dataset's
collection/season/year/sha256 columns they are joined from the dataset manifest named in
`config.json`, on `path`. Every problem is an `AnalyticsError` whose message names the file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.brand import AnalyticsError
from core.config import Settings
from core.fileio import sha256_file, write_json_atomic
from model.runs import RunError, resolve_run

ANALYTICS_FILE = "brand_analytics.json"
PROB_PREFIX = "prob_"
# Dataset columns the analytics use when the run knows them (joined from the manifest if missing).
CONTEXT_COLUMNS = ("collection", "season", "year", "sha256", "original_path", "image_path")


@dataclass(frozen=True)
class RunData:
    """One run's test-set outputs, rows aligned across `predictions`, `probabilities` and `embeddings`."""

    name: str
    directory: Path
    class_names: list[str]
    predictions: pd.DataFrame
    probabilities: np.ndarray | None = None  # (N, C) in `class_names` order
    embeddings: np.ndarray | None = None  # (N, D) Dense-512 features
    config: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    def true_indices(self) -> np.ndarray:
        return brand_indices(self.predictions["brand"], self.class_names, "brand", self.directory)

    def predicted_indices(self) -> np.ndarray:
        return brand_indices(self.predictions["predicted"], self.class_names, "predicted", self.directory)


def resolve_run_dir(run: str | Path, settings: Settings) -> Path:
    """A run name under the workspace's `runs/`, or a path to a run folder (model.runs decides)."""
    try:
        return resolve_run(run, settings).root
    except RunError as exc:
        raise AnalyticsError(str(exc)) from None


def read_json(path: Path, required: bool = True) -> dict:
    if not path.is_file():
        if required:
            raise AnalyticsError(f"{path} is missing")
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnalyticsError(f"{path} is not readable JSON ({exc})") from None
    if not isinstance(value, dict):
        raise AnalyticsError(f"{path} should hold a JSON object")
    return value


def read_csv(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise AnalyticsError(f"{path} is missing ({what})")
    try:
        return pd.read_csv(path, keep_default_na=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AnalyticsError(f"{path} is not a readable CSV ({exc})") from None


def brand_indices(values: pd.Series, class_names: list[str], column: str, where: Path) -> np.ndarray:
    lookup = {name: i for i, name in enumerate(class_names)}
    unknown = sorted({str(v) for v in values if str(v) not in lookup})
    if unknown:
        raise AnalyticsError(
            f"{where}: predictions.csv column {column!r} holds brands missing from the run's class names: "
            f"{', '.join(unknown[:5])}"
        )
    return np.array([lookup[str(v)] for v in values], dtype=np.int64)


def class_names_of(config: dict, predictions: pd.DataFrame) -> list[str]:
    """The run's classes: `config.json`'s list, else the `prob_` columns, else the brands seen."""
    for key in ("class_names", "classes", "brands"):
        value = config.get(key)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return list(value)
    prob_columns = [c[len(PROB_PREFIX) :] for c in predictions.columns if c.startswith(PROB_PREFIX)]
    if prob_columns:
        return prob_columns
    return sorted(set(predictions["brand"].astype(str)) | set(predictions["predicted"].astype(str)))


def probability_column(predictions: pd.DataFrame, brand: str) -> str | None:
    """`prob_<brand>` as written, or with the brand's slug (`prob_rick-owens`)."""
    from data.brands import brand_key

    for name in (f"{PROB_PREFIX}{brand}", f"{PROB_PREFIX}{brand_key(brand)}"):
        if name in predictions.columns:
            return name
    return None


def probability_matrix(predictions: pd.DataFrame, class_names: list[str], where: Path) -> np.ndarray:
    columns = [probability_column(predictions, brand) for brand in class_names]
    missing = [brand for brand, col in zip(class_names, columns, strict=True) if col is None]
    if missing:
        raise AnalyticsError(f"{where}: predictions.csv has no probability column for {', '.join(missing)}")
    values = predictions[columns].to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise AnalyticsError(f"{where}: predictions.csv has empty or non-numeric probabilities")
    return values


def manifest_path_of(config: dict) -> Path | None:
    """The dataset manifest a run was trained from, wherever `config.json` names it."""
    found: list[Path] = []

    def visit(value) -> None:
        if isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)
        elif isinstance(value, str) and value.endswith("manifest.csv"):
            found.append(Path(value))

    visit(config)
    return next((p for p in found if p.is_file()), None)


def with_dataset_context(predictions: pd.DataFrame, config: dict) -> pd.DataFrame:
    """Add collection/season/year/sha256 from the dataset manifest where predictions.csv lacks them."""
    missing = [c for c in CONTEXT_COLUMNS if c not in predictions.columns]
    manifest_path = manifest_path_of(config) if missing else None
    if manifest_path is not None:
        manifest = pd.read_csv(manifest_path)
        usable = [c for c in missing if c in manifest.columns]
        if usable and "path" in manifest.columns:
            extra = manifest[["path", *usable]].drop_duplicates("path")
            predictions = predictions.merge(extra, on="path", how="left")
    if "year" in predictions.columns:
        predictions["year"] = pd.to_numeric(predictions["year"], errors="coerce").astype("Int64")
    return predictions


def load_run(
    run: str | Path, settings: Settings, need_embeddings: bool = False, need_probabilities: bool = False
) -> RunData:
    """Read a run folder; `need_*` turn a missing file into an error instead of `None`."""
    directory = resolve_run_dir(run, settings)
    config = read_json(directory / "config.json", required=False)
    predictions = read_csv(directory / "predictions.csv", "the run's test predictions")
    for column in ("path", "brand", "predicted"):
        if column not in predictions.columns:
            raise AnalyticsError(f"{directory / 'predictions.csv'} has no {column!r} column")
    if predictions.empty:
        raise AnalyticsError(f"{directory / 'predictions.csv'} has no rows")
    predictions["brand"] = predictions["brand"].astype(str)
    predictions["predicted"] = predictions["predicted"].astype(str)
    predictions = with_dataset_context(predictions, config)
    class_names = class_names_of(config, predictions)

    probabilities = None
    if need_probabilities or any(c.startswith(PROB_PREFIX) for c in predictions.columns):
        probabilities = probability_matrix(predictions, class_names, directory)

    embeddings = None
    embeddings_path = directory / "embeddings.npy"
    if embeddings_path.is_file():
        try:
            embeddings = np.load(embeddings_path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise AnalyticsError(f"{embeddings_path} is not a readable .npy file ({exc})") from None
        if embeddings.ndim != 2 or embeddings.shape[0] != len(predictions):
            raise AnalyticsError(
                f"{embeddings_path} has shape {embeddings.shape}; expected one row per predictions.csv row "
                f"({len(predictions)})"
            )
        if not np.isfinite(embeddings).all():
            raise AnalyticsError(f"{embeddings_path} holds NaN or infinite values")
        embeddings = embeddings.astype(np.float64)
    elif need_embeddings:
        raise AnalyticsError(f"{embeddings_path} is missing: this needs the run's Dense-512 test embeddings")

    return RunData(
        name=directory.name,
        directory=directory,
        class_names=class_names,
        predictions=predictions,
        probabilities=probabilities,
        embeddings=embeddings,
        config=config,
        metrics=read_json(directory / "metrics.json", required=False),
    )


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def json_ready(value):
    """NaN/inf become null and numpy values plain Python, so the JSON is strict and portable."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def frame_records(frame: pd.DataFrame) -> list[dict]:
    return json_ready(frame.astype(object).where(frame.notna(), None).to_dict(orient="records"))


def read_analytics(run_dir: Path) -> dict:
    return read_json(run_dir / ANALYTICS_FILE, required=False)


def sources_fingerprint(run_dir: Path) -> dict:
    """sha256 of the files a section is computed from, so a re-evaluated run shows as stale."""
    return {
        name: sha256_file(run_dir / name) if (run_dir / name).is_file() else None
        for name in ("predictions.csv", "embeddings.npy")
    }


def update_analytics(run_dir: Path, section: str, payload: dict) -> Path:
    """Replace one section of `brand_analytics.json`, keeping the others (atomic rewrite)."""
    document = read_analytics(run_dir)
    document["run"] = run_dir.name
    document[section] = json_ready(
        {**payload, "sources": sources_fingerprint(run_dir), "updated_at": datetime.now(UTC).isoformat(timespec="seconds")}
    )
    return write_json_atomic(run_dir / ANALYTICS_FILE, document)


def current_section(run_dir: Path, section: str) -> dict | None:
    """A section of `brand_analytics.json` if it was computed from the run's current files, else None."""
    value = read_analytics(run_dir).get(section)
    if not isinstance(value, dict) or value.get("sources") != sources_fingerprint(run_dir):
        return None
    return value
