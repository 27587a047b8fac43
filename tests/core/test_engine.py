"""The engine: the same results locally and on a real local Ray instance with 2 workers, a killed worker's
tasks retried with nothing lost or duplicated, and an unreachable cluster named within 30 s."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from core.config import EngineSettings
from core.engine import EngineError, check_reachable, cluster_endpoint, run_tasks

pytestmark = pytest.mark.slow
RAY = EngineSettings(engine="ray")


def square_worker(spec: dict) -> dict:
    """A stand-in for a loaded model: built once per worker, it records the worker's process."""
    return {"offset": spec["offset"], "pid": os.getpid(), "log": spec.get("log")}


def square(worker: dict, task: int) -> tuple[int, int, int]:
    if worker["log"]:  # the process working on this task, for the kill test
        Path(worker["log"], f"{task}.pid").write_text(str(worker["pid"]))
        time.sleep(0.25)
    return task, task * task + worker["offset"], worker["pid"]


def lost(task: int, reason: str) -> tuple[int, str, int]:
    return task, reason, -1


@pytest.mark.parametrize("engine, workers", [("local", 1), ("local", 2), ("ray", 2)])
def test_every_engine_gives_the_same_results(engine, workers):
    seen = []
    results = run_tasks(list(range(12)), make_worker=square_worker, spec={"offset": 1}, work=square, lost=lost,
                        workers=workers, engine=EngineSettings(engine=engine), on_result=seen.append)
    assert sorted(r[:2] for r in results) == [(t, t * t + 1) for t in range(12)]
    assert len(seen) == 12
    assert 1 <= len({r[2] for r in results}) <= workers  # a worker is built once and serves many tasks
    if engine == "local" and workers == 1:
        assert {r[2] for r in results} == {os.getpid()}  # no process started for one worker


def test_a_worker_killed_mid_batch_has_its_tasks_retried_with_nothing_lost_or_duplicated(tmp_path):
    tasks = list(range(16))
    killed = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(tmp_path.glob("*.pid"))) < 4:
            time.sleep(0.05)
        pid = int(sorted(tmp_path.glob("*.pid"))[-1].read_text())
        killed.append(pid)
        os.kill(pid, signal.SIGKILL)  # the worker process, mid-task

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    results = run_tasks(tasks, make_worker=square_worker, spec={"offset": 0, "log": str(tmp_path)}, work=square,
                        lost=lost, workers=2, engine=RAY)
    killer.join()
    assert killed, "no worker was killed"
    assert sorted(r[0] for r in results) == tasks  # every task once: none lost, none twice
    assert all(r[2] != -1 for r in results), [r for r in results if r[2] == -1]
    assert all(r[1] == r[0] * r[0] for r in results)
    assert {r[2] for r in results} - set(killed), "the retried tasks ran on a fresh worker"


def test_an_unreachable_cluster_is_named_within_30_seconds():
    started = time.perf_counter()
    with pytest.raises(EngineError) as error:
        run_tasks([1], make_worker=square_worker, spec={"offset": 0}, work=square, lost=lost, workers=1,
                  engine=EngineSettings(engine="ray", engine_address="10.255.255.1:6379", connect_timeout=3))
    assert time.perf_counter() - started < 30
    assert "cannot reach the Ray cluster at 10.255.255.1:6379" in str(error.value)
    assert "run without --engine ray" in str(error.value)


def test_cluster_addresses():
    assert cluster_endpoint("head:6379") == ("head", 6379)
    assert cluster_endpoint("ray://head") == ("head", 10001)
    with pytest.raises(EngineError, match="is not host:port"):
        cluster_endpoint("://")
    with pytest.raises(EngineError, match="cannot reach the Ray cluster at 127.0.0.1:9"):
        check_reachable("127.0.0.1:9", 2)  # nothing listens on the discard port: refused at once
