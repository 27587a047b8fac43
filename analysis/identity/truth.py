"""Counterfactual ground truth on a demo run: what each cue, each zone and the venue is worth to the model.

For every sampled test look of a demo run, `data.demo.counterfactuals` redraws the same photo with
one thing changed (docs/DEMO.md, "Counterfactual renders"): `basic:<cue>` (the cue made the basic
version every house shares), `twin:<cue>` (the twin house's version of the cue) and `venue` (a
venue the house does not prefer). The original and every edit go through the same path, the
JPEG round trip of a dataset photo (`saved_image()`) and `model.preprocess.to_model_input`, so like
is compared with like; for a background-removed run both are cut out with the render's exact mask
onto the dataset's fill colour. Per look and edit:

- reliance: the drop in the house's evidence (`context.evidence`: log p(house) − the other classes' mean log p, which
  unlike log p does not saturate when the model is sure) from the original to the edit;
- contrast (twin edits and the venue): the drop in log p(house) − log p(twin), i.e. how much of
  what separated the house from its twin the edit took away.

**Zones.** A zone is measured by its own edit, `basic@<zone>` (`twin@<zone>` for the contrast):
the same photo with that one zone redrawn with every cue basic (the twin's), everything else
untouched; the background's edit is the venue. No rule shares the cue edits out among zones: the
fabric and the cut each cover the torso and the legs, and how much of a fabric's effect the torso
deserves is exactly what only a torso-only edit can say (the model's response is not additive).

**Per house.** Means over the house's sampled looks, with percentile-bootstrap intervals
(`analysis.attention.bootstrap`, scipy.stats.bootstrap). A look that does not show a cue renders
unchanged under its `basic:` edit and contributes an exact 0: a cue cannot carry identity in a
look that lacks it. The truth's top zone is the zone with the largest mean reliance; the
twin-contrastive top zone the largest mean contrast.

Model scores are cached in `identity/counterfactuals.npz` (`analysis.identity.cache`), keyed by
photo, edit and the model file, together with the zone shares of each edit (which only rendering
gives), so a killed or repeated run renders and scores only what is missing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from PIL import Image

from analysis.attention.background_reliance import remove_background
from analysis.attention.bootstrap import bootstrap_stat
from analysis.identity import ZONES, IdentityError
from analysis.identity.cache import ScoreCache, cache_key
from analysis.identity.context import IdentityContext, evidence, log_probabilities
from analysis.identity.passes import PassWorker, PhotoResult, run_cached_passes
from core.config import IdentitySettings
from core.contract import read_json_object
from core.images import ImageError, load_rgb
from data.demo.counterfactuals import EDITS, ORIGINAL, VENUE_EDIT, ZONE_EDITS, Counterfactual, render_counterfactuals
from data.demo.draw import CUES
from data.demo.generate import GENERATOR_VERSION, DemoParams, LookSpec, plan_looks
from data.demo.houses import HOUSES, HOUSES_BY_SLUG
from model.preprocess import to_model_input

log = logging.getLogger(__name__)
RELIANCE_EDITS: tuple[str, ...] = (*(f"basic:{cue}" for cue in CUES), VENUE_EDIT)  # what a house loses
CONTRAST_EDITS: tuple[str, ...] = (*(f"twin:{cue}" for cue in CUES), VENUE_EDIT)  # what sets it apart from its twin
QUESTIONS = ("reliance", "contrastive")
SCORED_EDITS: tuple[str, ...] = (*EDITS, *ZONE_EDITS)
# A re-rendered original may differ from the file on disk by decoder rounding only (PIL vs OpenCV's libjpeg).
MAX_DISK_DIFFERENCE = 1.0


@dataclass(frozen=True)
class DemoSource:
    """The demo a run's dataset was prepared from: its parameters, its folder, and its planned looks by image path."""

    params: DemoParams
    root: Path
    specs: dict[str, LookSpec]


