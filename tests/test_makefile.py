"""`make run`: the dashboard answers this machine only, unless HOST shares it on purpose (with a warning)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def _stub(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def stub_venv(tmp_path) -> Path:
    """A virtual environment whose python does nothing and whose streamlit prints its arguments,
    marked as installed, so `make run` runs its own recipe and nothing else."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    _stub(venv / "bin" / "python", "exit 0")
    _stub(venv / "bin" / "streamlit", 'echo "streamlit $*"')
    (venv / ".runtime-installed").touch()  # newer than requirements.txt: no pip
    return venv


def make_run(venv: Path, *variables: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "-C", str(REPO_ROOT), "run", f"VENV={venv}", *variables],
                          capture_output=True, text=True, timeout=60, check=True)


def streamlit_line(result: subprocess.CompletedProcess) -> str:
    return next(line for line in result.stdout.splitlines() if line.startswith("streamlit run"))


def warnings_of(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


def test_the_dashboard_listens_on_the_loopback_address_by_default(stub_venv):
    result = make_run(stub_venv)
    assert "--server.address 127.0.0.1" in streamlit_line(result)
    assert warnings_of(result) == []


@pytest.mark.parametrize("host", ["localhost", "127.0.0.2", "::1"])
def test_other_loopback_addresses_need_no_warning(stub_venv, host):
    result = make_run(stub_venv, f"HOST={host}")
    assert f"--server.address {host}" in streamlit_line(result)
    assert warnings_of(result) == []


def test_sharing_it_on_every_interface_warns_that_there_is_no_login(stub_venv):
    result = make_run(stub_venv, "HOST=0.0.0.0")
    assert "--server.address 0.0.0.0" in streamlit_line(result)
    [warning] = warnings_of(result)
    assert "0.0.0.0" in warning and "no login" in warning


def test_the_identity_analyses_run_behind_the_dashboard(stub_venv):
    lines = make_run(stub_venv).stdout.splitlines()
    before = next(i for i, line in enumerate(lines) if "pipeline demo --profile demo --before-dashboard" in line)
    behind = next(i for i, line in enumerate(lines) if "pipeline demo --profile demo --behind-dashboard" in line)
    dashboard = next(i for i, line in enumerate(lines) if line.startswith("streamlit run"))
    assert before < behind < dashboard and lines[behind].rstrip().endswith("&")  # it does not hold the dashboard up
