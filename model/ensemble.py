"""Ensemble of the raw and background-removed models (thesis 4.2: "combining predictions from both models").

    p = w · p_raw + (1 − w) · p_nobg        predicted brand = argmax p

The two runs are joined look by look on the original photo: its sha256 where both runs know it,
else its `image_path` relative to the images root, else the raw photo's path (the nobg run's
`original_path`). `w` is 0.5, or, with `learn_weight`, the value of a grid over [0, 1] that minimises
the log loss of the combined probabilities on the validation split (ties: closest to 0.5).

The result is a run folder like any other (core.contract): config.json, predictions.csv,
metrics.json, confusion.csv, and embeddings.npy = [√w · e_raw, √(1 − w) · e_nobg] of the members'
L2-normalised embeddings, whose cosine similarity is the w-weighted average of the members' cosine
similarities, so the index, similar looks and drift work on an ensemble too. The members are read,
and the ensemble written, through the artifact contract (core.contract, core.rundata); every problem
is a `ContractError` whose message says what to do (`AnalyticsError` for the ensemble's own checks, and
for everything `python -m model ensemble` reports).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, log_loss

from core.config import Settings
from core.contract import (
    AnalyticsError,
    ContractError,
    RunConfig,
    RunFolder,
    probability_columns,
    read_json_object,
    read_table,
    reraise_as,
)
from core.fileio import atomic_path, sha256_file, write_dataframe_atomic, write_json_atomic
from core.logs import progress_bar
from core.rundata import (
    RunData,
    json_ready,
    l2_normalise,
    load_run,
    probability_matrix,
    with_dataset_context,
    write_analytics_section,
)

VARIANT = "ensemble"
JOIN_KEYS = ("sha256", "image_path", "original_path")
CONTEXT = ("collection", "season", "year", "sha256", "image_path")
log = logging.getLogger(__name__)

# (raw run, nobg run) -> validation frames with `brand` and `prob_<brand>` columns, one row per val look.
ValidationSource = Callable[[RunData, RunData], tuple[pd.DataFrame, pd.DataFrame]]


@dataclass(frozen=True)
class EnsembleRun:
    """An ensemble run folder just written, and `build_ensemble`'s result it holds."""

    name: str
    folder: RunFolder
    result: dict


def _key_values(run: RunData, key: str) -> pd.Series | None:
    frame = run.predictions
    if key == "original_path":
        column = "original_path" if "original_path" in frame.columns and frame["original_path"].notna().all() else "path"
        return frame[column].astype(str)
    if key in frame.columns and frame[key].notna().all() and (frame[key].astype(str) != "").all():
        return frame[key].astype(str)
    return None


def join_key(raw: RunData, nobg: RunData) -> tuple[str, pd.Series, pd.Series]:
    """The first key both runs know for every look, and its values in each run."""
    for key in JOIN_KEYS:
        raw_keys, nobg_keys = _key_values(raw, key), _key_values(nobg, key)
        if raw_keys is not None and nobg_keys is not None and raw_keys.isin(set(nobg_keys)).any():
            for run, keys in ((raw, raw_keys), (nobg, nobg_keys)):
                if keys.duplicated().any():
                    raise AnalyticsError(f"run {run.name!r}: {key} {keys[keys.duplicated()].iloc[0]!r} appears twice")
            return key, raw_keys, nobg_keys
    raise AnalyticsError(
        f"runs {raw.name!r} and {nobg.name!r} share no test photo (joined on sha256, image_path, original path): "
        "were they evaluated on the same dataset's test split?"
    )


