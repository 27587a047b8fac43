"""`make run` time: cold (after pip: an empty workspace holding only the model assets) and warm.

`make run` is `python -m pipeline demo --before-dashboard` followed by `streamlit run dashboard/app.py`,
with the rest of the pipeline (the identity analyses) behind the dashboard. They are timed as make
runs them, in child processes, without make itself (make's only extra work is checking the
virtualenv's stamp files):

- cold: a fresh temporary workspace with the assets copied in, then `python -m pipeline demo
  --before-dashboard` (photos, datasets, rembg, the trainings, evaluations, analytics); then, timed
  apart, the rest that make run leaves behind the dashboard. Minutes, so only without --quick.
- warm: in a workspace whose demo is built, `python -m pipeline demo` again (every step up to
  date) and then the dashboard until it answers HTTP (`/_stcore/health`) on a free port; the
  server is then stopped. The full bench measures it in the workspace the cold run just built;
  --quick uses the current workspace when its demo is complete, and skips otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Row, Skip, median

BEFORE_DASHBOARD = "--before-dashboard"  # what `make run` waits for before it starts the dashboard

GOAL_COLD_S = 600.0
GOAL_WARM_S = 30.0
REPO_ROOT = Path(__file__).resolve().parents[1]
ASSET_FILES = ("vgg16_imagenet_notop.weights.h5", "vgg16_imagenet_notop.weights.h5.sha256", "u2net")
HEALTH_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Sizes:
    cold: bool
    warm_repeats: int


FULL = Sizes(cold=True, warm_repeats=3)
QUICK = Sizes(cold=False, warm_repeats=1)


def demo_settings(settings):
    from core.config import profile_settings

    return profile_settings("demo", settings)


def pending_steps(settings) -> list[str]:
    """The demo steps `python -m pipeline demo` would run in this workspace (empty: it is built)."""
    from pipeline.demo import fingerprint, load_stamps, plan

    stamps = load_stamps(settings)
    return [step.name for step in plan(demo_settings(settings))
            if not (step.artifact(settings).exists()
                    and stamps.get(str(step.artifact(settings))) == fingerprint(step.parameters))]


def fresh_workspace(settings, root: Path) -> Path:
    """`root` as a workspace holding only copies of the provisioned model assets."""
    (root / "assets").mkdir(parents=True)
    for name in ASSET_FILES:
        source = settings.paths.assets / name
        if source.is_dir():
            shutil.copytree(source, root / "assets" / name)
        elif source.is_file():
            shutil.copy2(source, root / "assets" / name)
    return root


def environment(workspace: Path) -> dict[str, str]:
    return {**os.environ, "RUNWAY_LENS_WORKSPACE": str(workspace)}


def pipeline_demo(workspace: Path, log: Path, *options: str) -> float:
    """Seconds `python -m pipeline demo [options]` takes in `workspace`; its output goes to `log`."""
    started = time.perf_counter()
    with open(log, "ab") as out:
        code = subprocess.call([sys.executable, "-m", "pipeline", "demo", *options], cwd=REPO_ROOT,
                               env=environment(workspace), stdout=out, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:])
        raise RuntimeError(f"`python -m pipeline demo` exited {code}; last lines of its log:\n{tail}")
    return seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as answer:
            return answer.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def dashboard_ready(workspace: Path, log: Path) -> float:
    """Seconds from starting the dashboard until its health check answers; the server is stopped after."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
               "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    started = time.perf_counter()
    with open(log, "ab") as out:
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=environment(workspace), stdout=out,
                                  stderr=subprocess.STDOUT)
        try:
            while not healthy(port):
                if server.poll() is not None:
                    raise RuntimeError(f"the dashboard exited with {server.returncode} before answering; see {log}")
                if time.perf_counter() - started > HEALTH_TIMEOUT_S:
                    raise RuntimeError(f"the dashboard did not answer within {HEALTH_TIMEOUT_S:g} s")
                time.sleep(0.1)
            return time.perf_counter() - started
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def warm(workspace: Path, log: Path, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        pipeline_s = pipeline_demo(workspace, log, BEFORE_DASHBOARD)
        runs.append((pipeline_s, dashboard_ready(workspace, log)))
    totals = [pipeline_s + dashboard_s for pipeline_s, dashboard_s in runs]
    return {"seconds": round(median(totals), 2), "pipeline_s": round(median([r[0] for r in runs]), 2),
            "dashboard_ready_s": round(median([r[1] for r in runs]), 2), "runs": len(runs)}


def run(settings, quick: bool = False) -> dict:
    sizes = QUICK if quick else FULL
    result = {"goal": f"cold <= {GOAL_COLD_S / 60:g} min, warm <= {GOAL_WARM_S:g} s"}
    with tempfile.TemporaryDirectory(prefix="bench-make-run-") as tmp:
        log = Path(tmp) / "make-run.log"
        if sizes.cold:
            workspace = fresh_workspace(settings, Path(tmp) / "workspace")
            cold_s = pipeline_demo(workspace, log, BEFORE_DASHBOARD)
            behind_s = pipeline_demo(workspace, log)  # what make run leaves to run behind the dashboard
            result["cold"] = {"seconds": round(cold_s, 1), "behind_dashboard_s": round(behind_s, 1),
                              "workspace": "fresh temporary workspace, assets copied"}
        else:
            workspace = settings.paths.root
            result["cold"] = {"skipped": "takes minutes: measured by the full `python -m bench` (without --quick)"}
            pending = pending_steps(settings)
            if pending:
                raise Skip(f"the demo in {workspace} is not built ({len(pending)} steps pending, first: "
                           f"{pending[0]}); run `make demo`, or the full bench (cold, then warm)")
        result["warm"] = warm(workspace, log, sizes.warm_repeats)
        result["warm"]["workspace"] = "the one the cold run built" if sizes.cold else str(workspace)
    cold_met = result["cold"]["seconds"] <= GOAL_COLD_S if "seconds" in result["cold"] else None
    warm_met = result["warm"]["seconds"] <= GOAL_WARM_S
    result["goal_met"] = warm_met if cold_met is None else (cold_met and warm_met)
    return result


def rows(result: dict) -> list[Row]:
    cold, warm_ = result["cold"], result["warm"]
    rows_ = [
        Row("make run, cold (after pip), to the dashboard", cold.get("seconds"), "s", f"≤ {GOAL_COLD_S:g} s",
            cold["seconds"] <= GOAL_COLD_S if "seconds" in cold else None),
        Row("make run, warm (to dashboard health)", warm_["seconds"], "s", f"≤ {GOAL_WARM_S:g} s",
            warm_["seconds"] <= GOAL_WARM_S),
    ]
    if "behind_dashboard_s" in cold:
        rows_.insert(1, Row("make run, cold: identity analyses behind the dashboard", cold["behind_dashboard_s"], "s"))
    return rows_


def notes(result: dict) -> list[str]:
    warm_ = result["warm"]
    lines = [f"make run warm: `python -m pipeline demo {BEFORE_DASHBOARD}` with every step up to date {warm_['pipeline_s']} s, then the "
             f"dashboard answering its health check after {warm_['dashboard_ready_s']} s (median of "
             f"{warm_['runs']}, {warm_['workspace']})."]
    if "behind_dashboard_s" in result["cold"]:
        lines.append(f"make run cold: the dashboard opens after {result['cold']['seconds']} s; the identity analyses "
                     f"then run behind it for {result['cold']['behind_dashboard_s']} s (timed alone, at full "
                     "priority).")
    if "skipped" in result["cold"]:
        lines.append(f"make run cold not measured: {result['cold']['skipped']}.")
    return lines
