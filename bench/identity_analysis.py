"""The identity analysis of the demo's runs: how long its test photos take, and how faithful each method is.

For the demo's raw and background-removed runs, `analysis.identity.identify` (every method, the
default settings: 120 test photos) runs cold on a copy of the run folder, so every counterfactual
is rendered and scored and the user's own identity.json and caches stay as they are. It runs in
this process (the default), and for the raw run also on 2 local worker processes (`--engine local
--engine-workers 2`), whose identity.json must be the same. The faithfulness figures are the
identity.json's: per method, the houses whose top zone matches the counterfactual truth, for the
house against all others and against its twin. Each run is also timed with `--no-truth`: the profile
by the headline method alone, which is what the command computes on a user's real photos (no truth,
no other methods to score).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.harness import Row, Skip

GOAL_SECONDS = 120.0
GOAL_MATCHES = 5  # of the demo's 6 houses
QUICK_PHOTOS = 24


def demo_run_folders(settings) -> dict[str, Path]:
    """variant -> folder of the demo's evaluated raw and nobg runs."""
    from core.config import profile_settings
    from core.contract import resolve_run
    from pipeline.demo import run_names

    names = run_names(profile_settings("demo", settings).pipeline.dataset)
    runs = {variant: resolve_run(names[variant], settings, must_exist=False) for variant in ("raw", "nobg")}
    found = {variant: run.root for variant, run in runs.items() if run.is_evaluated() and run.model.is_file()}
    if not found:
        raise Skip("no evaluated demo run: run `make demo` first")
    return found


def fresh_copy(run: Path, into: Path) -> Path:
    """The run folder without its identity outputs; the model is linked (it is only read, and its stat stamps
    the caches)."""
    copy = into / run.name
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("identity", "identity.json", "model.keras"))
    os.symlink(run / "model.keras", copy / "model.keras")
    return copy


def timed_identity(run: Path, settings, max_images: int | None) -> tuple[float, dict]:
    """(seconds, identity.json without its timestamp) of a cold analysis of `run`."""
    from analysis.identity.identify import IdentityOptions, identify

    with tempfile.TemporaryDirectory(prefix="bench-identity-") as tmp:
        copy = fresh_copy(run, Path(tmp))
        started = time.perf_counter()
        result = identify(IdentityOptions(run=str(copy), max_images=max_images), settings)
        seconds = time.perf_counter() - started
        document = json.loads((copy / "identity.json").read_text(encoding="utf-8"))
    document.pop("created_at", None)
    document["run"] = run.name
    return seconds, {**document, "n_photos": result["n_photos"]}


def faithfulness_of(document: dict) -> dict:
    """Per method: top-zone matches and mean rank correlation, against all houses and against the twin."""
    return {name: {"top_zone_matches": scores["top_zone_matches"], "houses": scores["houses"],
                   "spearman": scores["spearman"],
                   "contrastive_matches": scores["contrastive"]["top_zone_matches"],
                   "contrastive_spearman": scores["contrastive"]["spearman"]}
            for name, scores in document.get("faithfulness", {}).items()}


def run(settings, quick: bool = False) -> dict:
    import logging

    from core.config import EngineSettings

    logging.getLogger("analysis").setLevel(logging.WARNING)
    folders = demo_run_folders(settings)
    max_images = QUICK_PHOTOS if quick else None
    variants = {}
    for variant, folder in folders.items():
        seconds, document = timed_identity(folder, settings, max_images)
        profile_only = settings.replace(identity=dataclasses.replace(settings.identity, truth=False))
        seconds_profile, document_profile = timed_identity(folder, profile_only, max_images)
        entry = {"run": folder.name, "photos": document["n_photos"], "seconds": round(seconds, 1),
                 "profile_only_seconds": round(seconds_profile, 1),
                 "profile_only_method": document_profile["headline_method"],
                 "headline_method": document["headline_method"], "faithfulness": faithfulness_of(document)}
        if variant == "raw" and not quick:
            two = settings.replace(engine=EngineSettings(engine="local", workers=2))
            seconds_two, document_two = timed_identity(folder, two, max_images)
            entry["two_workers_seconds"] = round(seconds_two, 1)
            entry["two_workers_same_output"] = document_two == document
        variants[variant] = entry
    return {"variants": variants, "goal_seconds": GOAL_SECONDS, "goal_matches": GOAL_MATCHES}


def rows(result: dict) -> list[Row]:
    out = []
    for entry in result["variants"].values():
        label = f"identity, {entry['run']} ({entry['photos']} photos)"
        full = entry["photos"] >= 120
        out.append(Row(f"{label}: time, truth and every method, this process", entry["seconds"], "s",
                       f"≤ {GOAL_SECONDS:g} s for 120 photos", entry["seconds"] <= GOAL_SECONDS if full else None))
        if "profile_only_seconds" in entry:
            out.append(Row(f"{label}: time, profile only by {entry['profile_only_method']} (as on real photos)",
                           entry["profile_only_seconds"], "s", f"≤ {GOAL_SECONDS:g} s for 120 photos",
                           entry["profile_only_seconds"] <= GOAL_SECONDS if full else None))
        if "two_workers_seconds" in entry:
            out.append(Row(f"{label}: time, 2 worker processes", entry["two_workers_seconds"], "s",
                           "same identity.json", entry["two_workers_same_output"]))
        headline = entry["faithfulness"].get(entry["headline_method"])
        if headline:
            houses = headline["houses"]
            out.append(Row(f"{label}: headline {entry['headline_method']}, top zone = truth's", headline["top_zone_matches"],
                           f"of {houses}", f"≥ {GOAL_MATCHES} of 6", headline["top_zone_matches"] >= GOAL_MATCHES))
            out.append(Row(f"{label}: headline, top zone against the twin = truth's", headline["contrastive_matches"],
                           f"of {houses}", f"≥ {GOAL_MATCHES} of 6", headline["contrastive_matches"] >= GOAL_MATCHES))
    return out


def notes(result: dict) -> list[str]:
    lines = []
    for entry in result["variants"].values():
        table = "; ".join(f"{name} {scores['top_zone_matches']}/{scores['houses']} (ρ {_rho(scores['spearman'])}), "
                          f"twin {scores['contrastive_matches']}/{scores['houses']} (ρ {_rho(scores['contrastive_spearman'])})"
                          for name, scores in entry["faithfulness"].items())
        lines.append(f"Identity faithfulness on {entry['run']} (top zones matching the counterfactual truth): {table}.")
    return lines


def _rho(value) -> str:
    return "—" if value is None else f"{value:.2f}"
