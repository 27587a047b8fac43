"""A run folder's test-set outputs as aligned arrays (`RunData`), and the sections of its brand_analytics.json.

Built on the artifact contract (core.contract): `load_run` reads config.json, predictions.csv,
embeddings.npy and metrics.json through `RunFolder`'s validated readers. Where predictions.csv lacks
the dataset's collection/season/year/sha256 columns they are joined, on `path`, from the manifest the
run's config names. The analyse stage and the ensemble both read runs this way; every problem is a
`ContractError` whose message names the file (a damaged metrics.json only empties `metrics`, with the reason
in `metrics_problem`: nothing but the report's summary sections reads it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import Settings
from core.contract import (
    EVALUATE_COMMAND,
    PREDICTION_COLUMNS,
    PROB_PREFIX,
    ContractError,
    RunConfig,
    RunError,
    RunFolder,
    probability_columns,
    read_manifest_table,
    reraise_as,
    resolve_run,
)
from core.fileio import sha256_file, write_json_atomic

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
    config: RunConfig | None = None
    metrics: dict = field(default_factory=dict)
    metrics_problem: str = ""  # why metrics.json could not be read (`metrics` is {} then)

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.directory)

    def true_indices(self) -> np.ndarray:
        return brand_indices(self.predictions["brand"], self.class_names, "brand", self.name)

    def predicted_indices(self) -> np.ndarray:
        return brand_indices(self.predictions["predicted"], self.class_names, "predicted", self.name)


def brand_indices(values: pd.Series, class_names: list[str], column: str, run: str) -> np.ndarray:
    lookup = {name: i for i, name in enumerate(class_names)}
    unknown = sorted({str(v) for v in values if str(v) not in lookup})
    if unknown:
        raise RunError(
            f"run {run!r}: the predictions' column {column!r} holds brands missing from the run's class names: "
            f"{', '.join(unknown[:5])}"
        )
    return np.array([lookup[str(v)] for v in values], dtype=np.int64)


def probability_matrix(predictions: pd.DataFrame, class_names: list[str], where: Path | str) -> np.ndarray:
    """(N, C) `prob_<brand>` values in `class_names` order; raises `RunError` if one is missing or not a number."""
    columns = probability_columns(class_names)
    missing = [brand for brand, column in zip(class_names, columns, strict=True) if column not in predictions.columns]
    if missing:
        raise RunError(f"{where}: no probability column for {', '.join(missing)} ({PROB_PREFIX}<brand>)")
    values = predictions[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise RunError(f"{where}: empty or non-numeric probabilities")
    return values


def with_dataset_context(predictions: pd.DataFrame, config: RunConfig | None) -> pd.DataFrame:
    """Add collection/season/year/sha256 from the run's dataset manifest where the predictions lack them;
    empty cells become NaN and `year` an integer column."""
    missing = [c for c in CONTEXT_COLUMNS if c not in predictions.columns]
    manifest = Path(config.manifest) if config is not None and config.manifest else None
    if missing and manifest is not None and manifest.is_file():
        table = read_manifest_table(manifest, required=("path",))
        usable = [c for c in missing if c in table.columns]
        if usable:
            predictions = predictions.merge(table[["path", *usable]].drop_duplicates("path"), on="path", how="left")
    others = [c for c in predictions.columns if c not in PREDICTION_COLUMNS]
    if others:
        predictions[others] = predictions[others].mask(predictions[others] == "")
    if "year" in predictions.columns:
        predictions["year"] = pd.to_numeric(predictions["year"], errors="coerce").astype("Int64")
    return predictions


def load_run(
    run: str | Path | RunFolder,
    settings: Settings | None = None,
    need_embeddings: bool = False,
    need_probabilities: bool = False,
    error: type[ContractError] = RunError,
) -> RunData:
    """Read a run folder; `need_*` turn a missing file into an error instead of `None`. Every problem is
    raised as `error` (a `ContractError` subclass), its message naming the file, except a damaged metrics.json:
    only the report's summary sections read it, so it costs those (`metrics_problem`), not the run."""
    with reraise_as(error):
        folder = run if isinstance(run, RunFolder) else resolve_run(run, settings)
        config = folder.read_config()
        predictions = with_dataset_context(folder.read_predictions(), config)
        present = [c for c in probability_columns(config.class_names) if c in predictions.columns]
        predictions[present] = predictions[present].apply(pd.to_numeric, errors="coerce")

        probabilities = None
        if need_probabilities or any(c.startswith(PROB_PREFIX) for c in predictions.columns):
            probabilities = probability_matrix(predictions, config.class_names, folder.predictions)

        embeddings = None
        if folder.embeddings.is_file():
            embeddings = folder.read_embeddings(mmap=False, rows=len(predictions))
            if not np.isfinite(embeddings).all():
                raise RunError(f"{folder.embeddings} holds NaN or infinite values")
            embeddings = embeddings.astype(np.float64)
        elif need_embeddings:
            raise RunError(f"{folder.embeddings} is missing: this needs the run's Dense-512 test embeddings "
                           f"(`{EVALUATE_COMMAND.format(run=folder.name)}` writes them)")

        try:
            metrics, metrics_problem = folder.read_metrics(), ""
        except ContractError as exc:
            metrics, metrics_problem = {}, str(exc)
        return RunData(
            name=folder.name,
            directory=folder.root,
            class_names=list(config.class_names),
            predictions=predictions,
            probabilities=probabilities,
            embeddings=embeddings,
            config=config,
            metrics=metrics,
            metrics_problem=metrics_problem,
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


# --------------------------------------------------------------------------- brand_analytics.json


def analytics_sources(run: RunFolder) -> dict:
    """sha256 of the files a section is computed from, so a re-evaluated run shows as stale."""
    return {path.name: sha256_file(path) if path.is_file() else None for path in (run.predictions, run.embeddings)}


def write_analytics_section(run: RunFolder, section: str, payload: dict) -> Path:
    """Replace one section of brand_analytics.json, keeping the others (atomic rewrite)."""
    document = run.read_brand_analytics()
    document["run"] = run.name
    document[section] = json_ready(
        {**payload, "sources": analytics_sources(run), "updated_at": datetime.now(UTC).isoformat(timespec="seconds")}
    )
    return write_json_atomic(run.brand_analytics, document)


def current_analytics_section(run: RunFolder, section: str) -> dict | None:
    """A section of brand_analytics.json if it was computed from the run's current files, else None."""
    value = run.read_brand_analytics().get(section)
    if not isinstance(value, dict) or value.get("sources") != analytics_sources(run):
        return None
    return value
