"""Shared Streamlit pieces: the sidebar's run selection, figure + CSV download, demo labels, empty states.

`app.py` calls `sidebar()` on every rerun before the page runs; pages call `selection()` (or
`require_runs()`, which stops the page with the how-to-make-a-run sentence when there is none).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.config import get_settings
from core.contract import ContractError
from core.evidence import test_set_warning
from core.fileio import write_text_atomic
from core.tables import write_csv
from dashboard import artifacts
from dashboard.artifacts import RunInfo

STATE_KEY = "runway_lens_selection"
NONE = "(none)"
DEFAULT_RUNS = {"raw": "demo-raw", "nobg": "demo-nobg"}
VARIANT_LABELS = {"raw": "with background", "nobg": "background removed"}
MAKE_A_RUN = (
    "No trained runs yet: run `make demo` (or the chain `python -m data demo`, `python -m data prepare`, "
    "`python -m data remove-background`, `python -m model train`, `python -m model evaluate`) to make one."
)
PNG_HINT = "PNG: the camera button in each chart's toolbar; the button below each chart saves its data as CSV."
DEMO_LOG = "logs/dashboard-demo.log"
SOURCE_UNKNOWN = (
    "Dataset `{dataset}` was prepared before Runway Lens recorded the data's source, so it cannot say whether "
    "this is demo data: rerun `python -m data prepare ...` to record it."
)


@dataclass(frozen=True)
class Selection:
    """The dataset and the two runs the sidebar picked (either run may be missing)."""

    workspace: str
    dataset: str = ""
    dataset_dir: str = ""
    raw: RunInfo | None = None
    nobg: RunInfo | None = None
    all_runs: tuple[RunInfo, ...] = field(default_factory=tuple)

    @property
    def runs(self) -> dict[str, RunInfo]:
        """variant -> run, for the variants picked."""
        return {v: r for v, r in (("raw", self.raw), ("nobg", self.nobg)) if r is not None}

    @property
    def readable(self) -> dict[str, RunInfo]:
        """The picked runs whose config.json can be read (damaged ones are reported, not shown)."""
        return {v: r for v, r in self.runs.items() if not r.damaged}

    @property
    def evaluated(self) -> dict[str, RunInfo]:
        return {v: r for v, r in self.readable.items() if r.evaluated}

    @property
    def source_kind(self) -> str:
        """summary.json's `source.kind`: "demo", "real", "unknown" (prepared before it was recorded);
        "" with no dataset or a damaged summary.json (the Overview page shows why)."""
        if not self.dataset_dir:
            return ""
        try:
            return artifacts.dataset_source_kind(self.dataset_dir)
        except ContractError:
            return ""

    @property
    def is_demo(self) -> bool:
        return self.source_kind == "demo"

    def label(self, variant: str) -> str:
        run = self.runs.get(variant)
        if not run:
            return VARIANT_LABELS[variant]
        # Every page that shows a model's output names its architecture with the run.
        return f"{VARIANT_LABELS[variant]} ({run.name}, {run.architecture})" if run.architecture else \
            f"{VARIANT_LABELS[variant]} ({run.name})"


def _pick(options: list[str], preferred: str, previous: str | None) -> int:
    for wanted in (previous, preferred):
        if wanted in options:
            return options.index(wanted)
    return 0


def sidebar() -> Selection:
    """Dataset and run pickers; the choice is kept in session state for the pages."""
    settings = get_settings()
    runs = artifacts.list_run_infos(settings)
    datasets = artifacts.list_datasets(settings)
    # Datasets that only runs name (a moved workspace) still get an entry.
    for run in runs:
        if run.dataset and run.dataset not in datasets and Path(run.dataset_dir).is_dir():
            datasets.append(run.dataset)
    previous: Selection | None = st.session_state.get(STATE_KEY)
    st.sidebar.header("Data")
    dataset = ""
    if datasets:
        dataset = st.sidebar.selectbox(
            "Dataset", datasets, index=_pick(datasets, "demo", previous.dataset if previous else None),
            key="sidebar_dataset",
        )
    dataset_dir = next((r.dataset_dir for r in runs if r.dataset == dataset), "")
    if not dataset_dir and dataset:
        dataset_dir = str(settings.paths.datasets / dataset)
    chosen: dict[str, RunInfo | None] = {}
    for variant in ("raw", "nobg"):
        candidates = [r for r in runs if r.variant in (variant, "") and (not dataset or r.dataset in (dataset, ""))]
        names = [r.name for r in candidates] + [NONE]
        prev = getattr(previous, variant) if previous else None
        name = st.sidebar.selectbox(
            f"Run {VARIANT_LABELS[variant]}", names,
            index=_pick(names, DEFAULT_RUNS[variant], prev.name if prev else None),
            key=f"sidebar_run_{variant}",
        )
        chosen[variant] = next((r for r in candidates if r.name == name), None)
    selection = Selection(
        workspace=str(settings.paths.root), dataset=dataset, dataset_dir=dataset_dir,
        raw=chosen["raw"], nobg=chosen["nobg"], all_runs=tuple(runs),
    )
    st.session_state[STATE_KEY] = selection
    if selection.is_demo:
        st.sidebar.warning("Demo data: generated runway photos, not real shows.", icon=":material/science:")
    damaged = [r.name for r in runs if r.damaged]
    if damaged:
        st.sidebar.warning(f"Unreadable runs (pick one to see why): {', '.join(damaged)}")
    st.sidebar.caption(f"Workspace: `{settings.paths.root}`")
    return selection


def selection() -> Selection:
    """The sidebar's current choice (computed here when a page runs without app.py, e.g. in tests)."""
    current = st.session_state.get(STATE_KEY)
    return current if isinstance(current, Selection) else sidebar()