def demo_source(context: IdentityContext) -> tuple[DemoSource | None, str | None]:
    """(the demo behind the run, None), or (None, why there is no counterfactual truth for it)."""
    dataset = context.config.dataset
    if dataset is None or not dataset.is_demo():
        return None, "not demo data: counterfactual truth needs the demo generator"
    ground_truth = Path(str(dataset.source().get("ground_truth") or ""))
    if not ground_truth.is_file():
        return None, (f"the demo's {ground_truth.name or 'demo.json'} is gone ({ground_truth}); "
                      "regenerate it with `python -m data demo` and the same parameters")
    try:
        demo = read_json_object(ground_truth, IdentityError)
        version = demo.get("generator_version")
        if version != GENERATOR_VERSION:
            return None, f"{ground_truth} was made by demo generator version {version}, this one is {GENERATOR_VERSION}"
        known = DemoParams.__dataclass_fields__
        params = DemoParams(**{k: v for k, v in dict(demo.get("parameters") or {}).items() if k in known})
    except (IdentityError, TypeError) as exc:
        return None, f"{ground_truth} has no usable parameters ({exc})"
    return DemoSource(params, ground_truth.parent, {spec.image_path: spec for spec in plan_looks(params)}), None


def house_of(brand: str):
    return next((house for house in HOUSES if house.name == brand), None)


def twin_of(brand: str) -> str:
    house = house_of(brand)
    return HOUSES_BY_SLUG[house.twin].name if house is not None else ""


# --------------------------------------------------------------------------- pure: one look


def render_input(render: Counterfactual, size: int, resize_filter: str, fill: tuple[int, int, int] | None) -> np.ndarray:
    """A render as the model reads it: the dataset's JPEG round trip, cut out onto `fill` for a nobg run, squashed."""
    photo = render.saved_image()
    if fill is not None:
        photo = remove_background(photo, (render.zones > 0).astype(np.float32), fill)
    return to_model_input(Image.fromarray(photo), size, resize_filter)


def matches_disk(render: Counterfactual, path: Path) -> bool:
    """Whether the re-rendered original is the photo on disk (else the demo folder was made by other code)."""
    try:
        photo = np.asarray(load_rgb(path), dtype=np.float64)
    except (ImageError, OSError):
        return False
    saved = render.saved_image().astype(np.float64)
    return photo.shape == saved.shape and float(np.abs(photo - saved).mean()) <= MAX_DISK_DIFFERENCE


# --------------------------------------------------------------------------- model passes (cached)


def cache_columns(class_names: list[str]) -> list[str]:
    return [f"logp_{name}" for name in class_names]


class LookTask(NamedTuple):
    path: str
    spec: LookSpec


class LookScores(NamedTuple):
    matches_disk: bool  # False: the re-rendered original is not the photo on disk, and nothing was scored
    rows: dict  # edit -> log-probabilities (cache row)


def score_look(worker: PassWorker, task: LookTask) -> PhotoResult:
    """Render one look's edits and score them (the engine's work, on any worker)."""
    params, root, fill, edits = (worker.options[key] for key in ("params", "root", "fill", "edits"))
    renders = render_counterfactuals(task.spec, params, edits)
    if not matches_disk(renders[ORIGINAL], Path(root) / task.spec.image_path):
        return PhotoResult(task.path, LookScores(False, {}))
    return PhotoResult(task.path, LookScores(True, look_rows(renders, worker.scorer, fill)))


