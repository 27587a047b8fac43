"""`python -m analysis attention --run <run>`: attention analytics of an evaluated run (docs/ATTENTION.md).

    python -m analysis attention --run demo-raw                    # everything
    python -m analysis attention --run demo-raw --skip-gradcam     # no Grad-CAM, no randomisation check
    python -m analysis attention --run demo-raw --skip-reliance    # no background-reliance evaluation
    python -m analysis attention --run demo-raw --max-images 200   # model passes on a stratified sample

Reads the run folder (predictions.csv, attention/maps.npy, model.keras, config.json) and the masks
the predictions name, and writes:

- `metrics.json`: the `attention` and `background_reliance` sections, merged into the file
  (every other key is kept; a skipped part keeps its earlier entry);
- `attention/per_image.csv`: one row per row of predictions.csv;
- `attention/gradcam.npz` (Grad-CAM maps by photo) and `attention/reliance.csv` (predictions
  under each background treatment): the model passes' results, which a killed or repeated run reuses.

The mask metrics always cover every test image (they are cheap, streamed); `--max-images` limits
the model passes (Grad-CAM, sanity check, background reliance) to a brand-stratified sample.
The command line itself (options, printed summary) is `analysis.attention.cli`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.attention import GRADCAM_COLUMNS, METRICS, PER_IMAGE_COLUMNS, ZONE_COLUMNS, ZONES, AttentionError
from analysis.attention.sections import attention_section, mask_source, reliance_section, sanity_section
from analysis.attention.streaming import stream_metrics
from core.config import Settings, get_settings
from core.contract import DataError, RunConfig, RunFolder, read_manifest_table, resolve_run
from core.fileio import atomic_path, write_dataframe_atomic, write_json_atomic
from core.logs import progress_bar
from core.tables import read_csv

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisOptions:
    run: str
    gradcam: bool = True
    reliance: bool = True
    max_images: int | None = None


# --------------------------------------------------------------------------- inputs


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name].fillna("").astype(str).str.strip() if name in frame.columns else pd.Series("", index=frame.index)


def _nobg_manifest(config: RunConfig) -> pd.DataFrame | None:
    """The dataset's background-removed manifest (for rembg's masks), if the data stage wrote one."""
    dataset = config.dataset  # a nobg run's manifest belongs to the same dataset
    if dataset is None or not dataset.nobg_manifest.is_file():
        return None
    try:
        return read_manifest_table(dataset.nobg_manifest, required=())
    except DataError:
        return None


def mask_table(predictions: pd.DataFrame, config: RunConfig) -> pd.DataFrame:
    """Per prediction row: `figure_mask`, `zones_mask`, `mask_source` (generator/rembg/"") and `venue_path`.

    The figure mask is the manifest's ground truth where it has one (the demo's exact masks), else
    rembg's mask, found in the row itself (`rembg_mask_path`, nobg runs) or in the dataset's
    nobg/manifest.csv by the photo's path (raw runs). `venue_path` is the photo with its
    background (a nobg run's `original_path`), the one a swapped venue is cut from.
    """
    figure, zones = _column(predictions, "figure_mask_path"), _column(predictions, "zones_mask_path")
    rembg, original = _column(predictions, "rembg_mask_path"), _column(predictions, "original_path")
    nobg = _nobg_manifest(config)
    if nobg is not None and {"original_path", "rembg_mask_path"} <= set(nobg.columns):
        by_photo = {**dict(zip(nobg["original_path"], nobg["rembg_mask_path"], strict=True)),
                    **dict(zip(nobg["path"], nobg["rembg_mask_path"], strict=True))}
        looked_up = predictions["path"].map(by_photo).fillna("").astype(str)
        rembg = rembg.where(rembg != "", looked_up)
    chosen = figure.where(figure != "", rembg)
    source = np.where(chosen == "", "", np.where((chosen == rembg) | (figure == ""), "rembg", "generator"))
    return pd.DataFrame({
        "figure_mask": chosen.to_numpy(),
        "zones_mask": zones.where(source == "generator", "").to_numpy(),  # exact zones go with exact figures only
        "mask_source": source,
        "venue_path": original.where(original != "", predictions["path"].astype(str)).to_numpy(),
    }, index=predictions.index)


def stratified_sample(brands: pd.Series, max_images: int | None, seed: int) -> np.ndarray:
    """Row indices for the model passes: all rows, or `max_images` interleaved across brands (seeded)."""
    n = len(brands)
    if max_images is None or max_images >= n:
        return np.arange(n)
    order = np.random.default_rng(seed).permutation(n)
    shuffled = pd.DataFrame({"row": order, "brand": brands.to_numpy()[order]})
    shuffled["rank"] = shuffled.groupby("brand").cumcount()  # the k-th photo of each brand comes k-th
    return np.sort(shuffled.sort_values(["rank", "brand"], kind="stable")["row"].to_numpy()[:max_images])


def model_stamp(run: RunFolder) -> str:
    stat = run.model.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


# --------------------------------------------------------------------------- Grad-CAM


def _read_gradcam_cache(path: Path, stamp: str, layer: str) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as cache:
            if str(cache["stamp"]) != stamp or str(cache["layer"]) != layer:
                return {}  # another model or layer: recompute everything
            return {str(p): m for p, m in zip(cache["paths"], cache["maps"], strict=True)}
    except (OSError, ValueError, KeyError):
        return {}


def _write_gradcam_cache(path: Path, maps: dict[str, np.ndarray], stamp: str, layer: str) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        # float32, as computed: a resumed run must score agreement on exactly the maps the first run used
        np.savez(fh, paths=np.array(list(maps), dtype=str), maps=np.stack(list(maps.values())).astype(np.float32),
                 stamp=np.array(stamp), layer=np.array(layer))


@dataclass(frozen=True)
class CamSpec:
    """What a Grad-CAM worker loads once: the run's model, through the workspace's settings, and the layer."""

    run_root: str
    workspace: str
    layer: str
    threads: int


def gradcam_worker(spec: CamSpec):
    """(analyser, Grad-CAM of its layer): built once per worker (the engine's `make_worker`)."""
    from analysis.attention.gradcam import GradCam
    from core.engine import limit_tensorflow_threads
    from model.predict import load_analyser

    limit_tensorflow_threads(spec.threads)
    analyser = load_analyser(spec.run_root, get_settings(spec.workspace))
    return analyser, GradCam(analyser.model, spec.layer)


def gradcam_batch(worker, paths: tuple[str, ...]) -> tuple[tuple[str, ...], np.ndarray | None, str]:
    """(paths, their Grad-CAM maps, "") for one batch of photos, or (paths, None, reason)."""
    from core.images import ImageError
    from model.preprocess import load_model_input

    analyser, cam = worker
    try:
        images = np.stack([load_model_input(p, analyser.image_size, analyser.resize_filter) for p in paths])
    except ImageError as exc:
        return paths, None, str(exc)
    return paths, np.asarray(cam(images)[0], np.float32), ""


def lost_gradcam_batch(paths: tuple[str, ...], reason: str):
    return paths, None, reason


def gradcam_pass(analyser, run: RunFolder, paths: list[str], settings: Settings) -> dict[str, np.ndarray]:
    """Grad-CAM maps of `paths` for their predicted class, resuming from attention/gradcam.npz; the batches
    run on the chosen engine (`core.engine`: in this process by default, with `analyser`'s model)."""
    from core.engine import planned_workers, run_tasks, runs_here, threads_per_worker

    layer = settings.attention.gradcam_layer
    cache_path, stamp = run.gradcam_cache, model_stamp(run)
    maps = _read_gradcam_cache(cache_path, stamp, layer)
    todo = [p for p in dict.fromkeys(paths) if p not in maps]
    if not todo:
        return maps
    size = settings.attention.gradcam_batch_size
    batches = [tuple(todo[start:start + size]) for start in range(0, len(todo), size)]
    engine = settings.engine
    workers = planned_workers(engine, len(batches))
    if runs_here(engine, workers):
        from analysis.attention.gradcam import GradCam

        def make_worker(_):  # the analyser this process already loaded
            return analyser, GradCam(analyser.model, layer)
    else:
        make_worker = gradcam_worker
    bar = progress_bar(total=len(todo), logger=log, desc="Grad-CAM", unit="img")
    failed = []

    def keep(result) -> None:  # written as each batch arrives, so a killed pass resumes
        batch, heat, reason = result
        bar.update(len(batch))
        if heat is None:
            failed.append((batch, reason))
            return
        maps.update(zip(batch, heat, strict=True))
        _write_gradcam_cache(cache_path, maps, stamp, layer)

    run_tasks(batches, make_worker=make_worker, spec=CamSpec(str(run.root), str(settings.paths.root), layer,
                                                        threads_per_worker(workers)),
              work=gradcam_batch, lost=lost_gradcam_batch, workers=workers, engine=engine, on_result=keep)
    bar.close()
    if failed:
        raise AttentionError(f"Grad-CAM failed on {sum(len(b) for b, _ in failed)} photo(s) ({failed[0][1]}); "
                             "the maps computed are kept, and a rerun resumes")
    return maps


def gradcam_columns(maps: np.ndarray, paths: pd.Series, cams: dict[str, np.ndarray], k_percent: float) -> pd.DataFrame:
    """Per row: Spearman and top-k% overlap of its attention map and Grad-CAM (NaN where no Grad-CAM)."""
    from analysis.attention.gradcam import agreement

    rho, overlap = np.full(len(paths), np.nan), np.full(len(paths), np.nan)
    for i, path in enumerate(paths):
        if path in cams:
            rho[i], overlap[i] = agreement(np.asarray(maps[i], np.float32), cams[path], k_percent)
    return pd.DataFrame({"gradcam_spearman": rho, "gradcam_topk_overlap": overlap}, index=paths.index)


def sanity_pass(analyser, paths: list[str], settings: Settings) -> dict:
    """The randomisation check on the attention maps of `paths`, as the `sanity_check` entry."""
    from analysis.attention.gradcam import sanity_check
    from model.preprocess import load_model_input

    images = np.stack([load_model_input(p, analyser.image_size, analyser.resize_filter) for p in paths])
    result = sanity_check(analyser.model, images, seed=settings.attention.seed,
                          batch_size=settings.attention.gradcam_batch_size)
    return sanity_section(result["spearman"], result["ssim"], settings.attention.sanity_threshold)


# --------------------------------------------------------------------------- background reliance


def reliance_pass(analyser, run: RunFolder, rows: pd.DataFrame, settings: Settings) -> tuple[pd.DataFrame, str]:
    """Predictions under each treatment for `rows`, resuming from attention/reliance.csv; (table, fill name)."""
    from analysis.attention.background_reliance import RelianceSpec, TreatmentSettings, evaluate_reliance
    from data.background import parse_fill

    fill_name = settings.data.background_fill
    params = TreatmentSettings.at_size(analyser.image_size, parse_fill(fill_name), settings.attention)
    stamp = json.dumps({"model": model_stamp(run), "fill": params.fill, "sigma": params.sigma,
                        "dilation": params.dilation_px, "radius": params.radius, "seed": settings.attention.seed,
                        "candidates": settings.attention.swap_candidates, "rows": len(rows)}, sort_keys=True)
    cache_path = run.reliance_cache
    done = None
    if cache_path.is_file():
        try:
            cached = read_csv(cache_path, keep_default_na=False, na_values=[""])
            if "stamp" in cached.columns and (cached["stamp"] == stamp).all():
                done = cached.drop(columns="stamp")
                done[["donor_path", "problem"]] = done[["donor_path", "problem"]].fillna("")
        except (pd.errors.ParserError, pd.errors.EmptyDataError):
            done = None

    def save(frame: pd.DataFrame) -> None:
        write_dataframe_atomic(cache_path, frame.assign(stamp=stamp))

    table = evaluate_reliance(
        analyser.model, rows, analyser.class_names, analyser.image_size, analyser.resize_filter, params,
        candidates=settings.attention.swap_candidates, seed=settings.attention.seed,
        batch_size=settings.attention.gradcam_batch_size, done=done, on_chunk=save, engine=settings.engine,
        worker_spec=RelianceSpec(str(run.root), str(settings.paths.root), params, threads=1),
    )
    save(table)
    return table, fill_name


# --------------------------------------------------------------------------- the command


def _previous_per_image(run: RunFolder, predictions: pd.DataFrame) -> pd.DataFrame | None:
    path = run.attention_per_image
    if not path.is_file():
        return None
    try:
        previous = read_csv(path, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    aligned = len(previous) == len(predictions) and (previous["path"].astype(str) == predictions["path"].astype(str)).all()
    return previous if aligned else None


def analyse(options: AnalysisOptions, settings: Settings | None = None) -> dict:
    """Compute and write the run's attention analytics; return {"attention", "background_reliance", "notes"}."""
    settings = settings or get_settings()
    if options.max_images is not None and options.max_images < 1:
        raise AttentionError(f"--max-images must be at least 1, got {options.max_images}")
    run = resolve_run(options.run, settings)
    config = run.read_config()
    brands = list(config.class_names)
    predictions = run.read_predictions()
    maps = run.read_attention_maps()
    if len(maps) != len(predictions):
        raise AttentionError(
            f"{run.attention_maps} has {len(maps)} maps but predictions.csv has {len(predictions)} rows; "
            f"rerun `python -m model evaluate --run {run.name}`"
        )
    if predictions.empty:
        raise AttentionError(f"run {run.name!r} has no test predictions to analyse")
    masks = mask_table(predictions, config)
    notes: list[str] = []

    metrics = stream_metrics(maps, masks["figure_mask"].tolist(), masks["zones_mask"].tolist(), settings.attention)
    usable = np.isfinite(metrics["mass_on_figure"].to_numpy(dtype=float))
    if not usable.any():
        example = next((p for p in metrics["mask_problem"] if p), "no figure mask")
        raise AttentionError(
            f"none of the {len(predictions)} test photos of run {run.name!r} has a usable figure mask ({example}); "
            "run `python -m data remove-background` on its dataset for rembg masks"
        )
    if (~usable).any():
        notes.append(f"{int((~usable).sum())} photo(s) without a usable figure mask were left out "
                     f"(e.g. {next(p for p in metrics['mask_problem'] if p)})")
    per_image = pd.concat([predictions[["path", "brand", "predicted"]].astype(str), metrics[[*METRICS, *ZONE_COLUMNS]]],
                          axis=1)

    existing = run.read_metrics()
    previous = _previous_per_image(run, predictions)
    sample = stratified_sample(predictions["brand"], options.max_images, settings.attention.seed)
    sample_paths = predictions["path"].astype(str).iloc[sample].tolist()
    analyser = None
    if options.gradcam or options.reliance:
        from model.predict import load_analyser

        analyser = load_analyser(run.root, settings)

    gradcam_info, sanity = None, existing.get("attention", {}).get("sanity_check")
    if options.gradcam:
        cams = gradcam_pass(analyser, run, sample_paths, settings)
        per_image = per_image.join(gradcam_columns(maps, predictions["path"].astype(str), cams,
                                                   settings.attention.topk_percent))
        gradcam_info = {"layer": settings.attention.gradcam_layer, "k_percent": settings.attention.topk_percent}
        sanity_rows = stratified_sample(predictions["brand"], settings.attention.sanity_images, settings.attention.seed)
        sanity = sanity_pass(analyser, predictions["path"].astype(str).iloc[sanity_rows].tolist(), settings)
    elif previous is not None and all(c in previous.columns for c in GRADCAM_COLUMNS):
        per_image = per_image.join(previous[list(GRADCAM_COLUMNS)])
        gradcam_info = existing.get("attention", {}).get("gradcam_agreement")
    else:
        per_image = per_image.assign(**{column: np.nan for column in GRADCAM_COLUMNS})

    section = attention_section(per_image, brands, mask_source(masks["mask_source"][usable]), settings.attention,
                                gradcam=gradcam_info if options.gradcam else None, sanity=sanity)
    if not options.gradcam and gradcam_info is not None:
        section["gradcam_agreement"] = gradcam_info  # skipped: the earlier entry stays as it was

    reliance = existing.get("background_reliance")
    if options.reliance:
        rows = predictions.iloc[sample][["path", "brand", "predicted"]].astype(str).join(
            masks[["figure_mask", "venue_path"]])
        rows = rows[usable[sample]]
        if rows.empty:
            notes.append("background reliance skipped: no sampled photo has a figure mask")
        else:
            table, fill_name = reliance_pass(analyser, run, rows, settings)
            problems = table["problem"].astype(str)
            if (problems != "").any():
                notes.append(f"{int((problems != '').sum())} photo(s) could not be treated (e.g. {problems[problems != ''].iloc[0]})")
            reliance = reliance_section(table, brands, fill_name)

    write_dataframe_atomic(run.attention_per_image, per_image[list(PER_IMAGE_COLUMNS)])
    merged = {**run.read_metrics(), "attention": section}  # re-read: keep whatever else was written meanwhile
    if reliance is not None:
        merged["background_reliance"] = reliance
    write_json_atomic(run.metrics, merged)
    return {"attention": section, "background_reliance": reliance, "notes": notes, "run": run}


# --------------------------------------------------------------------------- the summary the CLI prints


def _fmt(value) -> str:
    return "  -  " if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:.3f}"


def summary_lines(result: dict) -> list[str]:
    """A short text report of the sections (what the CLI prints)."""
    attention, reliance = result["attention"], result["background_reliance"]
    lines = [f"masks: {attention['mask_source']}",
             f"{'brand':<22} {'mass':>6} {'point':>6} {'energy':>6}  " + " ".join(f"{z:>6}" for z in ZONES)]
    brands = list(attention["mass_on_figure"]["per_brand"])
    for brand in brands:
        cells = [_fmt(attention[m]["per_brand"].get(brand, {}).get("mean")) for m in METRICS]
        zones = attention["body_zones"]["per_brand"].get(brand, {})
        lines.append(f"{brand:<22} {cells[0]:>6} {cells[1]:>6} {cells[2]:>6}  "
                     + " ".join(f"{_fmt(zones.get(z, {}).get('mean')):>6}" for z in ZONES))
    lines.append(f"{'all images':<22} " + " ".join(f"{_fmt(attention[m]['mean']):>6}" for m in METRICS) + "  "
                 + " ".join(f"{_fmt(attention['body_zones']['mean'][z]):>6}" for z in ZONES))
    agreement = attention.get("gradcam_agreement")
    if agreement:
        lines.append(f"Grad-CAM ({agreement['layer']}) vs attention: Spearman {_fmt(agreement['spearman']['mean'])}, "
                     f"top-{agreement['k_percent']:g}% overlap {_fmt(agreement['topk_overlap']['mean'])}")
    sanity = attention.get("sanity_check")
    if sanity:
        lines.append(f"sanity check: Spearman {_fmt(sanity['spearman_original_vs_randomised'])}, SSIM "
                     f"{_fmt(sanity['ssim_or_pearson'])} before vs after randomising the attention branch -> "
                     f"maps {'changed' if sanity['maps_changed'] else 'did NOT change'}")
    if reliance:
        lines.append(f"background reliance ({reliance['n_images']} photos, fill {reliance['fill']}): "
                     + ", ".join(f"{t} {_fmt(reliance['accuracy'][t])} (drop {_fmt(reliance['drop'][t])})"
                                 for t in reliance["treatments"]))
    return lines
