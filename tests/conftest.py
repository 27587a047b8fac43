"""Shared pytest fixtures: every test gets its own workspace, so nothing touches ./workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Quiet TensorFlow and keep it to the CI machine's two cores.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """An empty workspace folder, named by RUNWAY_LENS_WORKSPACE for the test's duration."""
    root = tmp_path / "workspace"
    root.mkdir()
    monkeypatch.setenv("RUNWAY_LENS_WORKSPACE", str(root))
    return root


@pytest.fixture(scope="session")
def provisioned_workspace() -> Path:
    """The real workspace whose model assets `make test` provisioned first (VGG16 weights, u2netp).

    Tests that need the true ImageNet weights or rembg's model use this one; they skip with
    the reason if assets were not provisioned (e.g. running a single file without `make test`).
    """
    from core.config import get_settings

    settings = get_settings()
    missing = [p for p in (settings.paths.vgg16_weights, settings.paths.u2net_home / "u2netp.onnx") if not p.exists()]
    if missing:
        if os.environ.get("CI"):  # in CI the assets are provisioned first; missing ones are a failure
            pytest.fail(f"model assets missing in CI: {missing}")
        pytest.skip(f"model assets not provisioned ({', '.join(map(str, missing))}); run `python -m model.assets`")
    return settings.paths.root


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Streamlit's AppTest leaves its page module installed as `__main__`; spawned worker processes
    (the rembg pool) re-import `__main__` and would run a dashboard page. Put the real one back."""
    import sys

    main = sys.modules.get("__main__")
    yield
    if sys.modules.get("__main__") is not main:
        sys.modules["__main__"] = main
