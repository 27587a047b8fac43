"""`python -m analysis identity --run <run>`: where each house's identity lives, written to the run's identity.json.

    python -m analysis identity --run demo-raw                  # truth, every method, faithfulness, profile
    python -m analysis identity --run my-runs-raw --max-images 120

On a demo run: the counterfactual truth (`truth`), every attribution method (`methods`), each
method's faithfulness to the truth (`faithfulness`), and the profile (`profile`) with the most
faithful method. On real data there is no truth: the profile uses the method a demo run chose
(`IdentitySettings.headline_method`, `--reference-run`, else the most recent demo run's
identity.json, preferring a run of the same variant, else zone swap). A method that cannot run on the run (no
model, no attention maps, no masks to cut zones from) is listed under `skipped` with the reason,
and the rest still run. Model passes are cached in `identity/` and resume after a kill.

identity.json (`core.contract.IDENTITY_FILE`, read with `RunFolder.read_identity`; docs/IDENTITY.md):

    run, dataset, data ("demo" | "real" | "unknown"), created_at, target, zone_source, zones,
    n_photos (scored), n_test_photos
    headline_method: "swap" | "occlusion:inpaint" | "gradcam" | ...
    headline_basis: {chosen_by: "faithfulness" | "settings" | "reference run" | "default",
                     reference_run, scores (the method's faithfulness, where known)}
    profile: {brand: {method, units, n_photos, zones: {zone: stat}, ranked_zones, top_zone,
                      truth (demo): {zones: {zone: stat}, edits: {edit: stat}, top_zone, top_edit}}}
    rival:   {brand: {rival, taken_for_rival, rival_taken_for_brand, basis, method, units, n_photos,
                      zones: {zone: stat}, ranked_zones, top_zone,
                      twin_truth (demo): {twin, zones, edits, top_zone, top_edit}}}
    faithfulness (demo): {method: {top_zone_matches, houses, spearman, per_house,
                                   contrastive: {top_zone_matches, houses, spearman, per_house}}}
    methods: {method: {reliance: {house: {zone: mean}}, contrastive: {house: {zone: mean}}}}
    truth (demo): {zone_rule, houses: {house: {twin, n_looks, reliance: {...}, contrastive: {...}}}}
    skipped: {method or "truth": why}, notes: [...], settings: IdentitySettings

A stat is {"mean", "ci_low", "ci_high", "n"} (`analysis.attention.bootstrap`); missing numbers are null.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from analysis.identity import ZONES, IdentityError
from analysis.identity.context import IdentityContext, load_context
from analysis.identity.faithfulness import choose_headline, house_zone_means, score_method
from analysis.identity.methods import DEFAULT_HEADLINE, Method, all_methods, method_named, unavailable
from analysis.identity.profile import brand_profiles, most_confused_rivals, rival_sections
from analysis.identity.truth import compute_truth, demo_source, twin_of, zone_table
from core.config import Settings, get_settings
from core.contract import ContractError, RunFolder, list_runs, resolve_run
from core.fileio import write_json_atomic
from core.rundata import json_ready

log = logging.getLogger(__name__)
ZONE_RULE = ("each body zone is measured by its own edit: that zone alone redrawn with every cue basic (reliance) or "
             "the twin's (contrastive), the rest of the photo untouched; the background by the venue swap")


@dataclass(frozen=True)
class IdentityOptions:
    run: str
    max_images: int | None = None


def check_settings(settings: Settings) -> None:
    identity = settings.identity
    if not 0 < identity.confidence_level < 1:
        raise IdentityError(f"--confidence-level must be between 0 and 1, got {identity.confidence_level}")
    if identity.bootstrap_resamples < 1 or identity.batch_size < 1:
        raise IdentityError("--bootstrap-resamples and --batch-size must be at least 1")
    try:
        all_methods(identity)
        if identity.headline_method != "auto":
            method_named(identity.headline_method)
    except ValueError as exc:
        raise IdentityError(str(exc)) from None


# --------------------------------------------------------------------------- which method heads the profile


def reference_identity(settings: Settings, exclude: RunFolder, variant: str) -> tuple[str, dict] | None:
    """(run name, identity.json) of the demo run whose choice real data adopts: `--reference-run`, else the most
    recently written identity.json with faithfulness scores, preferring a run of the same variant (raw, nobg:
    the most faithful method differs with what the model sees); None when there is none."""
    wanted = settings.identity.reference_run
    candidates = [resolve_run(wanted, settings)] if wanted else [r for r in list_runs(settings) if r.root != exclude.root]
    found = []
    for run in candidates:
        try:
            value = run.read_identity()
            same_variant = run.read_config().variant == variant
        except ContractError as exc:
            if wanted:
                raise IdentityError(f"--reference-run {wanted}: {exc}") from None
            continue
        if value.get("faithfulness") and (value.get("headline_basis") or {}).get("chosen_by") == "faithfulness":
            found.append(((same_variant, run.identity.stat().st_mtime_ns), run.name, value))
    if wanted and not found:
        raise IdentityError(f"--reference-run {wanted} has no identity.json with faithfulness scores; "
                            f"run `python -m analysis identity --run {wanted}` on that demo run first")
    if not found:
        return None
    _, name, value = max(found, key=lambda item: item[0])
    return name, value


def headline_without_truth(settings: Settings, run: RunFolder, variant: str) -> tuple[str, dict]:
    """(method, basis) for a run without counterfactual truth."""
    chosen = settings.identity.headline_method
    if chosen != "auto":
        return method_named(chosen).name, {"chosen_by": "settings", "reference_run": None, "scores": None}
    reference = reference_identity(settings, run, variant)
    if reference is None:
        return DEFAULT_HEADLINE, {"chosen_by": "default", "reference_run": None, "scores": None}
    name, value = reference
    method = value["headline_method"]
    return method, {"chosen_by": "reference run", "reference_run": name,
                    "scores": value.get("faithfulness", {}).get(method)}


# --------------------------------------------------------------------------- the command


def _rows_with_rival(context: IdentityContext, rival_of) -> pd.DataFrame:
    rivals = [rival_of(brand) for brand in context.rows["brand"]]
    return context.rows.assign(rival=[r if r in context.class_names else "" for r in rivals])


def _run_method(method: Method, context: IdentityContext, rows: pd.DataFrame, skipped: dict) -> pd.DataFrame | None:
    why = unavailable(method, context)
    if why:
        skipped[method.name] = why
        log.info("[identity] %s skipped: %s", method.name, why)
        return None
    log.info("[identity] %s on %d photos", method.name, len(rows))
    return method.zone_shares(context, rows)


def _means(table: pd.DataFrame) -> dict:
    return {str(house): {zone: row.get(zone) for zone in ZONES} for house, row in table.iterrows()}


def identify(options: IdentityOptions, settings: Settings | None = None, *, scorer_factory=None) -> dict:
    """Compute the run's identity analysis and write identity.json; returns its content (and `run_folder`)."""
    settings = settings or get_settings()
    check_settings(settings)
    context = load_context(options.run, settings, options.max_images, scorer_factory)
    run, class_names, identity = context.run, context.class_names, settings.identity
    dataset = context.config.dataset
    kind = dataset.source()["kind"] if dataset is not None else "unknown"
    brands = context.rows.set_index("path")["brand"]
    rivals = most_confused_rivals(run.read_confusion(), context.predictions, class_names)
    skipped: dict[str, str] = {}
    notes: list[str] = []

    truth = None
    source, reason = demo_source(context)
    if source is not None and not context.has_model():
        reason, source = f"run {run.name!r} has no {run.model.name} to score the counterfactuals with", None
    if source is not None and not identity.truth:
        reason, source = "turned off (--no-truth): the profile only, by the headline method, as on real photos", None
    if source is not None:
        truth = compute_truth(context, source)
        notes.extend(truth["notes"])
    elif kind == "demo":
        skipped["truth"] = reason

    if truth is not None:
        methods = all_methods(identity)
        if identity.headline_method != "auto" and identity.headline_method not in [m.name for m in methods]:
            methods.append(method_named(identity.headline_method))
        rows = _rows_with_rival(context, twin_of)  # the truth's rival is the twin
    else:
        headline, basis = headline_without_truth(settings, run, context.config.variant)
        methods = [method_named(headline)]
        rows = _rows_with_rival(context, lambda brand: rivals[brand]["rival"])
    shares = {}
    for method in methods:
        frame = _run_method(method, context, rows, skipped)
        if frame is not None:
            shares[method.name] = frame

    faithfulness, tables = {}, {}
    for name, frame in shares.items():
        tables[name] = {"reliance": house_zone_means(frame, brands, "share"),
                        "contrastive": house_zone_means(frame, brands, "contrast")}
    if truth is not None:
        truth_tables = {"reliance": zone_table(truth["zone_effects"], "reliance"),
                        "contrastive": zone_table(truth["zone_effects"], "contrastive")}
        faithfulness = {name: score_method(truth_tables, method_tables) for name, method_tables in tables.items()}
        if identity.headline_method != "auto":
            headline = method_named(identity.headline_method).name
            basis = {"chosen_by": "settings", "reference_run": None, "scores": faithfulness.get(headline)}
        else:
            headline = choose_headline(faithfulness) or DEFAULT_HEADLINE
            basis = {"chosen_by": "faithfulness" if faithfulness else "default", "reference_run": None,
                     "scores": faithfulness.get(headline)}

    if headline in shares:
        frame = shares[headline]
        profile = brand_profiles(frame, brands, class_names, headline, identity)
        by_rival = frame
        if truth is not None and any(rivals[b]["rival"] != twin_of(b) for b in class_names):
            # the profile's rival is the most-confused house, which on the demo need not be the twin
            by_rival = method_named(headline).zone_shares(context, _rows_with_rival(context, lambda b: rivals[b]["rival"]))
        rival = rival_sections(by_rival, brands, rivals, headline, identity)
    else:
        notes.append(f"no profile: the headline method {headline} could not run ({skipped.get(headline, 'no scores')})")
        empty = pd.DataFrame(columns=["path", "zone", "share", "contrast"])
        profile = brand_profiles(empty, brands, class_names, headline, identity)
        rival = rival_sections(empty, brands, rivals, headline, identity)

    result = {
        "run": run.name,
        "dataset": context.config.dataset_name,
        "data": kind,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": identity.target,
        "zone_source": identity.zone_source,
        "zones": list(ZONES),
        "n_photos": len(context.rows),
        "n_test_photos": len(context.predictions),
        "headline_method": headline,
        "headline_basis": basis,
        "profile": profile,
        "rival": rival,
        "methods": {name: {question: _means(table) for question, table in method_tables.items()}
                    for name, method_tables in tables.items()},
        "skipped": skipped,
        "notes": notes,
        "settings": dataclasses.asdict(identity),
    }
    if truth is not None:
        houses = truth["houses"]
        for brand, entry in houses.items():
            if brand in profile:
                profile[brand]["truth"] = _truth_summary(entry["reliance"])
                rival[brand]["twin_truth"] = {"twin": entry["twin"], **_truth_summary(entry["contrastive"])}
        result["faithfulness"] = faithfulness
        result["truth"] = {"zone_rule": ZONE_RULE, "n_looks": int(truth["effects"]["path"].nunique()), "houses": houses}
    document = json_ready(result)
    write_json_atomic(run.identity, document)
    log.info("[identity] wrote %s", run.identity)
    return {**document, "run_folder": run}


def _truth_summary(question: dict) -> dict:
    return {"zones": question["zones"], "edits": question["edits"], "top_zone": question["top_zone"],
            "top_edit": question["top_edit"]}
