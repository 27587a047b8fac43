"""Build the demo atelier end to end: assets, photos, datasets, both models, evaluations, analytics.

    python -m pipeline demo [--profile demo|thesis] [--background-informativeness P] [--dataset NAME]

Each step calls the stage's own command line (the same code a user runs by hand) and is skipped
when its artifact exists and was made with the same parameters, so a second `make run` only
checks a few files and starts the dashboard. A killed build resumes: every stage resumes by itself.
This module imports no TensorFlow until a step actually has work to do.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.config import PIPELINE_PROFILES, PipelineProfile, Settings, get_settings
from core.fileio import write_json_atomic

STAMP_FILE = ".pipeline-stamps.json"


@dataclass(frozen=True)
class Step:
    name: str
    artifact: Callable[[Settings], Path]  # the file whose presence means the step is done
    command: Callable[[], int]  # runs the step; returns an exit code
    parameters: dict  # what the artifact depends on; a change reruns the step
    # what to run instead when the step was completed before with other parameters (None: `command`)
    command_after_change: Callable[[], int] | None = None


def _data_cli(argv: list[str]) -> int:
    from data.__main__ import main

    return main(argv)


def _model_cli(argv: list[str]) -> int:
    from model.__main__ import main

    return main(argv)


def _analysis_cli(argv: list[str]) -> int:
    from analysis.__main__ import main

    return main(argv)


def _assets_cli(argv: list[str]) -> int:
    from model.assets import main

    return main(argv)


def run_names(profile: PipelineProfile) -> dict[str, str]:
    base = profile.dataset
    return {
        "raw": f"{base}-raw",
        "nobg": f"{base}-nobg",
        "ensemble": f"{base}-ensemble",
        "collection_dataset": f"{base}-collection",
        "collection_raw": f"{base}-collection-raw",
    }


def plan(profile: PipelineProfile, settings: Settings) -> list[Step]:
    """The ordered steps for a profile."""
    paths = settings.paths
    names = run_names(profile)
    # the default dataset's photos live in <workspace>/demo; another dataset name gets its own folder
    demo_dir = paths.demo if profile.dataset == "demo" else paths.root / profile.dataset
    houses = str(profile.houses)
    dataset_dir = paths.datasets / profile.dataset
    demo_args = [
        "demo", "--houses", houses, "--per-house", str(profile.per_house), "--size", f"{profile.photo_width}x{profile.photo_height}",
        "--background-informativeness", str(profile.background_informativeness),
        "--seasonal-drift", str(profile.seasonal_drift), "--seed", str(profile.seed), "--out", str(demo_dir),
        "--overwrite", "--workers", "2",
    ]
    train_args = ["--epochs", str(profile.epochs), "--batch-size", str(profile.batch_size),
                  "--image-size", str(profile.image_size), "--seed", str(profile.seed), "--quiet"]
    run_dir = paths.run_dir

    def train_step(variant: str, run: str, data: str, depends: dict) -> Step:
        argv = ["train", "--variant", variant, "--data", data, "--run", run, *train_args]
        return Step(
            f"train {run}", lambda s: run_dir(run) / "model.keras", lambda: _model_cli(argv),
            {**depends, "train": train_args},
            # `train` refuses to resume a run made with other settings: a changed profile starts it over
            command_after_change=lambda: _model_cli([*argv, "--restart"]),
        )

    def evaluate_step(run: str, depends: dict) -> Step:
        return Step(f"evaluate {run}", lambda s: run_dir(run) / "metrics.json",
                    lambda: _model_cli(["evaluate", "--run", run, "--quiet"]), depends)

    def analysis_step(run: str, depends: dict) -> Step:
        return Step(f"attention analytics {run}", lambda s: run_dir(run) / "attention" / "per_image.csv",
                    lambda: _analysis_cli(["attention", *analysis_args(run)]), {**depends, "analysis": analysis_args(run)})

    def analysis_args(run: str) -> list[str]:
        limit = ["--max-images", str(profile.analysis_max_images)] if profile.analysis_max_images else []
        return ["--run", run, "--quiet", *limit]

    generated = {"demo": demo_args}
    prepared = {**generated, "prepare": profile.seed}
    steps = [
        Step("model assets", lambda s: s.paths.vgg16_weights, lambda: _assets_cli([]), {}),
        Step("generate demo photos", lambda s: demo_dir / "runway.csv", lambda: _data_cli(demo_args), generated),
        Step(
            "prepare dataset (random split)", lambda s: dataset_dir / "manifest.csv",
            lambda: _data_cli(["prepare", "--csv", str(demo_dir / "runway.csv"), "--images", str(demo_dir),
                               "--name", profile.dataset, "--top", houses, "--seed", str(profile.seed), "--no-progress"]),
            prepared,
        ),
        Step("remove backgrounds (rembg u2netp)", lambda s: dataset_dir / "nobg" / "manifest.csv",
             lambda: _data_cli(["remove-background", "--dataset", str(dataset_dir)]), prepared),
    ]
    trained = {**prepared, "train": train_args}
    for variant in ("raw", "nobg"):
        run = names[variant]
        steps += [train_step(variant, run, str(dataset_dir), prepared),
                  evaluate_step(run, trained),
                  analysis_step(run, trained)]
    steps.append(Step(
        "ensemble raw + nobg", lambda s: run_dir(names["ensemble"]) / "metrics.json",
        lambda: _model_cli(["ensemble", "--raw", names["raw"], "--nobg", names["nobg"], "--name", names["ensemble"],
                            "--learn-weight"]),
        trained,
    ))
    index_args = ["index", "--run", names["raw"]]
    if profile.collection_split_run:
        collection_dir = paths.datasets / names["collection_dataset"]
        steps += [
            Step(
                "prepare dataset (by-collection split)", lambda s: collection_dir / "manifest.csv",
                lambda: _data_cli(["prepare", "--csv", str(demo_dir / "runway.csv"), "--images",
                                   str(demo_dir), "--name", names["collection_dataset"], "--top", houses,
                                   "--split", "collection", "--seed", str(profile.seed), "--no-progress"]),
                prepared,
            ),
            train_step("raw", names["collection_raw"], str(collection_dir), prepared),
            evaluate_step(names["collection_raw"], trained),
        ]
        index_args += ["--collection-run", names["collection_raw"]]
    for run in (names["raw"], names["nobg"]):
        args = index_args if run == names["raw"] else ["index", "--run", run]
        steps.append(Step(f"distinctiveness index {run}", lambda s, run=run: run_dir(run) / "brand_analytics.json",
                          lambda args=args: _analysis_cli(args), {**trained, "index": args}))
    return steps


def fingerprint(parameters: dict) -> str:
    return hashlib.sha256(json.dumps(parameters, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_stamps(settings: Settings) -> dict:
    path = settings.paths.root / STAMP_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def run_plan(steps: list[Step], settings: Settings, log=print) -> int:
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
        code = (step.command_after_change if changed and step.command_after_change else step.command)()
        if code != 0:
            log(f"{prefix} failed (exit {code}); fix the error above and rerun: finished steps are kept")
            return code
        stamps[key] = stamp
        write_json_atomic(settings.paths.root / STAMP_FILE, stamps)
        log(f"{prefix}: done in {time.perf_counter() - step_start:.1f} s")
    log(f"demo ready in {time.perf_counter() - started:.1f} s; runs in {settings.paths.runs}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="build the demo atelier end to end")
    demo.add_argument("--profile", choices=sorted(PIPELINE_PROFILES), default="demo")
    demo.add_argument("--background-informativeness", type=float, metavar="P",
                      help="override the profile's venue/house association (0..1)")
    demo.add_argument("--dataset", help="override the dataset (and run) name prefix")
    args = parser.parse_args(argv)
    profile = PIPELINE_PROFILES[args.profile]
    if args.background_informativeness is not None:
        if not 0.0 <= args.background_informativeness <= 1.0:
            parser.error("--background-informativeness must be between 0 and 1")
        profile = dataclasses.replace(profile, background_informativeness=args.background_informativeness)
    if args.dataset:
        profile = dataclasses.replace(profile, dataset=args.dataset)
    settings = get_settings()
    settings.paths.root.mkdir(parents=True, exist_ok=True)
    try:
        return run_plan(plan(profile, settings), settings)
    except KeyboardInterrupt:
        print("interrupted: rerun `make demo` to resume", file=sys.stderr)
        return 130