def aligned_rows(raw: RunData, nobg: RunData) -> tuple[str, np.ndarray, np.ndarray]:
    """Row numbers into each run's predictions for the looks both runs predicted, in the raw run's order."""
    if sorted(raw.class_names) != sorted(nobg.class_names):
        raise AnalyticsError(
            f"runs {raw.name!r} and {nobg.name!r} know different brands: "
            f"{', '.join(raw.class_names)} vs {', '.join(nobg.class_names)}"
        )
    key, raw_keys, nobg_keys = join_key(raw, nobg)
    position = pd.Series(np.arange(len(nobg_keys)), index=nobg_keys.to_numpy())
    raw_rows = np.flatnonzero(raw_keys.isin(position.index).to_numpy())
    nobg_rows = position.loc[raw_keys.iloc[raw_rows].to_numpy()].to_numpy()
    raw_brands = raw.predictions["brand"].to_numpy()[raw_rows]
    nobg_brands = nobg.predictions["brand"].to_numpy()[nobg_rows]
    if (raw_brands != nobg_brands).any():
        first = int(np.flatnonzero(raw_brands != nobg_brands)[0])
        raise AnalyticsError(
            f"the runs disagree on the true brand of {raw_keys.iloc[raw_rows[first]]}: "
            f"{raw_brands[first]!r} vs {nobg_brands[first]!r}"
        )
    return key, raw_rows, nobg_rows


def reorder_probabilities(probabilities: np.ndarray, names: list[str], order: list[str]) -> np.ndarray:
    return probabilities[:, [names.index(brand) for brand in order]]


def combine(p_raw: np.ndarray, p_nobg: np.ndarray, weight: float) -> np.ndarray:
    return weight * p_raw + (1.0 - weight) * p_nobg


def weight_grid(step: float) -> np.ndarray:
    if not 0 < step <= 1:
        raise AnalyticsError(f"the weight grid step must be in (0, 1] (got {step})")
    return np.round(np.linspace(0.0, 1.0, int(round(1.0 / step)) + 1), 10)


def learn_weight(p_raw: np.ndarray, p_nobg: np.ndarray, y_true: np.ndarray, step: float) -> tuple[float, pd.DataFrame]:
    """The grid weight with the lowest validation log loss (ties: closest to 0.5), and the whole grid."""
    labels = np.arange(p_raw.shape[1])
    rows = []
    for w in weight_grid(step):
        p = np.clip(combine(p_raw, p_nobg, w), 1e-12, 1.0)
        rows.append(
            {
                "weight_raw": float(w),
                "log_loss": float(log_loss(y_true, p / p.sum(axis=1, keepdims=True), labels=labels)),
                "accuracy": float(accuracy_score(y_true, p.argmax(axis=1))),
            }
        )
    grid = pd.DataFrame(rows)
    # Rounded so that float noise (w·p + (1 − w)·p ≠ p in the last bit) does not break a true tie.
    ranked = grid.assign(loss=grid["log_loss"].round(10), tie=(grid["weight_raw"] - 0.5).abs())
    best = ranked.sort_values(["loss", "tie"]).iloc[0]
    return float(best["weight_raw"]), grid


def probability_metrics(
    y_true: np.ndarray, probabilities: np.ndarray, class_names: list[str], manifest: str | None
) -> tuple[dict, pd.DataFrame]:
    """metrics.json and confusion.csv exactly as `python -m model evaluate` writes them (its own code)."""
    from model.evaluation import classification_metrics, confusion_frame  # imports TensorFlow: only here

    metrics = {
        "split": "test",
        "n_images": int(len(y_true)),
        "class_names": list(class_names),
        **classification_metrics(y_true, probabilities, class_names),
        "manifest": manifest,
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return metrics, confusion_frame(y_true, probabilities.argmax(axis=1), class_names)


def _member_scores(y_true: np.ndarray, probabilities: np.ndarray) -> dict:
    y_pred = probabilities.argmax(axis=1)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", labels=np.arange(probabilities.shape[1]), zero_division=0)),
    }


def _ensemble_embeddings(raw: RunData, nobg: RunData, raw_rows, nobg_rows, weight: float) -> np.ndarray | None:
    if raw.embeddings is None or nobg.embeddings is None:
        return None
    return np.hstack(
        [np.sqrt(weight) * l2_normalise(raw.embeddings[raw_rows]), np.sqrt(1 - weight) * l2_normalise(nobg.embeddings[nobg_rows])]
    ).astype(np.float32)


