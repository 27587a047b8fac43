"""Fixtures for the dashboard tests: tiny demo runs made by the pipeline's own command lines.

`demo_workspace` (session scope) runs, in this process, the plan `make demo` runs (pipeline/demo.py)
with a tiny profile: 4 demo houses × 8 photos of 64×96 px, prepare, rembg, both variants trained for
1 epoch at 64 px on the fast path, evaluated, attention analytics, the ensemble and the
distinctiveness index. The real model assets (provisioned by `make test`) are linked in.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
APP = REPO_ROOT / "dashboard" / "app.py"
ARTIFACTS = REPO_ROOT / "test-artifacts"
ASSET_FILES = ("vgg16_imagenet_notop.weights.h5", "vgg16_imagenet_notop.weights.h5.sha256", "u2net")
HOUSES, PER_HOUSE, PHOTO_SIZE, IMAGE_SIZE = 4, 8, "64x96", 64


# The demo pipeline's own plan with tiny settings: the end-to-end smoke run the dashboard tests read.
TINY_PROFILE = {
    "demo": {"houses": HOUSES, "per_house": PER_HOUSE, "width": 64, "height": 96},
    "model": {"image_size": IMAGE_SIZE, "epochs": 1, "batch_size": 16},
    "pipeline": {"collection_split_run": False},
}


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (rembg's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.fixture(scope="session")
def demo_workspace(provisioned_workspace, tmp_path_factory) -> Path:
    """A workspace holding demo-raw and demo-nobg (4 houses), built by the stages' own command lines."""
    root = tmp_path_factory.mktemp("dashboard") / "workspace"
    (root / "assets").mkdir(parents=True)
    for name in ASSET_FILES:
        source = Path(provisioned_workspace) / "assets" / name
        if source.exists():
            (root / "assets" / name).symlink_to(source)
    log: list[str] = []
    previous = os.environ.get("RUNWAY_LENS_WORKSPACE")
    os.environ["RUNWAY_LENS_WORKSPACE"] = str(root)  # the stage CLIs read the workspace from the environment
    started, cpu_start = time.perf_counter(), cpu_seconds()
    try:
        from core.config import get_settings
        from pipeline.demo import plan, run_plan

        settings = get_settings(root).with_overrides(TINY_PROFILE)
        code = run_plan(plan(settings), settings, log=log.append)
        assert code == 0, "the demo pipeline failed on the tiny demo:\n" + "\n".join(log)
    finally:
        if previous is None:
            os.environ.pop("RUNWAY_LENS_WORKSPACE", None)
        else:
            os.environ["RUNWAY_LENS_WORKSPACE"] = previous
        log.append(f"fixture built in {time.perf_counter() - started:.1f} s, {cpu_seconds() - cpu_start:.1f} s CPU")
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "dashboard-fixture.log").write_text("\n".join(log) + "\n")
    return root


@pytest.fixture
def use_workspace(monkeypatch):
    """Point the app at a workspace for one test."""

    def use(root: Path) -> Path:
        monkeypatch.setenv("RUNWAY_LENS_WORKSPACE", str(root))
        return root

    return use


def _app_test(timeout: float):
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=timeout)


@pytest.fixture
def open_page():
    """`open_page("brand.py")`: a fresh app session (AppTest) on that page."""

    def open_(page: str, timeout: float = 120):
        at = _app_test(timeout)
        # Each page's url_path is its file's stem, so the page resolves before the first run.
        return at.switch_page(f"app_pages/{page}").run()

    return open_


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """test-artifacts/ (git-ignored): screenshots, render times, the fixture's log."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