def score_counterfactuals(context: IdentityContext, source: DemoSource) -> tuple[pd.DataFrame, list[str]]:
    """Per sampled look and edit (and the original): the model's log-probabilities.

    Returns (long table [path, brand, edit, logp_<class>…], notes on looks left out).
    """
    scorer, class_names = context.scorer, context.class_names
    fill = context.background_fill() if context.removes_background() else None
    stamp = json.dumps({"model": scorer.stamp, "classes": class_names, "size": scorer.image_size,
                        "filter": scorer.resize_filter, "fill": fill, "demo": source.params.content(),
                        "path": "saved_image", "zone_edits": "paste"}, sort_keys=True)
    cache = ScoreCache(context.run.counterfactual_cache, stamp, cache_columns(class_names))
    edits = (ORIGINAL, *SCORED_EDITS)
    rows = context.rows

    def keys_of(path: str) -> dict[str, str]:
        return {edit: cache_key(path, edit) for edit in edits}

    unmatched = [path for path, image_path in zip(rows["path"], rows["image_path"], strict=True)
                 if image_path not in source.specs]
    todo = [LookTask(str(path), source.specs[image_path])
            for path, image_path in zip(rows["path"], rows["image_path"], strict=True)
            if image_path in source.specs and not all(key in cache for key in keys_of(path).values())]
    differs = []

    def rows_of(result: PhotoResult) -> dict | None:
        if not result.value.matches_disk:
            differs.append(result.path)
            return None
        return {key: result.value.rows[edit] for edit, key in keys_of(result.path).items()}

    options = {"params": source.params, "root": str(source.root), "fill": fill, "edits": edits}
    run_cached_passes(context, cache, todo, score_look, options, rows_of, "counterfactual truth")
    records = []
    for path, brand in zip(rows["path"], rows["brand"], strict=True):  # in the order of the sampled looks
        keys = keys_of(path)
        if all(key in cache for key in keys.values()):
            records.extend([path, brand, edit, *cache.get(key)] for edit, key in keys.items())
    notes = []
    if unmatched:
        notes.append(f"{len(unmatched)} test photo(s) are not looks of the demo's plan (e.g. {unmatched[0]})")
    if differs:
        notes.append(f"{len(differs)} look(s) re-render differently from the photo on disk (e.g. {differs[0]}); "
                     "the demo folder was made by other generator code: regenerate it and retrain")
    return pd.DataFrame(records, columns=["path", "brand", "edit", *cache.columns]), notes


def look_rows(renders: dict[str, Counterfactual], scorer, fill) -> dict[str, np.ndarray]:
    """Per edit: the model's log-probabilities. Each distinct photo is scored once: an edit that changed nothing
    scores as the original, and `basic@head` is usually `basic:head` pixel for pixel."""
    distinct: dict[bytes, str] = {}
    for edit, render in renders.items():
        distinct.setdefault(render.image.tobytes(), edit)
    firsts = list(dict.fromkeys(distinct.values()))
    inputs = np.stack([render_input(renders[edit], scorer.image_size, scorer.resize_filter, fill) for edit in firsts])
    logp = dict(zip(firsts, log_probabilities(scorer.probabilities(inputs)), strict=True))
    return {edit: logp[distinct[render.image.tobytes()]] for edit, render in renders.items()}


# --------------------------------------------------------------------------- effects (pure)


def edit_effects(scores: pd.DataFrame, class_names: list[str]) -> pd.DataFrame:
    """Per look and edit: `drop` in the log-odds of the house and `contrast_drop` in log p(house) − log p(twin) (NaN without
    the twin among the classes)."""
    logp_columns = [f"logp_{name}" for name in class_names]
    index = {name: i for i, name in enumerate(class_names)}
    rows = []
    for path, look in scores.groupby("path", sort=False):
        by_edit = look.set_index("edit")
        if ORIGINAL not in by_edit.index:
            continue
        brand = str(look["brand"].iloc[0])
        twin = twin_of(brand)
        house, rival = index.get(brand), index.get(twin)
        if house is None:
            continue
        original = by_edit.loc[ORIGINAL, logp_columns].to_numpy(dtype=np.float64)
        for edit in SCORED_EDITS:
            if edit not in by_edit.index:
                continue
            edited = by_edit.loc[edit, logp_columns].to_numpy(dtype=np.float64)
            drop = evidence(original, house) - evidence(edited, house)
            contrast = ((original[house] - original[rival]) - (edited[house] - edited[rival])
                        if rival is not None else np.nan)
            rows.append({"path": path, "brand": brand, "twin": twin, "edit": edit, "drop": drop,
                         "contrast_drop": contrast})
    return pd.DataFrame(rows, columns=["path", "brand", "twin", "edit", "drop", "contrast_drop"])


