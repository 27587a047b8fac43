"""Several seeds of several architectures on the same splits: accuracies with their uncertainty.

    python -m model compare --data demo [--data demo-collection] --seeds 3 [--architectures attention-gap,thesis,baseline]

Each (dataset, variant, architecture, seed) is trained and evaluated by the same code a user runs
(`model.training`, `model.evaluation`, `model.baseline`), into its own run folder under
`comparisons/<name>/runs/`; the model files are dropped once evaluated (the table keeps what it
needs), and a rerun skips what is done. The table gives, per architecture and split, the mean test
accuracy over seeds with a 95% Student-t interval (the spread training randomness gives), each
seed's accuracy, and the attention maps' median peak and normalised entropy.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from core.config import Settings, get_settings
from core.contract import DataError, RunFolder, comparison_files
from core.fileio import write_dataframe_atomic, write_json_atomic
from model.baseline import ARCHITECTURE as BASELINE_ARCHITECTURE
from model.data import dataset_name, ordered_class_names, read_manifest, resolve_manifest, split_rows

log = logging.getLogger(__name__)
CONFIDENCE = 0.95


def check_comparable(manifest: Path, settings: Settings) -> None:
    """Every brand needs test photos, or its accuracy (and the mean) says nothing about it."""
    frame = read_manifest(manifest)
    classes = ordered_class_names(frame["brand"], settings.data.brands)
    missing = sorted(set(classes) - set(split_rows(frame, "test")["brand"]))
    if len(classes) < 2:
        raise DataError(f"{manifest}: a comparison needs at least two brands (found {classes})")
    if missing:
        raise DataError(f"{manifest}: the split leaves {', '.join(missing)} without test photos; "
                        "prepare it with --split random, or add photos or shows")


def seed_values(settings: Settings, seeds: int) -> list[int]:
    return [settings.model.seed + i for i in range(seeds)]


def normalised_entropy(entropy: pd.Series, cells: int) -> float:
    return float(np.median(entropy.astype(float)) / np.log(cells)) if cells > 1 else float("nan")


def run_one(data: str, variant: str, architecture: str, seed: int, runs_dir: Path, settings: Settings,
            weights: str = "imagenet") -> dict:
    """Train (or reuse) and evaluate one seed; the row of the comparison table."""
    from model.baseline import train_baseline
    from model.evaluation import evaluate
    from model.training import TrainRequest, train

    name = f"{dataset_name(resolve_manifest(data, variant, settings))}-{variant}-{architecture}-s{seed}"
    folder = RunFolder(runs_dir / name)
    seeded = settings.replace(model=dataclasses.replace(settings.model, seed=seed, architecture=architecture))
    if not folder.is_evaluated():
        if architecture == BASELINE_ARCHITECTURE:
            train_baseline(data, variant, run=name, settings=seeded, runs_dir=runs_dir, weights=weights)
        else:
            train(TrainRequest(variant=variant, data=data, run=name, runs_dir=runs_dir, weights=weights), seeded)
            evaluate(folder, seeded)
            # The table needs predictions and metrics; the 60 MB model and its checkpoints can go.
            folder.model.unlink(missing_ok=True)
            shutil.rmtree(folder.checkpoints, ignore_errors=True)
    metrics = folder.read_metrics()
    predictions = folder.read_predictions()
    row = {"dataset": folder.read_config().dataset_name, "variant": variant, "architecture": architecture,
           "seed": seed, "accuracy": metrics["accuracy"], "top2_accuracy": metrics["top2_accuracy"],
           "test_photos": metrics["n_images"], "run": name}
    if "attention_max" in predictions.columns:
        grid = int(folder.read_config().get("attention_grid") or 0)
        row["median_attention_max"] = float(np.median(predictions["attention_max"].astype(float)))
        row["median_attention_entropy"] = normalised_entropy(predictions["attention_entropy"], grid * grid)
    return row


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, variant and architecture: mean accuracy over seeds and its 95% t-interval."""
    def one(group: pd.DataFrame) -> pd.Series:
        values = group["accuracy"].to_numpy(dtype=float)
        mean = float(values.mean())
        if len(values) > 1 and values.std(ddof=1) > 0:
            low, high = stats.t.interval(CONFIDENCE, len(values) - 1, loc=mean, scale=stats.sem(values))
        else:  # one seed, or identical seeds: no spread to estimate
            low, high = mean, mean
        return pd.Series({
            "mean_accuracy": mean, "ci_low": max(0.0, float(low)), "ci_high": min(1.0, float(high)),
            "seeds": len(values), "accuracies": [round(v, 4) for v in values],
            "median_attention_max": group.get("median_attention_max", pd.Series(dtype=float)).median(),
            "median_attention_entropy": group.get("median_attention_entropy", pd.Series(dtype=float)).median(),
        })

    return rows.groupby(["dataset", "variant", "architecture"], sort=False).apply(one, include_groups=False).reset_index()


def compare(datasets: list[str], architectures: list[str], seeds: int, settings: Settings | None = None,
            variants: tuple[str, ...] = ("raw", "nobg"), name: str | None = None, weights: str = "imagenet") -> pd.DataFrame:
    """Train, evaluate and tabulate; writes comparisons/<name>.json and .csv and returns the summary."""
    from model.network import ARCHITECTURES

    settings = settings or get_settings()
    unknown = sorted(set(architectures) - set(ARCHITECTURES) - {BASELINE_ARCHITECTURE})
    if unknown:
        raise DataError(f"unknown architecture(s) {', '.join(unknown)}; expected {', '.join(ARCHITECTURES)} "
                        f"or {BASELINE_ARCHITECTURE}")
    if seeds < 1:
        raise DataError(f"--seeds must be at least 1, got {seeds}")
    plan = []
    for data in datasets:
        for variant in variants:
            try:
                manifest = resolve_manifest(data, variant, settings)
            except DataError as exc:
                if variant == "raw":
                    raise
                log.warning("skipping %s %s: %s", data, variant, exc)
                continue
            check_comparable(manifest, settings)
            plan += [(data, variant, architecture) for architecture in architectures]
    files = comparison_files(settings, name or "-".join(dataset_name(resolve_manifest(d, "raw", settings))
                                                         for d in datasets))
    rows = []
    for number, (data, variant, architecture) in enumerate(plan, start=1):
        for seed in seed_values(settings, seeds):
            log.info("[compare %d/%d] %s %s %s seed %d", number, len(plan), data, variant, architecture, seed)
            rows.append(run_one(data, variant, architecture, seed, files.runs_dir, settings, weights))
            write_dataframe_atomic(files.seeds_csv, pd.DataFrame(rows))  # partial results survive a kill
    table = summarise(pd.DataFrame(rows))
    write_json_atomic(files.summary_json, {"confidence": CONFIDENCE, "seeds": seed_values(settings, seeds),
                                           "image_size": settings.model.image_size, "epochs": settings.model.epochs,
                                           "rows": table.to_dict(orient="records")})
    return table
