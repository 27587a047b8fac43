"""What every benchmark shares: timing with warm-up, medians and percentiles, machine information,
the goal lines printed beside each figure, and the results file.

A measurement module (bench/<name>.py) has `run(settings, quick) -> dict` and `rows(result) ->
list[Row]`; `notes(result) -> list[str]` is optional. A result that could not be measured is
`{"skipped": "<reason>"}` (raise `Skip(reason)`), and `write_results` fills every required key, so
`bench/results.json` always has the same top-level shape.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from core.fileio import write_json_atomic

# bench/results.json's top-level keys, in report order (`machine` is added by write_results).
MEASUREMENTS = (
    "training",
    "architectures",
    "vgg16_forward",
    "single_photo",
    "background_removal",
    "engine_scale",
    "heatmap_aggregation",
    "identity_analysis",
    "dashboard_render",
    "browser_waits",
    "make_run",
)
TRAINING_KEYS = ("end_to_end_img_per_s", "cached_img_per_s", "speedup")
LIBRARIES = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "onnxruntime", "rembg", "streamlit",
             "opencv-python-headless", "pillow", "scipy", "pandas")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                    "TF_NUM_INTEROP_THREADS", "TF_ENABLE_ONEDNN_OPTS")


class Skip(Exception):
    """Raised by a measurement that cannot run here; its message is the reason recorded."""


@dataclass(frozen=True)
class Row:
    """One line of the report table: a figure, its goal, and whether it was met (None: no goal)."""

    figure: str
    value: float | None
    unit: str
    goal: str = ""
    met: bool | None = None


# --------------------------------------------------------------------------- timing


def time_call(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def time_interleaved(calls: dict[str, Callable], repeats: int = 3, warmup: int = 1,
                     setups: dict[str, Callable[[], object]] | None = None) -> dict[str, list[float]]:
    """Seconds of each call, taken in rounds (A, B, A, B, ...) so that load changing on a shared machine
    weighs on every alternative alike. A call named in `setups` gets that setup's fresh result, untimed."""
    setups = setups or {}
    times: dict[str, list[float]] = {name: [] for name in calls}
    for index in range(warmup + repeats):
        for name, fn in calls.items():
            state = setups[name]() if name in setups else None
            start = time.perf_counter()
            fn(state) if name in setups else fn()
            if index >= warmup:
                times[name].append(time.perf_counter() - start)
    return times


def median(values: list[float]) -> float:
    if not len(values):
        raise ValueError("median of no values")
    return float(np.median(values))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linearly interpolated between the ordered values (numpy's default)."""
    if not len(values):
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {q}")
    return float(np.percentile(values, q))


def summary(seconds: list[float]) -> dict:
    """p50, p95, min and the number of timed runs of a list of durations (seconds)."""
    return {"p50_s": round(percentile(seconds, 50), 4), "p95_s": round(percentile(seconds, 95), 4),
            "min_s": round(min(seconds), 4), "runs": len(seconds)}


def rate(count: int, seconds: float) -> float:
    """Items per second (inf for a zero duration)."""
    return count / seconds if seconds > 0 else float("inf")


# --------------------------------------------------------------------------- machine


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: on a shared machine they say how noisy the figures are."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def library_versions() -> dict[str, str]:
    versions = {}
    for package in LIBRARIES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def blas_info() -> list[dict]:
    """The BLAS libraries loaded in this process, the package that ships each, and their threads (threadpoolctl)."""
    from threadpoolctl import threadpool_info

    return [{"package": Path(pool.get("filepath", "")).parent.name.removesuffix(".libs"),
             "library": pool.get("internal_api"), "version": pool.get("version"), "threads": pool.get("num_threads")}
            for pool in threadpool_info() if pool.get("user_api") == "blas"]


def simd_flags() -> list[str]:
    """The CPU's vector extensions that decide the peak FLOP rate (AVX2, AVX-512, AMX)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    return [flag for flag in flags if flag in ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni",
                                                               "amx_tile", "amx_bf16")]
    except OSError:
        pass
    return []


def machine_info() -> dict:
    return {
        "cpu": cpu_model(),
        "simd": simd_flags(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average": load_average(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": library_versions(),
        "thread_variables": {name: os.environ[name] for name in THREAD_VARIABLES if name in os.environ},
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


# --------------------------------------------------------------------------- goals and results


def skipped(reason: str) -> dict:
    return {"skipped": reason}


def is_skipped(result: dict) -> bool:
    return isinstance(result, dict) and "skipped" in result


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "×":
        return f"{value:,.2f}×"
    if unit == "%":
        return f"{value:.0%}"
    if unit == "acc":  # a test accuracy: three decimals, no unit
        return f"{value:.3f}"
    return f"{value:,.3g} {unit}" if abs(value) < 100 else f"{value:,.0f} {unit}"


def goal_line(row: Row) -> str:
    """`figure: value unit; goal G (goal met)`, what each benchmark prints beside its figure."""
    verdict = "" if row.met is None else (" (goal met)" if row.met else " (goal missed)")
    goal = f"; goal {row.goal}{verdict}" if row.goal else ""
    return f"{row.figure}: {format_value(row.value, row.unit)}{goal}"


def complete_results(results: dict, machine: dict) -> dict:
    """Every required key present (a missing one is skipped), in report order, plus `machine`."""
    complete = {name: results.get(name, skipped("not measured in this run")) for name in MEASUREMENTS}
    training = complete["training"]
    if not is_skipped(training):
        missing = [key for key in TRAINING_KEYS if key not in training]
        if missing:
            raise ValueError(f"training result lacks {', '.join(missing)}")
    complete["machine"] = machine
    return finite(complete)


def finite(value):
    """The same structure with NaN and infinities as None: results.json stays strict JSON."""
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_results(path: str | os.PathLike, results: dict, machine: dict | None = None) -> Path:
    """Write bench/results.json atomically with every required key (see `complete_results`)."""
    return write_json_atomic(path, complete_results(results, machine or machine_info()))