def zone_edit(question: str, zone: str) -> str:
    """The edit that measures `zone` for `question`: the venue for the background, else the zone redrawn
    basic (reliance) or as the twin's (contrastive)."""
    if zone == "background":
        return VENUE_EDIT
    return f"{'basic' if question == 'reliance' else 'twin'}@{zone}"


def look_zone_effects(effects: pd.DataFrame) -> pd.DataFrame:
    """Per look, question (reliance, contrastive) and zone: the effect of that zone's own edit."""
    rows = []
    for (path, brand), look in effects.groupby(["path", "brand"], sort=False):
        by_edit = look.set_index("edit")
        for question, column in (("reliance", "drop"), ("contrastive", "contrast_drop")):
            for zone in ZONES:
                edit = zone_edit(question, zone)
                value = float(by_edit.loc[edit, column]) if edit in by_edit.index else np.nan
                rows.append({"path": path, "brand": brand, "question": question, "zone": zone, "effect": value})
    return pd.DataFrame(rows, columns=["path", "brand", "question", "zone", "effect"])


def top_of(means: dict[str, float | None]) -> str | None:
    """The key with the largest finite value (the first of `ZONES`/cue order on a tie); None when none is finite."""
    finite = {key: value for key, value in means.items() if value is not None and np.isfinite(value)}
    return max(finite, key=finite.get) if finite else None


def _stats(values, identity: IdentitySettings) -> dict | None:
    return bootstrap_stat(values, identity.bootstrap_resamples, identity.confidence_level, identity.seed)


def house_truth(effects: pd.DataFrame, zone_effects: pd.DataFrame, identity: IdentitySettings) -> dict[str, dict]:
    """Per house: mean effect per edit and per zone, both questions, with bootstrap intervals; the top zones."""
    result = {}
    for brand, looks in effects.groupby("brand", sort=True):
        zones = zone_effects[zone_effects["brand"] == brand]
        entry = {"twin": twin_of(str(brand)), "n_looks": int(looks["path"].nunique())}
        for question, column, edits in (("reliance", "drop", RELIANCE_EDITS), ("contrastive", "contrast_drop", CONTRAST_EDITS)):
            cues = {edit: _stats(looks.loc[looks["edit"] == edit, column], identity) for edit in edits}
            by_zone = {zone: _stats(zones.loc[(zones["question"] == question) & (zones["zone"] == zone), "effect"], identity)
                       for zone in ZONES}
            entry[question] = {
                "edits": cues,
                "zones": by_zone,
                "top_zone": top_of({zone: (stat or {}).get("mean") for zone, stat in by_zone.items()}),
                "top_edit": top_of({edit: (stat or {}).get("mean") for edit, stat in cues.items()}),
            }
        result[str(brand)] = entry
    return result


def zone_table(zone_effects: pd.DataFrame, question: str) -> pd.DataFrame:
    """Houses × `ZONES`: the mean effect of each zone for `question` (what faithfulness compares methods with)."""
    chosen = zone_effects[zone_effects["question"] == question]
    table = chosen.groupby(["brand", "zone"])["effect"].mean().unstack("zone")
    return table.reindex(columns=list(ZONES))


def compute_truth(context: IdentityContext, source: DemoSource) -> dict:
    """Score the counterfactuals of the sampled looks; {"effects", "zone_effects", "houses", "notes"}."""
    scores, notes = score_counterfactuals(context, source)
    if scores.empty:
        raise IdentityError(f"none of run {context.run.name!r}'s sampled test photos could be matched to the demo's "
                            f"looks ({'; '.join(notes) or 'no photos'})")
    effects = edit_effects(scores, context.class_names)
    zone_effects = look_zone_effects(effects)
    return {"effects": effects, "zone_effects": zone_effects, "notes": notes,
            "houses": house_truth(effects, zone_effects, context.settings.identity)}