def _prediction_frame(raw, nobg, raw_rows, nobg_rows, probabilities, class_names) -> pd.DataFrame:
    source = raw.predictions.iloc[raw_rows].reset_index(drop=True)
    frame = pd.DataFrame({"path": source["path"], "nobg_path": nobg.predictions["path"].iloc[nobg_rows].to_numpy()})
    frame["brand"] = source["brand"]
    frame["predicted"] = [class_names[i] for i in probabilities.argmax(axis=1)]
    frame["correct"] = frame["brand"] == frame["predicted"]
    for c, column in enumerate(probability_columns(class_names)):
        frame[column] = probabilities[:, c]
    for column in CONTEXT:
        if column in source.columns:
            frame[column] = source[column].to_numpy()
    return frame


def predict_split(run: RunData, split: str, settings: Settings) -> pd.DataFrame:
    """Probabilities of a member's model on one split of its own manifest (loads TensorFlow)."""
    from core.images import ImageError, load_rgb
    from model.data import DataError, read_manifest, split_rows
    from model.predict import load_analyser

    manifest = _manifest(run)
    if manifest is None:
        raise AnalyticsError(f"run {run.name!r}: {run.folder.config} names no existing dataset manifest")
    if not run.folder.is_trained():
        raise AnalyticsError(f"run {run.name!r} has no {run.folder.model.name} to predict its {split} split with")
    try:
        rows = split_rows(read_manifest(manifest), split)
    except DataError as exc:
        raise AnalyticsError(str(exc)) from None
    if rows.empty:
        raise AnalyticsError(f"{manifest} has no {split!r} rows: --learn-weight needs a validation split")
    analyser = load_analyser(run.directory, settings)
    batch_size = settings.model.eval_batch_size
    probabilities = []
    for start in progress_bar(range(0, len(rows), batch_size), logger=log, desc=f"{run.name}: {split} predictions",
                              unit="batch"):
        try:
            images = [load_rgb(path) for path in rows["path"].iloc[start : start + batch_size]]
        except ImageError as exc:
            raise AnalyticsError(f"cannot read a {split} photo: {exc}") from None
        probabilities += [[a.probabilities[name] for name in run.class_names] for a in analyser.analyse_batch(images)]
    frame = rows.copy()
    for column, values in zip(probability_columns(run.class_names), np.asarray(probabilities).T, strict=True):
        frame[column] = values
    return frame


def _manifest(run: RunData) -> Path | None:
    """The dataset manifest the member's config.json names, if it exists."""
    manifest = run.config.manifest if run.config is not None else None
    return Path(manifest) if manifest and Path(manifest).is_file() else None


def _read_validation(path: Path) -> pd.DataFrame:
    return read_table(path, ("path", "brand"), "validation predictions")


def _stamp_of(path: Path) -> dict:
    """A cache stamp, or {} (recompute) when it is missing or damaged."""
    try:
        return read_json_object(path) if path.is_file() else {}
    except ContractError:
        return {}


def member_validation(run: RunData, cache_dir: Path, settings: Settings) -> pd.DataFrame:
    """The member's validation predictions: its own `val_predictions.csv` if it has one, else predicted
    once with its model and cached in `cache_dir` (keyed by the model's and manifest's sha256)."""
    folder = run.folder
    if folder.val_predictions.is_file():
        return _read_validation(folder.val_predictions)
    manifest = _manifest(run)
    if manifest is None or not folder.is_trained():
        raise AnalyticsError(
            f"run {run.name!r} has neither {folder.val_predictions.name} nor a {folder.model.name} and dataset "
            "manifest: --learn-weight cannot get its validation probabilities"
        )
    stamp = {"model_sha256": sha256_file(folder.model), "manifest_sha256": sha256_file(manifest)}
    cached, stamp_path = cache_dir / f"{run.name}.csv", cache_dir / f"{run.name}.json"
    if cached.is_file() and _stamp_of(stamp_path) == stamp:
        return _read_validation(cached)
    frame = predict_split(run, "val", settings)
    write_dataframe_atomic(cached, frame)
    write_json_atomic(stamp_path, stamp)  # last: the csv counts only once its stamp names it
    return frame


def validation_source(cache_dir: Path, settings: Settings) -> ValidationSource:
    return lambda raw, nobg: (member_validation(raw, cache_dir, settings), member_validation(nobg, cache_dir, settings))


