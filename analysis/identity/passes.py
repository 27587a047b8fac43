"""The identity analysis's model passes on the chosen engine (`core.engine`): one photo per task.

The counterfactual truth (render a look's edits, score them), occlusion (fill each zone, score)
and Grad-CAM's zone shares are per-photo work around a loaded model, so they run like the other
heavy stages: in this process with the context's scorer by default, or on `--engine-workers`
spawned processes or Ray actors, each of which loads the run's model once (`pass_worker`). A
pass hands over the tasks, `work(worker, task)` and what every task shares (`PassSpec.options`:
the fill and its options, the demo's parameters, the Grad-CAM layer), and gets each result as it
arrives; the callers put the results in their caches and read them back in the order of the
photos asked for, so the tables are the same whichever engine ran them.

Tasks are batches of photos (one photo each for the truth and occlusion, Grad-CAM's batch size for
Grad-CAM). A bad photo never raises in a worker: it comes back as `PhotoResult(path, None, reason)`
(`EachPhoto`, `WholeBatch`), and `run_photo_passes` raises one `IdentityError` naming them after the
others are stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from analysis.attention import AttentionError
from analysis.identity import IdentityError
from analysis.identity.zones import zone_grid
from core.config import AttentionSettings
from core.images import ImageError
from core.logs import progress_bar
from model.preprocess import load_model_input

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PassSpec:
    """What a worker process loads once: the run's model (through `ModelScorer`), the zone settings, and what
    every task of the pass shares."""

    run_root: str
    batch_size: int
    threads: int
    attention: AttentionSettings
    use_labels: bool
    options: dict = field(default_factory=dict)


class PhotoMasks(NamedTuple):
    """A photo and the masks its zones are cut from (paths; "" for none)."""

    path: str
    figure_mask: str
    zones_mask: str


def zones_or_none(figure_mask: str, zones_mask: str, shape: tuple[int, int], attention: AttentionSettings,
                  use_labels: bool) -> np.ndarray | None:
    """(5, h, w) zone fractions of a photo on a grid; None without a usable mask (logged)."""
    try:
        return zone_grid(figure_mask, zones_mask, shape, attention, use_labels=use_labels)
    except AttentionError as exc:
        log.debug("[identity] %s: %s", figure_mask or zones_mask, exc)
        return None


def scorer_input(scorer, path: str) -> np.ndarray:
    """A photo as `scorer`'s model reads it (evaluation's preprocessing)."""
    return load_model_input(path, scorer.image_size, scorer.resize_filter)


class PhotoResult(NamedTuple):
    path: str
    value: object  # the pass's result for the photo; None when it failed or had no zones
    problem: str = ""  # why `value` is None: "" for a photo without usable zones, else the failure


@dataclass
class PassWorker:
    """A worker's loaded state: a scorer (`analysis.identity.context.Scorer`), the zone settings and the options."""

    scorer: object
    attention: AttentionSettings
    use_labels: bool
    options: dict
    memo: dict = field(default_factory=dict)  # what a worker builds once per pass (a Grad-CAM of the model)

    def zones(self, figure_mask: str, zones_mask: str, shape: tuple[int, int]) -> np.ndarray | None:
        """(5, h, w) zone fractions of a photo on a grid; None without a usable mask."""
        return zones_or_none(figure_mask, zones_mask, shape, self.attention, self.use_labels)

    def model_input(self, path: str) -> np.ndarray:
        return scorer_input(self.scorer, path)


def pass_worker(spec: PassSpec) -> PassWorker:
    """A worker process's `PassWorker`, with the run's saved model (the engine's `make_worker`)."""
    from analysis.identity.context import ModelScorer
    from core.contract import RunFolder
    from core.engine import limit_tensorflow_threads

    limit_tensorflow_threads(spec.threads)
    run = RunFolder(Path(spec.run_root))
    return PassWorker(ModelScorer(run, run.read_config(), spec.batch_size), spec.attention, spec.use_labels,
                      spec.options)


def photo_failed(path: str, reason: str) -> PhotoResult:
    return PhotoResult(path, None, reason)


def lost_batch(batch: tuple, reason: str) -> list[PhotoResult]:
    """A batch whose worker could not run it (the engine's `lost`): each item's first field is its photo."""
    return [photo_failed(str(item[0]), reason) for item in batch]


