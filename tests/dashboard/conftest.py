"""Fixtures for the dashboard tests: tiny demo runs made by the pipeline's own command lines.

`demo_workspace` (session scope) runs, in this process, the same stage commands `make demo` runs
(pipeline/demo.py), with tiny settings: 4 demo houses × 8 photos of 64×96 px, prepare, rembg,
train both variants for 1 epoch at 64 px on the fast path, evaluate, attention analytics and the
distinctiveness index. The real model assets (provisioned by `make test`) are linked in.
"""

from __future__ import annotations

import importlib
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


def stage_commands(root: Path) -> list[tuple[str, list[str]]]:
    """(module, argv) of each stage, in order: the demo pipeline's chain with tiny settings."""
    demo = root / "demo"
    train = ["--epochs", "1", "--batch-size", "16", "--image-size", str(IMAGE_SIZE), "--quiet"]
    commands = [
        ("data", ["demo", "--houses", str(HOUSES), "--per-house", str(PER_HOUSE), "--size", PHOTO_SIZE,
                  "--out", str(demo), "--no-progress"]),
        ("data", ["prepare", "--csv", str(demo / "runway.csv"), "--images", str(demo), "--name", "demo",
                  "--top", str(HOUSES), "--no-progress"]),
        ("data", ["remove-background", "--dataset", "demo", "--no-progress"]),
    ]
    for variant in ("raw", "nobg"):
        run = f"demo-{variant}"
        commands += [
            ("model", ["train", "--variant", variant, "--data", "demo", "--run", run, *train]),
            ("model", ["evaluate", "--run", run, "--quiet"]),
            ("model.analysis", ["--run", run, "--quiet"]),
            ("model.brand_analytics", ["index", "--run", run]),
        ]
    return commands


def run_stage(module: str, argv: list[str]) -> int:
    """`python -m module argv`, in this process (TensorFlow is imported once for all stages)."""
    try:
        entry = importlib.import_module(f"{module}.__main__")
    except ModuleNotFoundError:  # a plain module (model.analysis) is its own entry point
        entry = importlib.import_module(module)
    return entry.main(argv) or 0


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
    started = time.perf_counter()
    try:
        for module, argv in stage_commands(root):
            step_start, cpu_start = time.perf_counter(), cpu_seconds()
            code = run_stage(module, argv)
            log.append(f"python -m {module} {' '.join(argv)}: exit {code}, {time.perf_counter() - step_start:.1f} s "
                       f"wall, {cpu_seconds() - cpu_start:.1f} s CPU")
            assert code == 0, "a stage failed on the tiny demo:\n" + "\n".join(log)
    finally:
        if previous is None:
            os.environ.pop("RUNWAY_LENS_WORKSPACE", None)
        else:
            os.environ["RUNWAY_LENS_WORKSPACE"] = previous
        log.append(f"fixture built in {time.perf_counter() - started:.1f} s")
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