def _validation_member(run: RunData, frame: pd.DataFrame) -> RunData:
    frame = with_dataset_context(frame.astype({"brand": str}), run.config)
    where = f"run {run.name!r} (validation predictions)"
    return RunData(
        name=run.name,
        directory=run.directory,
        class_names=run.class_names,
        predictions=frame,
        probabilities=probability_matrix(frame, run.class_names, where),
    )


def _validation_arrays(raw: RunData, nobg: RunData, source: ValidationSource):
    """Aligned validation probabilities of both members (nobg reordered to the raw class order) and labels."""
    val_raw, val_nobg = (_validation_member(run, frame) for run, frame in zip((raw, nobg), source(raw, nobg), strict=True))
    _, raw_rows, nobg_rows = aligned_rows(val_raw, val_nobg)
    if len(raw_rows) == 0:
        raise AnalyticsError("the members' validation predictions share no photo")
    p_raw = val_raw.probabilities[raw_rows]
    p_nobg = reorder_probabilities(val_nobg.probabilities, nobg.class_names, raw.class_names)[nobg_rows]
    return p_raw, p_nobg, val_raw.true_indices()[raw_rows]


def build_ensemble(
    raw: RunData,
    nobg: RunData,
    settings: Settings,
    learn: bool = False,
    validation: ValidationSource | None = None,
) -> dict:
    """Combine two runs; returns everything the ensemble run folder holds (nothing written yet)."""
    if raw.probabilities is None or nobg.probabilities is None:
        raise AnalyticsError("both runs need prob_<brand> columns in predictions.csv")
    key, raw_rows, nobg_rows = aligned_rows(raw, nobg)
    class_names = list(raw.class_names)
    p_raw = raw.probabilities[raw_rows]
    p_nobg = reorder_probabilities(nobg.probabilities, nobg.class_names, class_names)[nobg_rows]
    y_true = raw.true_indices()[raw_rows]

    weight, grid = 0.5, None
    if learn:
        if validation is None:
            raise AnalyticsError("learning the weight needs a source of validation predictions")
        weight, grid = learn_weight(*_validation_arrays(raw, nobg, validation), settings.analytics.ensemble_weight_step)
    probabilities = combine(p_raw, p_nobg, weight)
    comparison = {
        "looks": int(len(raw_rows)),
        "raw": _member_scores(y_true, p_raw),
        "nobg": _member_scores(y_true, p_nobg),
        "ensemble": _member_scores(y_true, probabilities),
    }
    comparison["beats_both"] = bool(
        comparison["ensemble"]["accuracy"] > max(comparison["raw"]["accuracy"], comparison["nobg"]["accuracy"])
    )
    manifest = raw.config.manifest if raw.config is not None else None
    metrics, confusion = probability_metrics(y_true, probabilities, class_names, manifest)
    config = {  # config.json's content (RunConfig's fields and details), written by write_ensemble_run
        "variant": VARIANT,
        "class_names": class_names,
        "members": {"raw": str(raw.directory), "nobg": str(nobg.directory)},
        "member_variants": {"raw": raw.config.variant if raw.config else None,
                            "nobg": nobg.config.variant if nobg.config else None},
        "manifest": manifest,
        "combination": "p = w·p_raw + (1 − w)·p_nobg",
        "weight_raw": weight,
        "weight_learned": bool(learn),
        "weight_grid_step": settings.analytics.ensemble_weight_step if learn else None,
        "weight_learned_on": "validation split, lowest log loss" if learn else None,
        "join_key": key,
        "matched_looks": int(len(raw_rows)),
        "unmatched_looks": {"raw": int(len(raw.predictions) - len(raw_rows)), "nobg": int(len(nobg.predictions) - len(nobg_rows))},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return {
        "config": config,
        "predictions": _prediction_frame(raw, nobg, raw_rows, nobg_rows, probabilities, class_names),
        "metrics": {**metrics, "ensemble": comparison},
        "confusion": confusion,
        "embeddings": _ensemble_embeddings(raw, nobg, raw_rows, nobg_rows, weight),
        "comparison": comparison,
        "weight_grid": grid,
    }


def check_target(run_dir: Path) -> Path:
    """An ensemble may replace an earlier ensemble of that name, never a trained run."""
    folder = RunFolder(Path(run_dir))
    if folder.config.is_file():
        with reraise_as(AnalyticsError):
            variant = folder.read_config().variant
        if variant != VARIANT:
            raise AnalyticsError(f"{run_dir} holds a {variant!r} run; choose another --name")
    return run_dir


def write_ensemble_run(run_dir: Path, result: dict) -> Path:
    """Write the ensemble's run folder (config.json last)."""
    check_target(run_dir)
    folder = RunFolder(Path(run_dir))
    folder.root.mkdir(parents=True, exist_ok=True)
    write_dataframe_atomic(folder.predictions, result["predictions"])
    write_dataframe_atomic(folder.confusion, result["confusion"])
    if result["embeddings"] is not None:
        with atomic_path(folder.embeddings) as tmp:
            np.save(tmp, result["embeddings"])
    elif folder.embeddings.exists():
        folder.embeddings.unlink()  # a stale file would no longer align with predictions.csv
    if result["weight_grid"] is not None:
        write_dataframe_atomic(folder.weight_grid, result["weight_grid"])
    write_json_atomic(folder.metrics, json_ready(result["metrics"]))
    # config.json last: a run folder with a config is a complete run to the dashboard.
    config = json_ready(result["config"])
    folder.write_config(RunConfig(
        run=folder.name, variant=config["variant"], class_names=config["class_names"], manifest=config["manifest"],
        details={k: v for k, v in config.items() if k not in RunConfig.TYPED},
    ))
    return run_dir


def default_ensemble_name(raw: str, nobg: str) -> str:
    """`demo-raw` + `demo-nobg` → `demo-ensemble`; otherwise `ensemble-<raw>-<nobg>`."""
    raw_stem, nobg_stem = raw.rsplit("-", 1)[0], nobg.rsplit("-", 1)[0]
    if "-" in raw and raw_stem == nobg_stem:
        return f"{raw_stem}-ensemble"
    return f"ensemble-{Path(raw).name}-{Path(nobg).name}"


def make_ensemble(raw: str, nobg: str, settings: Settings, *, name: str | None = None,
                  learn_weight: bool = False) -> EnsembleRun:
    """`python -m model ensemble`: build and write an ensemble run folder (AnalyticsError for every problem)."""
    with reraise_as(AnalyticsError):  # one error class for the command line, whichever reader refused
        return _make_ensemble(raw, nobg, settings, name, learn_weight)


def _make_ensemble(raw_run: str, nobg_run: str, settings: Settings, name: str | None, learn: bool) -> EnsembleRun:
    raw = load_run(raw_run, settings, need_probabilities=True)
    nobg = load_run(nobg_run, settings, need_probabilities=True)
    name = name or default_ensemble_name(raw.name, nobg.name)
    target = RunFolder(settings.paths.run_dir(name))
    if target.root.resolve() in (raw.directory, nobg.directory):
        raise AnalyticsError(f"--name {name!r} is one of the member runs; choose another name")
    check_target(target.root)
    validation = validation_source(target.validation_dir, settings) if learn else None
    result = build_ensemble(raw, nobg, settings, learn=learn, validation=validation)
    write_ensemble_run(target.root, result)
    comparison = result["comparison"]
    write_analytics_section(target, "ensemble", {**comparison, "weight_raw": result["config"]["weight_raw"]})
    return EnsembleRun(name, target, result)


def summary_lines(ensemble: EnsembleRun) -> list[str]:
    """What `python -m model ensemble` prints about the run it wrote: the weight, the scores, the folder."""
    config, comparison = ensemble.result["config"], ensemble.result["comparison"]
    scores = pd.DataFrame({k: comparison[k] for k in ("raw", "nobg", "ensemble")}).T
    return [
        f"ensemble {ensemble.name}: w = {config['weight_raw']:.2f} "
        f"({'learned on validation' if config['weight_learned'] else 'fixed'}), {comparison['looks']} test looks "
        f"joined on {config['join_key']}",
        scores.round(4).to_string(),
        f"beats both single models: {'yes' if comparison['beats_both'] else 'no'}",
        f"wrote {ensemble.folder.root}",
    ]
