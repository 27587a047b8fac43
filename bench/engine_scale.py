"""The heavy per-photo stages on the distributed engine against the built-in path, and what a million looks costs.

Two stages, each on the same photos, the alternatives interleaved (built-in, Ray, built-in, Ray):
- background removal (`data.background.remove_backgrounds`, rembg u2netp): the built-in path is the local
  process pool with 2 workers; the engine path is 2 Ray actors on a local Ray instance;
- feature caching (`model.features.ensure_features`, VGG16 block1–4 at 224 px, the thesis profile's size):
  the built-in path is this process with every core; the engine path is 2 Ray actors with one core each.

Every timed run starts from an empty cache, so every photo does the model work, and includes building the
workers' models. The Ray instance's own start-up (`ray.init`) is timed apart: a cluster pays it once, not
per batch. The projection for a million looks is computed from these figures (`projection`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.background_removal import bench_workspace
from bench.harness import Row, Skip, median, rate, time_interleaved
from bench.photos import photo_files

GOAL_RATIO = 0.9  # the engine path's throughput against the built-in path's
FEATURE_SIZE = 224
LOOKS = 1_000_000
WORKER_COUNTS = (1, 8, 64)


@dataclass(frozen=True)
class Sizes:
    photos: int
    repeats: int


FULL = Sizes(photos=200, repeats=3)
QUICK = Sizes(photos=32, repeats=1)  # two feature batches: a steady rate needs a result after the first


def _start_ray(workers: int) -> float:
    """Seconds to start a local Ray instance for `workers` workers (kept running for the timed calls)."""
    import ray

    from core.engine import start_local_ray

    started = time.perf_counter()
    start_local_ray(ray, workers)
    return time.perf_counter() - started


class ResultClock:
    """When each result of `core.engine.run_tasks` reached the caller, and how many photos it held, per labelled
    run: the steady-state rate, start-up apart, is the photos after the first result over the time since it.
    It wraps the engine's one hand-over point (`_reported`), so both paths are timed the same way."""

    def __init__(self):
        self.runs: dict[str, list[list[tuple[float, int]]]] = {}
        self.current: list[tuple[float, int]] | None = None

    def start(self, label: str) -> None:
        self.current = []
        self.runs.setdefault(label, []).append(self.current)

    def __enter__(self):
        import core.engine

        self.original = core.engine._reported

        def reported(result, on_result):
            if self.current is not None:
                self.current.append((time.perf_counter(), _photos_in(result)))
            return self.original(result, on_result)

        core.engine._reported = reported
        return self

    def __exit__(self, *exc):
        import core.engine

        core.engine._reported = self.original

    def steady_rates(self, label: str) -> list[float]:
        rates = []
        for marks in self.runs.get(label, []):
            if len(marks) > 1:
                rates.append(sum(n for _, n in marks[1:]) / (marks[-1][0] - marks[0][0]))
        return rates


def _photos_in(result) -> int:
    """A background-removal result is one photo; a feature-caching result is (batch, reason)."""
    if isinstance(result, tuple) and result and hasattr(result[0], "items"):
        return len(result[0].items)
    return 1


def background_removal_seconds(settings, photos: list[Path], scratch: Path, repeats: int,
                               clock: ResultClock) -> dict[str, list[float]]:
    from core.config import EngineSettings
    from data.background import BackgroundOptions, remove_backgrounds

    counter = iter(range(1_000_000))
    failures: list[int] = []

    def setup():
        return bench_workspace(settings, scratch / f"rembg-{next(counter)}", photos)

    def on(engine: str):
        def go(bench):
            clock.start(f"background_removal:{engine}")
            chosen = bench.with_overrides({"data": {"rembg_workers": 2}}).replace(engine=EngineSettings(engine=engine))
            failures.append(remove_backgrounds(BackgroundOptions(dataset="bench"), chosen).summary.get("failed", 0))
        return go

    seconds = time_interleaved({"local": on("local"), "ray": on("ray")}, repeats=repeats, warmup=0,
                               setups={"local": setup, "ray": setup})
    if any(failures):
        raise Skip(f"background removal failed on some photos: {failures}")
    return seconds


def feature_caching_seconds(settings, photos: list[Path], scratch: Path, repeats: int,
                            clock: ResultClock) -> dict[str, list[float]]:
    import keras

    from core.config import EngineSettings
    from model.features import cache_for, content_hashes, ensure_features
    from model.network import build_model

    keras.utils.set_random_seed(0)
    model = build_model(3, FEATURE_SIZE, settings=settings, augment=False)
    paths = [str(path) for path in photos]
    hashes = content_hashes(paths)
    cache = cache_for(model, scratch / "features", FEATURE_SIZE, "thesis", "nearest")

    def on(engine: EngineSettings | None):
        def go(_):
            clock.start(f"feature_caching:{engine.engine if engine else 'local'}")
            ensure_features(model, cache, paths, hashes, batch_size=16, engine=engine)
        return go

    def empty_cache():
        shutil.rmtree(cache.folder, ignore_errors=True)

    return time_interleaved({"local": on(None), "ray": on(EngineSettings(engine="ray", workers=2))},
                            repeats=repeats, warmup=0, setups={"local": empty_cache, "ray": empty_cache})


def projection(per_worker_img_per_s: float, startup_s: float, looks: int = LOOKS,
               worker_counts: tuple[int, ...] = WORKER_COUNTS, efficiency: float = 1.0) -> list[dict]:
    """Hours for `looks` photos on W workers: start-up + looks / (W × per-worker rate × efficiency).

    A worker is one core, as measured here; `efficiency` is the engine's measured throughput against the
    built-in path on the same cores (what coordination costs). It assumes photos are already on a shared
    file system and that reading them is not the bottleneck."""
    return [{"workers": workers,
             "hours": round((startup_s + looks / (workers * per_worker_img_per_s * efficiency)) / 3600, 2)}
            for workers in worker_counts]


