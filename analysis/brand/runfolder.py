"""A run folder as the brand analytics read it, and its `brand_analytics.json` sections.

The reading is core.rundata's, on the artifact contract (core.contract): config.json's class names
and dataset manifest, predictions.csv (joined with the manifest's collection/season/year/sha256 where
it lacks them), embeddings.npy (one row per prediction) and metrics.json. Here every problem comes out
as one `AnalyticsError` (a `ContractError`) whose message names the file.
"""

from __future__ import annotations

from pathlib import Path

from core import rundata
from core.config import Settings
from core.contract import AnalyticsError, RunFolder, reraise_as, resolve_run
from core.rundata import RunData, frame_records, json_ready, l2_normalise

__all__ = ["AnalyticsError", "RunData", "current_section", "frame_records", "json_ready", "l2_normalise", "load_run",
           "resolve_run_dir", "update_analytics"]


def resolve_run_dir(run: str | Path, settings: Settings) -> Path:
    """A run name under the workspace's `runs/`, or a path to a run folder."""
    with reraise_as(AnalyticsError):
        return resolve_run(run, settings).root


def load_run(
    run: str | Path, settings: Settings, need_embeddings: bool = False, need_probabilities: bool = False
) -> RunData:
    """Read a run folder; `need_*` turn a missing file into an error instead of `None`."""
    return rundata.load_run(run, settings, need_embeddings, need_probabilities, error=AnalyticsError)


def update_analytics(run_dir: Path, section: str, payload: dict) -> Path:
    """Replace one section of `brand_analytics.json`, keeping the others (atomic rewrite)."""
    with reraise_as(AnalyticsError):
        return rundata.write_analytics_section(RunFolder(Path(run_dir)), section, payload)


def current_section(run_dir: Path, section: str) -> dict | None:
    """A section of `brand_analytics.json` if it was computed from the run's current files, else None."""
    with reraise_as(AnalyticsError):
        return rundata.current_analytics_section(RunFolder(Path(run_dir)), section)
