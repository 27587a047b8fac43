"""The brand-analytics commands of `python -m analysis`, written to `runs/<run>/brand_analytics.json`.

    python -m analysis index --run demo-raw [--collection-run demo-raw-collection]
    python -m analysis drift --run demo-raw [--by season]
    python -m analysis similar --run demo-raw --look PATH [-k 5]

Each command replaces only its own section of brand_analytics.json (atomic rewrite), so they can be
run in any order and rerun. User errors print one `error: ...` line and exit 1.
"""

from __future__ import annotations

import sys

import pandas as pd

from analysis.brand import distinctiveness, drift, similarity
from analysis.brand.runfolder import frame_records, load_run, resolve_run_dir, update_analytics
from core.cli import add_settings_options, settings_from_options
from core.config import Settings, get_settings
from core.contract import BRAND_ANALYTICS_FILE, AnalyticsError, ContractError, RunFolder

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)


def _index(args, settings: Settings) -> None:
    run = load_run(args.run, settings, need_embeddings=True)
    section = distinctiveness.compute_for_run(run, settings)
    table = pd.DataFrame(section["brands"])
    columns = ["brand", "index", "index_low", "index_high", "recall", "f1", "silhouette", "margin", "most_confused_with"]
    print(f"run {run.name} ({section['split'] or 'unknown'} split, {section['test_looks']} test looks)")
    print(table[columns].round(3).to_string(index=False))
    if args.collection_run:
        other = load_run(args.collection_run, settings, need_embeddings=True)
        other_section = distinctiveness.compute_for_run(other, settings)
        if section["split"] == "collection" or other_section["split"] == "random":
            print(
                f"warning: --run should be the random split and --collection-run the by-collection split "
                f"(found {section['split']} and {other_section['split']})",
                file=sys.stderr,
            )
        comparison = distinctiveness.compare_splits(table, pd.DataFrame(other_section["brands"]))
        print(f"\nrandom split ({run.name}) vs by-collection split ({other.name}); flattery = random − collection")
        print(comparison[["brand", "index_random", "index_collection", "flattery"]].round(1).to_string(index=False))
        update_analytics(other.directory, "index", other_section)
        update_analytics(
            run.directory,
            "split_comparison",
            {"random_run": run.name, "collection_run": other.name, "brands": frame_records(comparison)},
        )
    path = update_analytics(run.directory, "index", section)
    print(f"\nwrote {path}")


def _drift(args, settings: Settings) -> None:
    run = load_run(args.run, settings, need_embeddings=True)
    section = drift.compute_for_run(run, settings, by=args.by)
    print(pd.DataFrame(section["table"]).round(3).to_string(index=False))
    print()
    print(pd.DataFrame(section["summary"]).round(3).to_string(index=False))
    print(f"\nwrote {update_analytics(run.directory, 'drift', section)}")


def _similar(args, settings: Settings) -> None:
    run_dir = resolve_run_dir(args.run, settings)
    index = similarity.load_or_build_index(run_dir, settings)
    matches = index.looks.index[index.looks["path"].astype(str) == args.look]
    if len(matches) == 0:
        matches = index.looks.index[index.looks["path"].astype(str).str.endswith("/" + args.look.lstrip("/"))]
    if len(matches) != 1:
        raise AnalyticsError(f"{args.look!r} matches {len(matches)} of run {run_dir.name!r}'s test looks; give its path")
    k = min(settings.analytics.knn_k, settings.analytics.knn_max_k)
    found = similarity.nearest_looks(index, index.vectors[matches[0]], k + 1)
    found = found[found["path"] != index.looks["path"].iloc[matches[0]]].head(k)
    found["rank"] = range(1, len(found) + 1)
    print(f"index: {RunFolder(run_dir).look_index_dir} ({'cached' if index.from_cache else 'built'}, {len(index.looks)} looks)")
    print(found.round(4).to_string(index=False))


def add_commands(sub) -> None:
    """The brand-analytics subcommands of `python -m analysis`."""
    analytics = get_settings().analytics
    index = sub.add_parser("index", help=f"distinctiveness index per brand -> {BRAND_ANALYTICS_FILE} 'index'")
    index.add_argument("--run", required=True, help="run name or folder (the random split)")
    index.add_argument("--collection-run", help="a run of the same houses on the by-collection split, to compare")
    add_settings_options(index, analytics, command="index")

    drift_parser = sub.add_parser("drift", help=f"accuracy and centroid drift per brand and year -> {BRAND_ANALYTICS_FILE} 'drift'")
    drift_parser.add_argument("--run", required=True, help="run name or folder")
    drift_parser.add_argument("--by", choices=drift.PERIODS, default="year", help="period (default: %(default)s)")
    add_settings_options(drift_parser, analytics, command="drift")

    similar = sub.add_parser("similar", help="the k runway looks nearest to one of the run's looks")
    similar.add_argument("--run", required=True, help="run name or folder")
    similar.add_argument("--look", required=True, help="path of a test look (as in predictions.csv, or its tail)")
    add_settings_options(similar, analytics, command="similar")


COMMANDS = {"index": _index, "drift": _drift, "similar": _similar}


def run_command(args, settings: Settings) -> int:
    settings = settings.replace(analytics=settings_from_options(args, settings.analytics))
    if args.command == "index" and settings.analytics.bootstrap_resamples < 1:
        print("error: --resamples must be at least 1", file=sys.stderr)
        return 1
    if args.command == "similar" and settings.analytics.knn_k < 1:
        print("error: -k must be at least 1", file=sys.stderr)
        return 1
    try:
        COMMANDS[args.command](args, settings)
    except ContractError as exc:  # AnalyticsError, or a run or dataset the contract's readers refused
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
