"""Build the demo atelier end to end: assets, photos, datasets, both models, evaluations, analytics.

    python -m pipeline demo [--profile demo|thesis] [--background-informativeness P] [--dataset NAME]

Each step calls the stage's own function with the settings object (a profile is a named override of
`core.config.Settings`), and is skipped when its artifact exists and was made with the same settings,
so a second `make run` only checks a few files and starts the dashboard. A killed build resumes:
every stage resumes by itself. Stage modules are imported when a step has work to do, so an
up-to-date check never imports TensorFlow.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.config import ARCHITECTURES, Settings
from core.contract import RUNWAY_CSV_FILE, ContractError, DatasetFolder, RunFolder
from core.fileio import write_json_atomic

STAMP_FILE = ".pipeline-stamps.json"
THESIS = ARCHITECTURES[-1]  # the students' network, built beside the recommended one
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    name: str
    artifact: Callable[[Settings], Path]  # the file whose presence means the step is done
    command: Callable[[], object]  # runs the step; a non-zero int is a failed exit code
    parameters: dict  # what the artifact depends on; a change reruns the step
    # what to run instead when the step was completed before with other parameters (None: `command`)
    command_after_change: Callable[[], object] | None = None
    # `make run` runs it behind the dashboard: no page needs it to open, and it takes minutes
    behind_dashboard: bool = False


# --------------------------------------------------------------------------- the stages, called as functions


def provision_assets(settings: Settings) -> int:
    from model.assets import check, provision

    provision(settings)
    problems = check(settings)
    for problem in problems:
        log.error(problem)
    return 1 if problems else 0


def generate_demo(settings: Settings, out: Path) -> None:
    from data.demo.generate import DemoParams, generate

    params = DemoParams.from_settings(settings.demo).validate()
    generate(params, out, workers=settings.demo.workers, overwrite=True)


def prepare_dataset(csv: Path, images: Path, name: str, split: str, settings: Settings) -> None:
    from data.prepare import PrepareOptions
    from data.prepare import prepare_dataset as prepare

    prepare(PrepareOptions(csv=csv, images_root=images, name=name, top_n=settings.demo.houses),
            settings.with_overrides({"data": {"split": split}}))


def remove_backgrounds(dataset: DatasetFolder, settings: Settings) -> None:
    from data.background import BackgroundOptions
    from data.background import remove_backgrounds as remove

    summary = remove(BackgroundOptions(dataset=dataset.root), settings).summary
    if summary["failed"] and not summary["images"]:  # nothing to train the nobg model on
        raise ContractError(f"background removal failed for every photo of {dataset.root}; "
                            f"`python -m data remove-background --dataset {dataset.root}` lists why")


def train(variant: str, dataset: DatasetFolder, run: str, settings: Settings, restart: bool = False) -> None:
    from model.training import TrainRequest
    from model.training import train as train_run

    train_run(TrainRequest(variant=variant, data=str(dataset.root), run=run, restart=restart), settings)


def evaluate(run: str, settings: Settings) -> None:
    from model.evaluation import evaluate as evaluate_run

    evaluate_run(run, settings)


def analyse(run: str, settings: Settings) -> None:
    from analysis.attention.analyse import AnalysisOptions
    from analysis.attention.analyse import analyse as analyse_run

    analyse_run(AnalysisOptions(run=run, max_images=settings.pipeline.analysis_max_images or None), settings)


def identity_analysis(run: str, settings: Settings) -> None:
    from analysis.identity.identify import IdentityOptions, identify

    identify(IdentityOptions(run=run), settings)


def train_baseline(variant: str, dataset: DatasetFolder, run: str, settings: Settings) -> None:
    from model.baseline import train_baseline as fit

    fit(str(dataset.root), variant, run, settings)


def build_ensemble_run(raw: str, nobg: str, name: str, settings: Settings) -> None:
    from model.ensemble import make_ensemble, summary_lines

    for line in summary_lines(make_ensemble(raw, nobg, settings, name=name, learn_weight=True)):
        log.info(line)


def distinctiveness_index(run: str, collection_run: str | None, settings: Settings) -> None:
    from analysis.brand.cli import COMMANDS

    COMMANDS["index"](argparse.Namespace(run=run, collection_run=collection_run), settings)


# --------------------------------------------------------------------------- the plan


def run_names(dataset: str) -> dict[str, str]:
    return {
        "raw": f"{dataset}-raw",
        "nobg": f"{dataset}-nobg",
        "ensemble": f"{dataset}-ensemble",
        "collection_dataset": f"{dataset}-collection",
        "collection_raw": f"{dataset}-collection-raw",
        # the plain probe and the thesis network beside the recommended one, on the same splits
        **{f"{variant}_{kind}": f"{dataset}-{variant}-{kind}" for variant in ("raw", "nobg") for kind in ("baseline", "thesis")},
        "collection_baseline": f"{dataset}-collection-raw-baseline",
    }


def demo_folder(settings: Settings) -> Path:
    """The default dataset's photos live in <workspace>/demo; another dataset name gets its own folder."""
    dataset = settings.pipeline.dataset
    return settings.paths.demo if dataset == "demo" else settings.paths.root / dataset