def demo_banner(sel: Selection) -> None:
    kind = sel.source_kind
    if kind == "demo":
        st.info(
            "**Demo data.** These are generated runway photos from the demo atelier (`python -m data demo`), "
            "not real shows: the numbers show what the tool does, not what any fashion house looks like.",
            icon=":material/science:",
        )
    elif kind == "unknown":
        st.caption(SOURCE_UNKNOWN.format(dataset=sel.dataset))


def page_header(title: str, intro: str) -> Selection:
    """Title, one-line purpose, demo label; returns the sidebar's selection."""
    st.title(title)
    st.caption(intro)
    sel = selection()
    demo_banner(sel)
    return sel


def report_damaged(sel: Selection) -> list[RunInfo]:
    """An error for each selected run whose config.json cannot be read, saying why; returns those runs."""
    damaged = [r for r in sel.runs.values() if r.damaged]
    for run in damaged:
        st.error(f"Run `{run.name}` cannot be read: {run.problem}")
    return damaged


def require_runs(sel: Selection, evaluated: bool = True) -> dict[str, RunInfo]:
    """The selected readable runs (evaluated ones if asked). A damaged run gets an error and the page goes on
    with the others; with none left, say how to make one (or what to pick) and stop the page."""
    damaged = report_damaged(sel)
    chosen = sel.evaluated if evaluated else sel.readable
    if chosen:
        return chosen
    if sel.all_runs and not sel.runs:
        st.warning("No run is selected: pick one in the sidebar.")
    elif sel.readable and evaluated:
        names = ", ".join(r.name for r in sel.readable.values())
        st.warning(
            f"The selected runs ({names}) are not evaluated yet: run "
            f"`python -m model evaluate --run {next(iter(sel.readable.values())).name}` to make their results."
        )
    elif not damaged:
        no_runs(sel)
    st.stop()


def read_or_warn(read, *args):
    """`read(*args)` (an `artifacts` reader), or None after a warning with its message: the file and what to
    rerun. A missing or damaged artifact costs its section, never the page."""
    try:
        return read(*args)
    except ContractError as exc:
        st.warning(str(exc), icon=":material/report:")
        return None


def warn_if_test_set_is_thin(run: RunInfo, metrics: dict | None) -> None:
    """The test-set warning beside the numbers of a run whose test set leaves brands out or scores one on a
    handful of photos (`core.evidence`)."""
    warning = test_set_warning(metrics or {})
    if warning:
        st.warning(f"`{run.name}`: {warning}", icon=":material/warning:")


def no_runs(sel: Selection) -> None:
    st.warning(MAKE_A_RUN, icon=":material/lightbulb:")
    offer_demo(sel)


def demo_build_running(pid_file: Path) -> bool:
    """Whether the demo build this dashboard started (its pid in `pid_file`) is still running."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except (OSError, ValueError):
        return False
    return True


def offer_demo(sel: Selection) -> None:
    """A button that starts the demo pipeline in the background (never on page load), and its log."""
    log = Path(sel.workspace) / DEMO_LOG
    pid_file = log.with_suffix(".pid")
    running = demo_build_running(pid_file)
    if log.is_file():
        with st.expander("Demo build log", expanded=True):
            st.code("\n".join(log.read_text(errors="replace").splitlines()[-15:]) or "(starting…)")
            st.button("Refresh", key="demo_refresh")
    if importlib.util.find_spec("pipeline") is None:
        st.caption("`make demo` runs the pipeline's `python -m pipeline demo`.")
        return
    if st.button("Build the demo now (takes a few minutes)", key="demo_build", type="primary", disabled=running):
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            process = subprocess.Popen(  # detached: the page stays responsive and the build survives a rerun
                [sys.executable, "-m", "pipeline", "demo"], stdout=out, stderr=subprocess.STDOUT,
                cwd=Path(__file__).resolve().parents[1], env={**os.environ, "RUNWAY_LENS_WORKSPACE": sel.workspace},
                start_new_session=True,
            )
        write_text_atomic(pid_file, f"{process.pid}\n")
        st.success(f"Demo build started; its log is {log}. Press Refresh to follow it.")
    elif running:
        st.info("The demo is being built; press Refresh to follow its log, then reload the page.")


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower() or "data"


def csv_bytes(data: pd.DataFrame) -> bytes:
    """A table as a CSV download that a spreadsheet opens without running any cell (`core.tables.write_csv`)."""
    return write_csv(data).encode("utf-8")


def show_figure(fig: go.Figure, data: pd.DataFrame, name: str, key: str, **chart_kwargs):
    """A Plotly chart with a CSV download of its data underneath; returns the chart's selection state."""
    event = st.plotly_chart(fig, key=f"chart_{key}", config={"displaylogo": False}, **chart_kwargs)
    st.download_button(
        "Download data (CSV)", csv_bytes(data), file_name=f"{safe_name(name)}.csv",
        mime="text/csv", key=f"csv_{key}", on_click="ignore",
    )
    return event
