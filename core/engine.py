"""Run one heavy per-photo step over many tasks: in this machine's processes, or on Ray actors.

A stage hands over three things:
- `make_worker(spec)`: builds what a worker keeps loaded (a rembg session, VGG16 block1–4), once per
  worker process;
- `work(worker, task)`: handles one task and returns its result, never raising for a bad photo;
- `lost(task, reason)`: the result to record when a task could not be run at all.
All three are module-level functions, so they travel to worker processes by name.

Engines (`EngineSettings.engine`):
- `local`, the default: one worker runs in this process; more run in a spawned process pool.
- `ray`: one Ray actor per worker, on a local Ray instance or on the cluster at `engine_address`.
  Ray restarts an actor whose process dies and retries its task (`task_retries`), so a killed
  worker loses no photo; each stage's writes are atomic and content-addressed, so a task that runs
  twice writes the same bytes once.

Results come back in completion order; `on_result` sees each as it arrives (progress bars).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from urllib.parse import urlparse

from core.config import EngineSettings

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "data", "model", "analysis")  # what a remote cluster's workers import
RAY_HINT = "install it with `pip install -r requirements-cluster.txt`, or run without --engine ray"
log = logging.getLogger(__name__)


class EngineError(RuntimeError):
    """The engine cannot run: Ray missing, or a cluster out of reach. The message says what to do."""


def threads_per_worker(workers: int) -> int:
    """Intra-op threads for each of `workers` workers sharing this machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def planned_workers(engine: EngineSettings, tasks: int) -> int:
    """Workers for a stage without its own worker setting: `--engine-workers`, else one in this process
    locally and one per CPU core on Ray; never more than there are tasks."""
    wanted = engine.workers or ((os.cpu_count() or 1) if engine.engine == "ray" else 1)
    return max(1, min(wanted, tasks))


def runs_here(engine: EngineSettings, workers: int) -> bool:
    """Whether `run_tasks` runs the tasks in this process, so a stage can hand over what it already loaded."""
    return engine.engine == "local" and workers == 1


def limit_tensorflow_threads(threads: int) -> None:
    """In a worker process, before TensorFlow starts its thread pools: the workers share the cores."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def run_tasks(tasks: list, *, make_worker: Callable, spec, work: Callable, lost: Callable, workers: int,
              engine: EngineSettings, on_result: Callable | None = None) -> list:
    """`work(worker, task)` for every task on `workers` workers of the chosen engine; the results, in
    completion order."""
    if not tasks:
        return []
    workers = max(1, min(workers, len(tasks)))
    on_result = on_result or (lambda result: None)
    if engine.engine == "ray":
        return _on_ray(tasks, make_worker, spec, work, lost, workers, engine, on_result)
    if engine.engine != "local":
        raise EngineError(f"unknown engine {engine.engine!r}; expected local or ray")
    if runs_here(engine, workers):  # no spawn cost: one worker, in this process
        worker = make_worker(spec)
        return [_reported(work(worker, task), on_result) for task in tasks]
    return _in_process_pool(tasks, make_worker, spec, work, lost, workers, on_result)


def _reported(result, on_result: Callable):
    on_result(result)
    return result


# --------------------------------------------------------------------------- local: a spawned process pool

_POOL_WORKER = None


def _start_pool_worker(make_worker: Callable, spec) -> None:
    global _POOL_WORKER
    _POOL_WORKER = make_worker(spec)


def _run_in_pool_worker(work: Callable, task):
    return work(_POOL_WORKER, task)


def _in_process_pool(tasks, make_worker, spec, work, lost, workers, on_result) -> list:
    results = []
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),  # onnxruntime's and TensorFlow's threads do not survive fork
        initializer=_start_pool_worker,
        initargs=(make_worker, spec),
    )
    try:
        futures = {pool.submit(_run_in_pool_worker, work, task): task for task in tasks}
        for future in as_completed(futures):
            try:
                result = future.result()
            except BrokenProcessPool:
                result = lost(futures[future], "a worker process died; rerun to resume")
            results.append(_reported(result, on_result))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


# --------------------------------------------------------------------------- ray: one actor per worker


class _Worker:
    """A Ray actor's state: the loaded model, built once (again after a restart)."""

    def __init__(self, make_worker: Callable, spec):
        self.worker = make_worker(spec)

    def run(self, work: Callable, task):
        return work(self.worker, task)

    def pid(self) -> int:
        return os.getpid()


