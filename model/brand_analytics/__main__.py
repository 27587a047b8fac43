"""`python -m model.brand_analytics`: brand analytics of evaluated runs, written to `runs/<run>/brand_analytics.json`.

    python -m model.brand_analytics index --run demo-raw [--collection-run demo-raw-collection]
    python -m model.brand_analytics drift --run demo-raw [--by season]
    python -m model.brand_analytics ensemble --raw demo-raw --nobg demo-nobg [--name demo-ensemble] [--learn-weight]
    python -m model.brand_analytics similar --run demo-raw --look PATH [-k 5]

Each command replaces only its own section of brand_analytics.json (atomic rewrite), so they can be
run in any order and rerun. User errors print one `error: ...` line and exit 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import pandas as pd

from core.config import Settings, get_settings
from model.brand_analytics import AnalyticsError, distinctiveness, drift, ensemble, similarity
from model.brand_analytics.runfolder import ANALYTICS_FILE, frame_records, load_run, resolve_run_dir, update_analytics

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


def default_ensemble_name(raw: str, nobg: str) -> str:
    """`demo-raw` + `demo-nobg` → `demo-ensemble`; otherwise `ensemble-<raw>-<nobg>`."""
    raw_stem, nobg_stem = raw.rsplit("-", 1)[0], nobg.rsplit("-", 1)[0]
    if "-" in raw and raw_stem == nobg_stem:
        return f"{raw_stem}-ensemble"
    return f"ensemble-{Path(raw).name}-{Path(nobg).name}"


def _ensemble(args, settings: Settings) -> None:
    raw = load_run(args.raw, settings, need_probabilities=True)
    nobg = load_run(args.nobg, settings, need_probabilities=True)
    name = args.name or default_ensemble_name(raw.name, nobg.name)
    target = settings.paths.run_dir(name)
    if target.resolve() in (raw.directory, nobg.directory):
        raise AnalyticsError(f"--name {name!r} is one of the member runs; choose another name")
    ensemble.check_target(target)
    validation = ensemble.validation_source(target / "validation", settings) if args.learn_weight else None
    result = ensemble.build_ensemble(raw, nobg, settings, learn=args.learn_weight, validation=validation)
    ensemble.write_ensemble_run(target, result)
    comparison = result["comparison"]
    update_analytics(target, "ensemble", {**comparison, "weight_raw": result["config"]["weight_raw"]})
    print(f"ensemble {name}: w = {result['config']['weight_raw']:.2f} "
          f"({'learned on validation' if args.learn_weight else 'fixed'}), {comparison['looks']} test looks "
          f"joined on {result['config']['join_key']}")
    scores = pd.DataFrame({k: comparison[k] for k in ("raw", "nobg", "ensemble")}).T
    print(scores.round(4).to_string())
    print(f"beats both single models: {'yes' if comparison['beats_both'] else 'no'}")
    print(f"wrote {target}")


def _similar(args, settings: Settings) -> None:
    run_dir = resolve_run_dir(args.run, settings)
    index = similarity.load_or_build_index(run_dir, settings)
    matches = index.looks.index[index.looks["path"].astype(str) == args.look]
    if len(matches) == 0:
        matches = index.looks.index[index.looks["path"].astype(str).str.endswith("/" + args.look.lstrip("/"))]
    if len(matches) != 1:
        raise AnalyticsError(f"{args.look!r} matches {len(matches)} of run {run_dir.name!r}'s test looks; give its path")
    k = min(args.k, settings.analytics.knn_max_k)
    found = similarity.nearest_looks(index, index.vectors[matches[0]], k + 1)
    found = found[found["path"] != index.looks["path"].iloc[matches[0]]].head(k)
    found["rank"] = range(1, len(found) + 1)
    print(f"index: {run_dir / similarity.INDEX_DIR} ({'cached' if index.from_cache else 'built'}, {len(index.looks)} looks)")
    print(found.round(4).to_string(index=False))


def build_parser() -> argparse.ArgumentParser:
    analytics = get_settings().analytics
    parser = argparse.ArgumentParser(prog="python -m model.brand_analytics", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", help="workspace folder (default: $RUNWAY_LENS_WORKSPACE or ./workspace)")
    sub = parser.add_subparsers(dest="command", required=True)

    index = sub.add_parser("index", help=f"distinctiveness index per brand -> {ANALYTICS_FILE} 'index'")
    index.add_argument("--run", required=True, help="run name or folder (the random split)")
    index.add_argument("--collection-run", help="a run of the same houses on the by-collection split, to compare")
    index.add_argument("--resamples", type=int, default=analytics.bootstrap_resamples, help="bootstrap resamples (default: %(default)s)")

    drift_parser = sub.add_parser("drift", help=f"accuracy and centroid drift per brand and year -> {ANALYTICS_FILE} 'drift'")
    drift_parser.add_argument("--run", required=True, help="run name or folder")
    drift_parser.add_argument("--by", choices=drift.PERIODS, default="year", help="period (default: %(default)s)")

    ens = sub.add_parser("ensemble", help="average the raw and nobg runs' probabilities -> a new run folder")
    ens.add_argument("--raw", required=True, help="the with-background run")
    ens.add_argument("--nobg", required=True, help="the background-removed run")
    ens.add_argument("--name", help="the ensemble run's name (default: <prefix>-ensemble)")
    ens.add_argument("--learn-weight", action="store_true", help="learn w on the validation split (val_predictions.csv)")

    similar = sub.add_parser("similar", help="the k runway looks nearest to one of the run's looks")
    similar.add_argument("--run", required=True, help="run name or folder")
    similar.add_argument("--look", required=True, help="path of a test look (as in predictions.csv, or its tail)")
    similar.add_argument("-k", type=int, default=analytics.knn_k, help="looks to show (default: %(default)s)")
    return parser


COMMANDS = {"index": _index, "drift": _drift, "ensemble": _ensemble, "similar": _similar}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings(args.workspace)
    if args.command == "index":
        if args.resamples < 1:
            print("error: --resamples must be at least 1", file=sys.stderr)
            return 1
        settings = settings.replace(analytics=dataclasses.replace(settings.analytics, bootstrap_resamples=args.resamples))
    if args.command == "similar" and args.k < 1:
        print("error: -k must be at least 1", file=sys.stderr)
        return 1
    try:
        COMMANDS[args.command](args, settings)
    except AnalyticsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing half-written (rerun to finish)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