def plan(settings: Settings) -> list[Step]:
    """The ordered steps that build `settings.pipeline.dataset` with these settings."""
    names = run_names(settings.pipeline.dataset)
    demo_dir = demo_folder(settings)
    runway_csv = demo_dir / RUNWAY_CSV_FILE
    dataset = DatasetFolder(settings.paths.datasets / settings.pipeline.dataset)
    run = lambda name: RunFolder(settings.paths.run_dir(name))  # noqa: E731 - a short alias keeps the table readable

    generated = {"demo": dataclasses.asdict(settings.demo)}
    prepared = {**generated, "data": dataclasses.asdict(settings.data)}
    trained = {**prepared, "model": dataclasses.asdict(settings.model)}
    analysed = {**trained, "attention": dataclasses.asdict(settings.attention),
                "max_images": settings.pipeline.analysis_max_images}
    indexed = {**trained, "analytics": dataclasses.asdict(settings.analytics)}
    identified = {**analysed, "identity": dataclasses.asdict(settings.identity)}

    def prepare_step(folder: DatasetFolder, split: str) -> Step:
        return Step(f"prepare dataset ({split} split)", lambda s: folder.manifest,
                    lambda: prepare_dataset(runway_csv, demo_dir, folder.name, split, settings), prepared)

    def train_step(variant: str, name: str, data: DatasetFolder, with_settings: Settings = settings) -> Step:
        parameters = {**trained, "model": dataclasses.asdict(with_settings.model)}
        # `train` refuses to resume a run made with other settings: a changed profile starts it over
        return Step(f"train {name}", lambda s: run(name).model, lambda: train(variant, data, name, with_settings),
                    parameters, command_after_change=lambda: train(variant, data, name, with_settings, restart=True))

    def evaluate_step(name: str, with_settings: Settings = settings) -> Step:
        return Step(f"evaluate {name}", lambda s: run(name).metrics, lambda: evaluate(name, with_settings),
                    {**trained, "model": dataclasses.asdict(with_settings.model)})

    def baseline_step(variant: str, name: str, data: DatasetFolder) -> Step:
        return Step(f"baseline {name}", lambda s: run(name).config, lambda: train_baseline(variant, data, name, settings),
                    trained)

    def attention_step(name: str) -> Step:
        return Step(f"attention analytics {name}", lambda s: run(name).attention_per_image,
                    lambda: analyse(name, settings), analysed)

    def identity_step(name: str) -> Step:
        return Step(f"identity {name}", lambda s: run(name).identity, lambda: identity_analysis(name, settings),
                    identified, behind_dashboard=True)

    def index_step(name: str, collection_run: str | None) -> Step:
        return Step(f"distinctiveness index {name}", lambda s: run(name).brand_analytics,
                    lambda: distinctiveness_index(name, collection_run, settings),
                    {**indexed, "collection_run": collection_run})

    steps = [
        Step("model assets", lambda s: s.paths.vgg16_weights, lambda: provision_assets(settings), {}),
        Step("generate demo photos", lambda s: runway_csv, lambda: generate_demo(settings, demo_dir), generated),
        prepare_step(dataset, "random"),
        Step(f"remove backgrounds (rembg {settings.data.rembg_model})", lambda s: dataset.nobg_manifest,
             lambda: remove_backgrounds(dataset, settings), prepared),
    ]
    for variant in ("raw", "nobg"):
        steps += [train_step(variant, names[variant], dataset), evaluate_step(names[variant]),
                  attention_step(names[variant])]
    steps.append(Step("ensemble raw + nobg", lambda s: run(names["ensemble"]).metrics,
                      lambda: build_ensemble_run(names["raw"], names["nobg"], names["ensemble"], settings), trained))
    collection_run = None
    if settings.pipeline.collection_split_run:
        collection = DatasetFolder(settings.paths.datasets / names["collection_dataset"])
        collection_run = names["collection_raw"]
        steps += [prepare_step(collection, "collection"),
                  train_step("raw", collection_run, collection), evaluate_step(collection_run)]
    steps += [index_step(names["raw"], collection_run), index_step(names["nobg"], None)]
    steps += [baseline_step(variant, names[f"{variant}_baseline"], dataset) for variant in ("raw", "nobg")]
    if settings.pipeline.collection_split_run:
        steps.append(baseline_step("raw", names["collection_baseline"], collection))
    if settings.model.architecture != THESIS:
        thesis = settings.with_overrides({"model": {"architecture": THESIS}})
        for variant in ("raw", "nobg"):
            steps += [train_step(variant, names[f"{variant}_thesis"], dataset, thesis),
                      evaluate_step(names[f"{variant}_thesis"], thesis)]
    # last, and behind the dashboard in `make run`: every model is ready first (a stopped run resumes from its caches)
    steps += [identity_step(names[variant]) for variant in ("raw", "nobg")]
    return steps