def cluster_endpoint(address: str) -> tuple[str, int]:
    """(host, port) of `host:port` or `ray://host:port` (Ray Client's default port 10001)."""
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    if not parsed.hostname:
        raise EngineError(f"--engine-address {address!r} is not host:port or ray://host:port")
    default = 10001 if parsed.scheme == "ray" else 6379
    try:
        return parsed.hostname, parsed.port or default
    except ValueError:
        raise EngineError(f"--engine-address {address!r} has no valid port") from None


def check_reachable(address: str, timeout: float) -> None:
    """Fail within `timeout` seconds, with what to do, when nothing answers at the cluster's address."""
    host, port = cluster_endpoint(address)
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        waited = time.perf_counter() - started
        raise EngineError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc} after {waited:.0f} s); "
                          "check the address and that the cluster is up, or run without --engine ray to use "
                          "this machine") from None


def connect(engine: EngineSettings, workers: int):
    """The `ray` module, connected to the cluster at `engine_address` or to a local instance started for
    `workers` workers; returns (ray, whether this call started it)."""
    try:
        import ray
    except ImportError:
        raise EngineError(f"--engine ray needs Ray, which is not installed: {RAY_HINT}") from None
    if ray.is_initialized():
        return ray, False
    if engine.engine_address:
        check_reachable(engine.engine_address, engine.connect_timeout)
        # The cluster's workers get this checkout's packages; a local instance shares the file system.
        runtime_env = {"py_modules": [str(REPO_ROOT / name) for name in PACKAGES]}
        try:
            ray.init(address=engine.engine_address, runtime_env=runtime_env, log_to_driver=False)
        except (ConnectionError, RuntimeError, TimeoutError) as exc:  # something answered, but not a Ray head
            raise EngineError(f"cannot reach the Ray cluster at {engine.engine_address} ({exc}); check the address "
                              "and that the cluster is up, or run without --engine ray to use this machine") from None
    else:
        start_local_ray(ray, workers)
    return ray, True


def start_local_ray(ray, workers: int) -> None:
    """A Ray instance on this machine for `workers` workers; it shares this checkout's file system."""
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, object_store_memory=256 * 2**20,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO_ROOT)}})


def _on_ray(tasks, make_worker, spec, work, lost, workers, engine, on_result) -> list:
    ray, started = connect(engine, workers)
    try:
        actor_class = ray.remote(num_cpus=1, max_restarts=engine.task_retries,
                                 max_task_retries=engine.task_retries)(_Worker)
        actors = [actor_class.remote(make_worker, spec) for _ in range(workers)]
        return _dispatch(ray, actors, tasks, work, lost, on_result)
    finally:
        if started:
            ray.shutdown()


def _dispatch(ray, actors: list, tasks: Iterable, work, lost, on_result) -> list:
    """Keep every actor busy with one task at a time; a task whose actor is gone for good (its restarts
    spent) is recorded as lost, never dropped or run twice into the results."""
    pending = iter(tasks)
    running = {}  # object ref -> (actor, task)
    results = []

    def submit(actor) -> None:
        task = next(pending, None)
        if task is not None:
            running[actor.run.remote(work, task)] = (actor, task)

    for actor in actors:
        submit(actor)
    while running:
        done, _ = ray.wait(list(running), num_returns=1)
        actor, task = running.pop(done[0])
        try:
            result = ray.get(done[0])
        except ray.exceptions.RayActorError as exc:
            result = lost(task, f"its worker died and was not restarted ({type(exc).__name__}); rerun to resume")
        except ray.exceptions.RayTaskError as exc:  # `work` raised: report it as that task's failure
            result = lost(task, f"{type(exc.cause).__name__}: {exc.cause}")
        results.append(_reported(result, on_result))
        submit(actor)
    return results
