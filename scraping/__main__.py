"""Command line: `python -m scraping {crawl, import-folder, import-csv, import-hf} …`.

Every route writes `<out>/runway.csv` (the thesis's 11 columns, then season, year, city,
show_type, sha256, scraped_at), photos under `<out>/images/`, `failures.csv` and
`scrape_summary.json`. `<out>` defaults to `<workspace>/scrapes/<source>` for a crawl and `<workspace>/scrapes/import`
for the imports. Reruns resume.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from urllib.parse import urlsplit

from tqdm.contrib.logging import logging_redirect_tqdm

from core.cli import add_settings_options, settings_from_options
from core.config import Settings, get_settings
from scraping.errors import UsageError
from scraping.summary import RunSummary

EXIT_USAGE, EXIT_INTERRUPTED = 2, 130
IMPORT_FOLDER = "import"  # <workspace>/scrapes/import: the default output of the three import routes


def _brands(text: str) -> tuple[str, ...]:
    brands = tuple(dict.fromkeys(b.strip() for b in text.split(",") if b.strip()))
    if not brands:
        raise argparse.ArgumentTypeError('no brand names in --brands (comma-separated, e.g. "Chanel,Rick Owens")')
    return brands


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below {minimum}")
        return value

    return parse


def _year(text: str) -> int:
    value = _count(1900)(text)
    if value > 2100:
        raise argparse.ArgumentTypeError(f"{value} is not a plausible year")
    return value


def _base_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL like https://door11.com")
    return text.rstrip("/")


def build_parser() -> argparse.ArgumentParser:
    from scraping.sources import SOURCES

    parser = argparse.ArgumentParser(
        prog="python -m scraping", description="Build the runway CSV from runway sites or local data."
    )
    common = argparse.ArgumentParser(add_help=False)  # flags every command takes, after its name
    common.add_argument("-v", "--verbose", action="store_true", help="log every retry and skip")
    common.add_argument("--no-progress", action="store_true", help="no progress bar")
    commands = parser.add_subparsers(dest="command", required=True)

    crawl = commands.add_parser("crawl", parents=[common], help="crawl a runway site, politely and resumably")
    crawl.add_argument("--source", required=True, choices=sorted(SOURCES), help="site adapter")
    crawl.add_argument(
        "--brands",
        type=_brands,
        default=(),
        help='comma-separated, e.g. "Rick Owens,Chanel" (default: all; vogue: the thesis six)',
    )
    crawl.add_argument("--since", type=_year, help="only collections of this year or later")
    crawl.add_argument("--out", type=Path, help="output folder (default: <workspace>/scrapes/<source>)")
    crawl.add_argument("--base-url", type=_base_url, help="another site root: a mirror, or a test server")
    crawl.add_argument("--max-pages", type=_count(1), help="stop after this many listing pages")
    crawl.add_argument(
        "--dump-html", action="store_true", help="save raw pages to <out>/html/ (to report a site change)"
    )
    crawl.add_argument(
        "--refresh", action="store_true", help="refetch listing pages to find new shows (collection pages stay cached)"
    )
    add_settings_options(crawl, get_settings().scrape)

    folder = commands.add_parser(
        "import-folder", parents=[common], help="import <root>/<brand>/<collection>/*.jpg or <root>/<brand>/*.jpg"
    )
    folder.add_argument("root", type=Path)
    folder.add_argument("--out", type=Path, help="output folder (default: <workspace>/scrapes/import)")

    table = commands.add_parser("import-csv", parents=[common], help="import the thesis's published CSV and its photos")
    table.add_argument("csv", type=Path)
    table.add_argument("--images", type=Path, required=True, help="the folder image_path is relative to")
    table.add_argument("--out", type=Path, help="output folder (default: <workspace>/scrapes/import)")

    hf = commands.add_parser(
        "import-hf", parents=[common], help="import a Hugging Face image dataset (hub name or local path)"
    )
    hf.add_argument("dataset", help="hub name (user/name) or a local folder (save_to_disk output or image folder)")
    hf.add_argument("--image-column", default="image")
    hf.add_argument("--label-column", default="label", help="the brand column (ClassLabel or text)")
    hf.add_argument("--collection-column", help="optional column naming the show")
    hf.add_argument("--split", help="one split (default: all)")
    hf.add_argument("--out", type=Path, help="output folder (default: <workspace>/scrapes/import)")
    return parser


def scrape_settings(settings: Settings, args: argparse.Namespace):
    """The settings' politeness defaults, with the flags the user gave."""
    return settings_from_options(args, settings.scrape)


def run(args: argparse.Namespace, settings: Settings) -> RunSummary:
    progress = False if args.no_progress else None
    scrapes = settings.paths.scrapes
    if args.command == "crawl":
        from scraping.engine import CrawlPlan, crawl
        from scraping.sources import SOURCES

        source = SOURCES[args.source]
        brands = args.brands or (settings.data.brands if source.needs_brands else ())
        plan = CrawlPlan(
            source=source,
            out=(args.out or scrapes / source.name).resolve(),
            page_cache=settings.paths.cache / "pages",
            base_url=args.base_url or "",
            brands=tuple(brands),
            since=args.since,
            max_pages=args.max_pages,
            dump_html=args.dump_html,
            refresh_listings=args.refresh,
        )
        return crawl(plan, scrape_settings(settings, args), settings.upload, progress=progress)

    from scraping import importers

    # Imports share one folder by default (README: workspace/scrapes/import): photos from several
    # imports add up in one CSV, deduplicated by content.
    out = (args.out or scrapes / IMPORT_FOLDER).resolve()
    if args.command == "import-folder":
        items = importers.folder_items(args.root)
        return importers.run_import("import-folder", items, out, settings.scrape, settings.upload, len(items), progress)
    if args.command == "import-csv":
        items = importers.csv_items(args.csv, args.images)
        return importers.run_import("import-csv", items, out, settings.scrape, settings.upload, len(items), progress)
    dataset = importers.load_hf(args.dataset, args.split, settings.paths.cache / "huggingface")
    items, total = importers.hf_items(
        dataset, args.dataset, args.image_column, args.label_column, args.collection_column
    )
    return importers.run_import("import-hf", items, out, settings.scrape, settings.upload, total, progress)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    settings = get_settings()
    try:
        with logging_redirect_tqdm():
            summary = run(args, settings)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # disk full, permissions: one line, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary.format())
    if summary.interrupted:
        return EXIT_INTERRUPTED
    if nothing_saved_but_failures(summary):
        print(f"error: none of the {sum(summary.failed.values())} photo(s) could be saved; "
              f"see {Path(summary.out) / 'failures.csv'}", file=sys.stderr)
        return 1
    return 0


def nothing_saved_but_failures(summary: RunSummary) -> bool:
    """An import where every photo failed: a script must not take it for a success (the summary says why each
    failed). A crawl is left alone: its failures are pages and photos of a site, counted and retried next run."""
    return summary.source.startswith("import") and summary.images_saved == 0 and sum(summary.failed.values()) > 0 and not summary.skipped


if __name__ == "__main__":
    sys.exit(main())