def run(settings, quick: bool = False) -> dict:
    try:
        import ray
    except ImportError:
        raise Skip("Ray is not installed: pip install -r requirements-cluster.txt") from None
    sizes = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        scratch = Path(tmp)
        photos, source = photo_files(settings, sizes.photos, scratch / "photos")
        startup = _start_ray(2)
        try:
            with ResultClock() as clock:
                rembg = background_removal_seconds(settings, photos, scratch, sizes.repeats, clock)
                features = feature_caching_seconds(settings, photos, scratch, sizes.repeats, clock)
        finally:
            ray.shutdown()
    stages = {}
    for name, seconds in (("background_removal", rembg), ("feature_caching", features)):
        local, on_ray = rate(len(photos), median(seconds["local"])), rate(len(photos), median(seconds["ray"]))
        steady_local = median(clock.steady_rates(f"{name}:local"))
        steady_ray = median(clock.steady_rates(f"{name}:ray"))
        efficiency = min(1.0, steady_ray / steady_local)
        stages[name] = {
            "local_img_per_s": round(local, 3), "ray_img_per_s": round(on_ray, 3),
            "ray_over_local_whole_run": round(on_ray / local, 3),
            "steady_local_img_per_s": round(steady_local, 3), "steady_ray_img_per_s": round(steady_ray, 3),
            "ray_over_local": round(steady_ray / steady_local, 3),
            # what the first result waits for beyond steady work: spawning workers and loading their models
            "worker_startup_s": {engine: round(median(seconds[engine]) - len(photos) / steady, 2)
                                 for engine, steady in (("local", steady_local), ("ray", steady_ray))},
            "seconds": {key: [round(value, 2) for value in values] for key, values in seconds.items()},
            # The built-in path uses both cores; one worker is one core.
            "per_worker_img_per_s": round(steady_local / 2, 3),
            "projection": projection(steady_local / 2, startup, efficiency=efficiency),
        }
    return {"photos": source, "cores": os.cpu_count(), "ray_version": ray.__version__,
            "ray_startup_s": round(startup, 2), "feature_image_size": FEATURE_SIZE, "looks": LOOKS,
            "stages": stages, "goal": f"Ray ≥ {GOAL_RATIO:g}× the built-in path",
            "goal_met": all(stage["ray_over_local"] >= GOAL_RATIO for stage in stages.values())}


def rows(result: dict) -> list[Row]:
    out = [Row("Ray instance start-up (once per cluster)", result["ray_startup_s"], "s")]
    for name, label in (("background_removal", "background removal"), ("feature_caching", "feature caching")):
        stage = result["stages"][name]
        out += [Row(f"{label}, built-in path, steady", stage["steady_local_img_per_s"], "img/s"),
                Row(f"{label}, Ray 2 workers, steady", stage["steady_ray_img_per_s"], "img/s"),
                Row(f"{label}, Ray / built-in, start-up apart", stage["ray_over_local"], "×", f"≥ {GOAL_RATIO:g}×",
                    stage["ray_over_local"] >= GOAL_RATIO),
                Row(f"{label}, Ray / built-in, whole run", stage["ray_over_local_whole_run"], "×"),
                Row(f"{label}, worker start-up, built-in path", stage["worker_startup_s"]["local"], "s"),
                Row(f"{label}, worker start-up, Ray", stage["worker_startup_s"]["ray"], "s")]
    return out


def projection_table(result: dict) -> list[str]:
    """The million-look projection as markdown table lines (docs/BENCHMARKS.md and docs/SCALE.md)."""
    stages = result["stages"]
    counts = [entry["workers"] for entry in stages["background_removal"]["projection"]]
    lines = ["| stage | per worker (img/s) | " + " | ".join(f"{c} worker{'s' * (c > 1)}" for c in counts) + " |",
             "|---|---|" + "---|" * len(counts)]
    for name, label in (("background_removal", "background removal (u2netp)"),
                        ("feature_caching", f"feature caching (block1–4, {result['feature_image_size']} px)")):
        stage = stages[name]
        hours = " | ".join(_duration(entry["hours"]) for entry in stage["projection"])
        lines.append(f"| {label} | {stage['per_worker_img_per_s']:.2f} | {hours} |")
    return lines


def _duration(hours: float) -> str:
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h" if hours >= 1 else f"{hours * 60:.0f} min"


def notes(result: dict) -> list[str]:
    stages = result["stages"]
    lines = [
        f"Engine: {result['photos']}, Ray {result['ray_version']} on {result['cores']} cores; every timed run starts "
        f"from an empty cache. Steady rates count the photos after each run's first result over the time since it, so "
        f"building the workers' models (worker start-up) is apart, as is the local Ray instance's own start-up "
        f"({result['ray_startup_s']:.1f} s). Seconds per whole run: background removal "
        f"{stages['background_removal']['seconds']}, feature caching {stages['feature_caching']['seconds']}.",
        f"A million looks, projected from these figures: hours = Ray start-up + {result['looks']:,} / (workers × "
        "per-worker rate × the measured Ray/built-in ratio, capped at 1), one core per worker, photos on a shared "
        "file system (docs/SCALE.md):",
        *("  " + line for line in projection_table(result)),
    ]
    for name, stage in stages.items():
        if stage["ray_over_local"] < GOAL_RATIO:
            lines.append(f"{name.replace('_', ' ').capitalize()} on Ray reached {stage['ray_over_local']:.2f}× the "
                         "built-in path at steady state, under the goal: on 2 cores the Ray raylet, its object store "
                         "and the driver share the cores the workers compute on.")
    return lines
