"""`python -m data`: prepare datasets, remove backgrounds, generate the demo photos.

    python -m data prepare --csv workspace/demo/runway.csv --images workspace/demo
    python -m data remove-background --dataset demo
    python -m data demo --help

User errors print one `error: ...` line and exit 1; Ctrl-C exits 130 and a rerun resumes.
"""

from __future__ import annotations

import argparse
import sys

from core.cli import add_settings_options, settings_from_options
from core.config import Settings, get_settings
from core.engine import EngineError
from core.images import ImageError
from core.logs import configure
from data import DataError

MAX_LISTED = 20  # failure lines printed; summary.json holds them all


def _brand_list(values: list[str] | None) -> list[str] | None:
    """`--brands "Rick Owens" Chanel` or `--brands "Rick Owens,Chanel"`."""
    if not values:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _add_prepare(sub) -> None:
    parser = sub.add_parser("prepare", help="runway CSV + photos -> dataset folder (manifest.csv, summary.json)")
    parser.add_argument("--csv", required=True, help="the runway CSV (thesis columns first)")
    parser.add_argument("--images", help="root the CSV's image_path is relative to (default: <csv folder>/images "
                        "or the CSV's folder, whichever holds more of its first 50 paths)")
    parser.add_argument("--name", help="dataset name (default: the CSV's folder name, or its stem if not runway.csv)")
    brands = parser.add_mutually_exclusive_group()
    brands.add_argument("--brands", nargs="+", metavar="BRAND", help="brands to keep (any spelling)")
    brands.add_argument("--top", type=int, metavar="N", help="keep the N brands with most images")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_settings_options(parser, get_settings().data, command="prepare")


def _add_remove_background(sub) -> None:
    parser = sub.add_parser("remove-background", help="rembg over a dataset -> nobg/ photos, masks, manifest")
    parser.add_argument("--dataset", required=True, help="dataset folder, or its name under workspace/datasets")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_settings_options(parser, get_settings().data, command="remove-background")
    add_settings_options(parser, get_settings().engine)


def _add_demo(sub, wanted: bool):
    """The demo generator lives in data/demo; import it only when asked, so the rest works without it."""
    parser = sub.add_parser("demo", help="generate demo runway photos with exact masks")
    if not wanted:
        return None
    try:
        from data.demo import cli as demo_cli
    except ImportError as exc:
        parser.add_argument("rest", nargs=argparse.REMAINDER)
        return f"the demo generator is not available ({exc})"
    demo_cli.add_arguments(parser)
    return demo_cli


def build_parser(argv: list[str]) -> tuple[argparse.ArgumentParser, object]:
    parser = argparse.ArgumentParser(prog="python -m data", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _add_prepare(sub)
    _add_remove_background(sub)
    demo = _add_demo(sub, wanted=argv[:1] == ["demo"])
    return parser, demo


def _print_list(title: str, lines: list[str]) -> None:
    if not lines:
        return
    print(f"{title}:")
    for line in lines[:MAX_LISTED]:
        print(f"  {line}")
    if len(lines) > MAX_LISTED:
        print(f"  ... and {len(lines) - MAX_LISTED} more (see summary.json)")


DROP_REASONS = {
    "without_brand": "without a brand",
    "other_brands": "of other brands",
    "unreadable": "unreadable",
    "duplicates": "duplicates",
    "over_max_per_brand": "over --max-per-brand",
}


def rows_accounted(summary: dict) -> str:
    """Where every row of the CSV went: kept, or dropped and why."""
    dropped = [f"{n} {DROP_REASONS[reason]}" for reason, n in summary["rows_dropped"].items() if n]
    return (f"{summary['rows_in_csv']} rows in the CSV: {summary['images']} kept"
            + (f"; dropped: {', '.join(dropped)}" if dropped else ""))


def run_prepare(args, settings: Settings) -> int:
    from data.prepare import PrepareOptions, prepare_dataset

    options = PrepareOptions(csv=args.csv, images_root=args.images, name=args.name, brands=_brand_list(args.brands),
                             top_n=args.top)
    result = prepare_dataset(options, settings)
    s = result.summary
    per_split = ", ".join(f"{split} {sum(s['counts'][split].values())}" for split in ("train", "val", "test"))
    print(f"dataset {s['name']!r} in {result.dataset_dir}")
    print(f"  {s['images']} images ({per_split}), {len(s['brands'])} brands: {', '.join(s['brands'])}")
    print(f"  split: {s['split']} (seed {s['seed']}); {s['duplicates_removed']} duplicates removed")
    print(f"  {len(s['unreadable'])} unreadable of {s['rows_for_selected_brands']} rows for these brands")
    print(f"  {rows_accounted(s)}")
    for note in s["notes"]:
        print(f"  note: {note}")
    _print_list("unreadable", [entry["reason"] for entry in s["unreadable"]])
    return 0


def run_remove_background(args, settings: Settings) -> int:
    from data.background import BackgroundOptions, remove_backgrounds

    result = remove_backgrounds(BackgroundOptions(dataset=args.dataset), settings)
    s = result.summary
    rate = f"{s['seconds_per_image']:.3f} s/image" if s["seconds_per_image"] else "no model work"
    print(
        f"nobg manifest: {result.nobg_dir / 'manifest.csv'} ({s['images']} images, model {s['model']}, fill {s['fill']})"
    )
    print(
        f"  {s['done']} done, {s['cached']} from cache, {s['skipped']} skipped (already done), {s['failed']} failed; "
        f"{s['seconds']:.1f} s with {s['workers']} worker(s), {rate}"
    )
    _print_list("failed", [entry["reason"] for entry in s["failures"]])
    if s["failed"] and not s["images"]:  # `images` counts the photos that made it into the nobg manifest
        print("error: background removal failed for every photo; the nobg dataset is unusable", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, demo = build_parser(argv)
    args = parser.parse_args(argv)
    configure(quiet=getattr(args, "no_progress", False))
    try:
        settings = get_settings()
        settings = settings.replace(data=settings_from_options(args, settings.data))
        if args.command == "remove-background":
            settings = settings.replace(engine=settings_from_options(args, settings.engine))
        if args.command == "prepare":
            return run_prepare(args, settings)
        if args.command == "remove-background":
            return run_remove_background(args, settings)
        if isinstance(demo, str):
            raise DataError(demo)
        return int(demo.run(args) or 0)
    except (DataError, ImageError, EngineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