def before_dashboard(steps: list[Step]) -> list[Step]:
    """The steps the dashboard needs before it opens (`make run` runs the others behind it)."""
    return [step for step in steps if not step.behind_dashboard]


def fingerprint(parameters: dict) -> str:
    return hashlib.sha256(json.dumps(parameters, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_stamps(settings: Settings) -> dict:
    path = settings.paths.root / STAMP_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _run_step(step: Step, changed: bool) -> tuple[int, str]:
    """(exit code, error message) of one step; the stages' own user-facing errors become a message."""
    from core.images import ImageError
    from model.assets import AssetError

    try:
        outcome = (step.command_after_change if changed and step.command_after_change else step.command)()
    except (ContractError, AssetError, ImageError, OSError, ValueError) as exc:  # TrainError, AnalyticsError: ValueError
        return 1, str(exc)
    code = outcome if isinstance(outcome, int) and not isinstance(outcome, bool) else 0
    return code, ""


def run_plan(steps: list[Step], settings: Settings, log: Callable[[str], object] = log.info) -> int:
    stamps = load_stamps(settings)
    started = time.perf_counter()
    for number, step in enumerate(steps, start=1):
        artifact = step.artifact(settings)
        key = str(artifact)  # step names repeat across datasets; artifacts do not
        stamp = fingerprint(step.parameters)
        prefix = f"[demo {number}/{len(steps)}] {step.name}"
        if artifact.exists() and stamps.get(key) == stamp:
            log(f"{prefix}: up to date")
            continue
        log(f"{prefix} ...")
        step_start = time.perf_counter()
        changed = key in stamps and stamps[key] != stamp  # done before, with other parameters
        code, message = _run_step(step, changed)
        if code != 0:
            log(f"{prefix} failed{f': {message}' if message else f' (exit {code})'}; "
                "fix the error above and rerun: finished steps are kept")
            return code
        stamps[key] = stamp
        write_json_atomic(settings.paths.root / STAMP_FILE, stamps)
        log(f"{prefix}: done in {time.perf_counter() - step_start:.1f} s")
    log(f"demo ready in {time.perf_counter() - started:.1f} s; runs in {settings.paths.runs}")
    return 0