@dataclass(frozen=True)
class EachPhoto:
    """A batch's work, one photo at a time: `work(worker, item) -> PhotoResult`, an unreadable photo answered with
    the problem instead of raising (a class, not a closure, so it travels to worker processes)."""

    work: Callable

    def __call__(self, worker: PassWorker, batch: tuple) -> list[PhotoResult]:
        results = []
        for item in batch:
            try:
                results.append(self.work(worker, item))
            except (ImageError, OSError) as exc:
                results.append(photo_failed(str(item[0]), str(exc)))
        return results


@dataclass(frozen=True)
class WholeBatch:
    """A batch's work done at once (`work(worker, batch) -> list[PhotoResult]`, e.g. one Grad-CAM pass); an
    unreadable photo fails the batch, whose photos are named."""

    work: Callable

    def __call__(self, worker: PassWorker, batch: tuple) -> list[PhotoResult]:
        try:
            return self.work(worker, batch)
        except (ImageError, OSError) as exc:
            return lost_batch(batch, str(exc))


def batches_of(items: list, size: int) -> list[tuple]:
    size = max(1, int(size))
    return [tuple(items[start:start + size]) for start in range(0, len(items), size)]


def run_photo_passes(context, batches: list[tuple], work: Callable, options: dict, on_result: Callable,
                     desc: str) -> list[str]:
    """`work(worker, batch)` (`EachPhoto` or `WholeBatch`) for every batch on `context.settings.engine`;
    `on_result(PhotoResult)` for each photo with a value, as its batch arrives.

    Returns the paths whose photo had no usable zones. Raises `IdentityError` naming the photos that failed,
    after every other result has reached `on_result` (the callers' caches keep them, so a rerun resumes).
    """
    from core.engine import planned_workers, run_tasks, runs_here, threads_per_worker

    if not batches:
        return []
    settings = context.settings
    engine, workers = settings.engine, planned_workers(settings.engine, len(batches))
    spec = PassSpec(str(context.run.root), settings.identity.batch_size, threads_per_worker(workers),
                    settings.attention, settings.identity.zone_source == "exact", options)
    if runs_here(engine, workers) or context.scorer_factory is not None:
        from core.config import EngineSettings

        # one worker, in this process, with the scorer already loaded (or a caller's own, which cannot travel)
        engine, workers = EngineSettings(), 1

        def make_worker(_spec: PassSpec) -> PassWorker:
            return PassWorker(context.scorer, _spec.attention, _spec.use_labels, _spec.options)
    else:
        make_worker = pass_worker
    bar = progress_bar(total=sum(len(batch) for batch in batches), logger=log, desc=desc, unit="img")
    no_zones, failed = [], []

    def arrived(results: list[PhotoResult]) -> None:
        bar.update(len(results))
        for result in results:
            if result.value is not None:
                on_result(result)
            elif result.problem:
                failed.append(result)
            else:
                no_zones.append(result.path)

    run_tasks(batches, make_worker=make_worker, spec=spec, work=work, lost=lost_batch, workers=workers,
              engine=engine, on_result=arrived)
    bar.close()
    if failed:
        raise IdentityError(f"{desc} failed on {len(failed)} photo(s) (e.g. {failed[0].path}: {failed[0].problem}); "
                            "the scores computed are kept, and a rerun resumes")
    return no_zones


SAVE_EVERY = 8  # photos between cache writes: a killed pass loses at most this many


def run_cached_passes(context, cache, tasks: list, work: Callable, options: dict, rows_of: Callable,
                      desc: str) -> None:
    """One photo per task (`work(worker, task) -> PhotoResult`) on the engine, each photo's cache rows
    (`rows_of(result)`: {key: values}, or None to store nothing) put in `cache` as it arrives, which is saved
    every `SAVE_EVERY` photos and at the end, also when the pass fails."""
    pending = 0

    def store(result: PhotoResult) -> None:
        nonlocal pending
        rows = rows_of(result)
        if rows is None:
            return
        for key, values in rows.items():
            cache.put(key, values)
        pending += 1
        if pending >= SAVE_EVERY:
            cache.save()
            pending = 0

    try:
        run_photo_passes(context, batches_of(tasks, 1), EachPhoto(work), options, store, desc)
    finally:
        if pending or cache.discarded:
            cache.save()
