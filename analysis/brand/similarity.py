"""Similar runway looks: cosine kNN over a run's L2-normalised Dense-512 embeddings.

The index of a run is built once and cached in `runs/<run>/index/`:

    vectors.npy   the L2-normalised embeddings (float32), rows aligned with looks.csv
    looks.csv     path, brand, collection, season, year of each indexed look
    index.json    written last (the commit mark): sources' sha256, count, dimension, metric

A later load reuses the cache when index.json's fingerprint matches the run's current
`embeddings.npy` and `predictions.csv`; any other state (missing, half-written, stale) rebuilds it.
Search is scikit-learn's exact `NearestNeighbors(metric="cosine")` (brute force): a run's test set is
a few thousand looks at most, answered in milliseconds, so an approximate index would add nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from analysis.brand.runfolder import l2_normalise, load_run, resolve_run_dir
from core.config import Settings
from core.contract import EVALUATE_COMMAND, AnalyticsError, RunFolder
from core.fileio import atomic_path, sha256_file, write_dataframe_atomic, write_json_atomic
from core.tables import read_csv

# The cache's own files inside the run's look index folder (RunFolder.look_index_dir).
VECTORS_FILE, LOOKS_FILE, META_FILE = "vectors.npy", "looks.csv", "index.json"
INDEX_VERSION = 1
LOOK_COLUMNS = ("path", "brand", "collection", "season", "year")


@dataclass
class LookIndex:
    """A fitted cosine kNN over one run's looks."""

    vectors: np.ndarray  # (N, D) unit rows
    looks: pd.DataFrame  # N rows, LOOK_COLUMNS where known
    neighbours: NearestNeighbors
    from_cache: bool

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])


def fit_neighbours(vectors: np.ndarray) -> NearestNeighbors:
    return NearestNeighbors(metric="cosine", algorithm="brute").fit(vectors)


def index_from_arrays(embeddings: np.ndarray, looks: pd.DataFrame, from_cache: bool = False) -> LookIndex:
    vectors = l2_normalise(embeddings).astype(np.float32)
    return LookIndex(vectors, looks.reset_index(drop=True), fit_neighbours(vectors), from_cache)


def _fingerprint(run: RunFolder) -> dict:
    return {
        "version": INDEX_VERSION,
        "embeddings_sha256": sha256_file(run.embeddings),
        "predictions_sha256": sha256_file(run.predictions),
    }


def _read_cached(index_dir: Path, fingerprint: dict) -> LookIndex | None:
    try:
        meta = json.loads((index_dir / META_FILE).read_text(encoding="utf-8"))
        if any(meta.get(key) != value for key, value in fingerprint.items()):
            return None
        vectors = np.load(index_dir / VECTORS_FILE, allow_pickle=False)
        looks = read_csv(index_dir / LOOKS_FILE)
    except (OSError, ValueError, json.JSONDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    if vectors.ndim != 2 or len(vectors) != len(looks) or len(looks) != meta.get("count"):
        return None
    return LookIndex(vectors, looks, fit_neighbours(vectors), from_cache=True)


def _write_cache(index_dir: Path, index: LookIndex, fingerprint: dict) -> None:
    with atomic_path(index_dir / VECTORS_FILE) as tmp:
        np.save(tmp, index.vectors)
    write_dataframe_atomic(index_dir / LOOKS_FILE, index.looks)
    # index.json last: until it names these sources, a reader treats the folder as absent.
    write_json_atomic(
        index_dir / META_FILE,
        {**fingerprint, "count": len(index.looks), "dimension": index.dimension, "metric": "cosine"},
    )


def load_or_build_index(run: str | Path, settings: Settings) -> LookIndex:
    """The run's look index: from `runs/<run>/index/` when it is current, else built and cached there."""
    folder = RunFolder(resolve_run_dir(run, settings))
    if not folder.embeddings.is_file():
        raise AnalyticsError(f"{folder.embeddings} is missing: similar looks need the run's embeddings "
                             f"(`{EVALUATE_COMMAND.format(run=folder.name)}` writes them)")
    if not folder.predictions.is_file():
        raise AnalyticsError(f"{folder.predictions} is missing: rerun `{EVALUATE_COMMAND.format(run=folder.name)}`")
    index_dir = folder.look_index_dir
    fingerprint = _fingerprint(folder)
    cached = _read_cached(index_dir, fingerprint)
    if cached is not None:
        return cached
    data = load_run(folder.root, settings, need_embeddings=True)
    looks = data.predictions[[c for c in LOOK_COLUMNS if c in data.predictions.columns]]
    index = index_from_arrays(data.embeddings, looks)
    _write_cache(index_dir, index, fingerprint)
    return index


def _query_vector(index: LookIndex, embedding) -> np.ndarray:
    vector = np.asarray(embedding, dtype=np.float64).reshape(1, -1)
    if vector.shape[1] != index.dimension:
        raise AnalyticsError(f"the query embedding has {vector.shape[1]} values; this run's looks have {index.dimension}")
    if not np.isfinite(vector).all() or not np.any(vector):
        raise AnalyticsError("the query embedding is empty (all zero or not finite)")
    return l2_normalise(vector).astype(np.float32)


def nearest_looks(index: LookIndex, embedding, k: int) -> pd.DataFrame:
    """The k looks closest to `embedding` (cosine distance, 0 = same direction), nearest first."""
    if k < 1:
        raise AnalyticsError(f"k must be at least 1 (got {k})")
    k = min(int(k), len(index.looks))
    distances, rows = index.neighbours.kneighbors(_query_vector(index, embedding), n_neighbors=k)
    result = index.looks.iloc[rows[0]].reset_index(drop=True)
    result.insert(0, "rank", np.arange(1, k + 1))
    result["distance"] = np.clip(distances[0].astype(np.float64), 0.0, 2.0)
    result["similarity"] = 1.0 - result["distance"]
    return result


def distances_to_all(index: LookIndex, embedding) -> pd.DataFrame:
    """Cosine distance from `embedding` to every indexed look, with its brand (for per-brand histograms)."""
    distances, rows = index.neighbours.kneighbors(_query_vector(index, embedding), n_neighbors=len(index.looks))
    result = index.looks.iloc[rows[0]][["path", "brand"]].reset_index(drop=True)
    result["distance"] = np.clip(distances[0].astype(np.float64), 0.0, 2.0)
    return result


def brand_distance_summary(distances: pd.DataFrame) -> pd.DataFrame:
    """Per brand: nearest, median and mean distance to the query, closest brand first."""
    summary = distances.groupby("brand")["distance"].agg(nearest="min", median="median", mean="mean", looks="size")
    return summary.sort_values("nearest").reset_index()
