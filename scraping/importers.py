"""Import routes: photos already on disk, the thesis's published CSV, or a Hugging Face image dataset.

All three produce the crawl's output: `<out>/runway.csv` with the same columns, photos under
`<out>/images/<brand>/<collection>/`, verified by decoding, deduplicated by content hash. Files
are hard-linked into `images/` where the filesystem allows (no second copy of a 30 GB set), else
copied. A rerun skips what the CSV already holds.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from core.config import ScrapeSettings, UploadSettings
from core.tables import NotText, read_csv_text, restore_cell
from scraping.errors import UsageError
from scraping.names import inside, slugify, url_last_segment
from scraping.photos import Duplicate, Rejected, Saved, save_photo
from scraping.showinfo import ShowInfo, parse_collection_slug
from scraping.store import RunwayStore, runway_row
from scraping.summary import RunSummary

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp"}


@dataclass(frozen=True)
class ImportItem:
    """One photo to import, and what the CSV should say about it."""

    brand: str
    collection_url: str
    collection_folder: str
    image_url: str
    image_name: str
    image_alt: str = ""
    show: ShowInfo = field(default_factory=ShowInfo)
    source_path: Path | None = None
    data: bytes | None = None
    problem: tuple[str, str] | None = None  # (reason, detail) when the item cannot even be located
    file_name: str = ""  # the saved file's name when it should differ from `image_name`

    @property
    def where(self) -> str:
        """What to name in a message: the local file when there is one."""
        return str(self.source_path) if self.source_path else self.image_url


def run_import(
    route: str,
    items: Iterable[ImportItem],
    out: Path,
    scrape: ScrapeSettings,
    upload: UploadSettings | None = None,
    total: int | None = None,
    progress: bool | None = None,
) -> RunSummary:
    """Save every item through the shared store; the summary is also written to `<out>/scrape_summary.json`."""
    max_pixels = (upload or UploadSettings()).max_pixels
    store = RunwayStore(out)
    summary = RunSummary(source=route, out=str(out))
    bar = tqdm(items, total=total, unit="img", desc=route, disable=None if progress is None else not progress)
    try:
        for item in bar:
            outcome = (
                Rejected(*item.problem)
                if item.problem
                else save_photo(
                    store,
                    data=item.data,
                    source_path=item.source_path,
                    brand=item.brand,
                    collection_folder=item.collection_folder,
                    raw_name=item.file_name or item.image_name,
                    max_name_length=scrape.max_name_length,
                    max_pixels=max_pixels,
                )
            )
            _record(store, summary, item, outcome)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        bar.close()
        summary.rows_in_csv = store.row_count
        summary.finish().write(out)
    return summary


def _record(store: RunwayStore, summary: RunSummary, item: ImportItem, outcome: Saved | Duplicate | Rejected) -> None:
    if isinstance(outcome, Saved):
        store.add_row(
            runway_row(
                collection_url=item.collection_url,
                image_url=item.image_url,
                image_alt=item.image_alt,
                image_name=item.image_name,
                image_path=outcome.image_path,
                info=outcome.info,
                brand=item.brand,
                show=item.show,
                sha256=outcome.sha256,
            )
        )
        summary.images_saved += 1
        summary.bytes_saved += outcome.info.size_bytes
    elif isinstance(outcome, Duplicate):
        summary.skip("image", "already_saved" if outcome.earlier_run else "duplicate_content")
    else:
        log.warning("image failed, %s: %s (%s)", outcome.reason, item.where, outcome.detail)
        summary.fail("image", outcome.reason)
        store.record_failure("image", item.image_url, outcome.reason, outcome.detail, item.collection_url)


# --- import-folder ---------------------------------------------------------------------------------
def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def folder_items(root: Path) -> list[ImportItem]:
    """Photos laid out as `<root>/<brand>/<collection>/*.jpg` or `<root>/<brand>/*.jpg`.

    Deeper folders belong to their first-level collection; hidden files and files without an
    image extension are ignored. A symbolic link counts as the photo it points to; a dangling one is
    kept, so that the import summary lists it as a failure instead of skipping it unseen.
    """
    root = Path(root)
    if root.is_file():
        raise UsageError(f"{root}: is a file; give the folder that holds one folder per brand")
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder")
    brand_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not brand_dirs:
        raise UsageError(
            f"{root}: no brand folders; expected <root>/<brand>/<collection>/*.jpg or <root>/<brand>/*.jpg"
        )
    items = []
    for brand_dir in brand_dirs:
        for path in sorted(brand_dir.rglob("*")):
            is_photo_file = path.is_file() or path.is_symlink()  # is_file() is False for a dangling link
            if not is_photo_file or path.suffix.lower() not in IMAGE_SUFFIXES or not _visible(path, root):
                continue
            relative = path.relative_to(brand_dir)
            collection_dir = brand_dir / relative.parts[0] if len(relative.parts) > 1 else None
            collection_name = collection_dir.name if collection_dir else ""
            items.append(
                ImportItem(
                    brand=brand_dir.name,
                    collection_url=(collection_dir or brand_dir).resolve().as_uri(),
                    collection_folder=collection_name,
                    image_url=path.resolve().as_uri(),
                    image_name=path.name,
                    show=_show_of(collection_name),
                    source_path=path,
                )
            )
    if not items:
        raise UsageError(f"{root}: no photos ({', '.join(sorted(IMAGE_SUFFIXES))}) under the brand folders")
    return items


def _show_of(collection: str) -> ShowInfo:
    """Season, year, city and show type from a collection slug; the brand comes from elsewhere."""
    info = parse_collection_slug(collection) if collection else ShowInfo()
    return ShowInfo(show_type=info.show_type, season=info.season, year=info.year, city=info.city)


# --- import-csv ------------------------------------------------------------------------------------
def sniff_delimiter(header_line: str) -> str:
    """The thesis's CSV is comma-separated; extracts of it circulate tab-separated. Pick what the header uses."""
    return max((",", "\t", ";"), key=header_line.count)


def csv_items(csv_path: Path, images_root: Path) -> list[ImportItem]:
    """Rows of the thesis's published CSV (`image_path` relative to `images_root`)."""
    csv_path, images_root = Path(csv_path), Path(images_root)
    if csv_path.is_dir():
        raise UsageError(f"{csv_path}: is a folder, not a CSV file; name the runway CSV inside it")
    if not csv_path.is_file():
        raise UsageError(f"{csv_path}: no such file")
    if not images_root.is_dir():
        raise UsageError(f"--images {images_root}: no such folder")
    # The same decoding as `prepare` (UTF-8, else the Windows or Latin-1 code page), so a file one
    # stage reads the other reads too.
    try:
        text = read_csv_text(csv_path)
    except NotText as exc:
        raise UsageError(f"{csv_path}: not a CSV ({exc})") from None
    with io.StringIO(text, newline="") as fh:
        first = fh.readline()
        fh.seek(0)
        reader = csv.DictReader(fh, delimiter=sniff_delimiter(first))
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in ("image_path", "brand") if c not in columns]
        if missing:
            raise UsageError(
                f"{csv_path}: missing column(s) {', '.join(missing)}; it has {', '.join(columns) or 'no header'}"
            )
        # restore_cell: a runway CSV this product wrote has its formula-like cells quoted (core.tables)
        rows = [{(k or "").strip(): restore_cell(v.strip()) for k, v in row.items() if isinstance(v, str)}
                for row in reader]
    _check_rows(csv_path, rows)
    return [_csv_item(row, images_root) for row in rows]


def _check_rows(csv_path: Path, rows: list[dict[str, str]]) -> None:
    """Refuse a CSV with nothing to import before anything is written: no rows, or no row naming a brand
    (an import of it would "succeed" with 0 photos, or file every photo under an empty brand)."""
    if not rows:
        raise UsageError(f"{csv_path}: the CSV has no rows (only its header); nothing to import")
    if not any(row.get("brand") for row in rows):
        raise UsageError(f"{csv_path}: none of its {len(rows)} rows names a brand (the brand column is empty)")


def _csv_item(row: dict[str, str], images_root: Path) -> ImportItem:
    relative = row["image_path"].replace("\\", "/")
    collection_url = _clean(row.get("collection_url"))
    collection = url_last_segment(collection_url) if collection_url else ""
    if not collection and "/" in relative.strip("/"):
        collection = relative.strip("/").split("/")[-2]
    try:
        source = inside(images_root, relative)
        problem = None if row["brand"] else ("no_brand", "the row's brand cell is empty")
    except ValueError as exc:
        source, problem = None, ("unsafe_path", str(exc))
    name = _clean(row.get("image_name")) or Path(relative).name
    return ImportItem(
        brand=row["brand"],
        collection_url=collection_url,
        collection_folder=collection,
        image_url=_clean(row.get("image_url")) or (source.as_uri() if source else relative),
        image_name=name,
        image_alt=_clean(row.get("image_alt")),
        show=_csv_show(row, collection),
        source_path=source,
        problem=problem,
        file_name=Path(relative).name,
    )


def _clean(value: str | None) -> str:
    """pandas writes missing values as "NaN" in some exports; they mean empty."""
    value = (value or "").strip()
    return "" if value.lower() in ("nan", "none", "null") else value


def _csv_show(row: dict[str, str], collection: str) -> ShowInfo:
    parsed = _show_of(collection)
    year = _clean(row.get("year"))
    return ShowInfo(
        show_type=_clean(row.get("show_type")) or parsed.show_type,
        season=_clean(row.get("season")) or parsed.season,
        year=int(float(year)) if year.replace(".", "", 1).isdigit() else parsed.year,
        city=_clean(row.get("city")) or parsed.city,
    )


# --- import-hf -------------------------------------------------------------------------------------
def load_hf(name_or_path: str, split: str | None, cache_dir: Path):
    """A `datasets` Dataset or DatasetDict: a `save_to_disk` folder, a local data folder, or a hub name."""
    try:
        import datasets
    except ImportError:  # pragma: no cover - datasets is a declared dependency
        raise UsageError("import-hf needs the `datasets` package: pip install 'datasets>=2.18'") from None
    path = Path(name_or_path).expanduser()
    try:
        if path.exists():
            saved = any((path / marker).exists() for marker in ("dataset_info.json", "state.json", "dataset_dict.json"))
            if saved:
                loaded = datasets.load_from_disk(str(path))
                return (
                    loaded[split] if split and isinstance(loaded, datasets.DatasetDict) and split in loaded else loaded
                )
            return datasets.load_dataset(str(path), split=split, cache_dir=str(cache_dir))
        return datasets.load_dataset(name_or_path, split=split, cache_dir=str(cache_dir))
    except KeyError:
        raise UsageError(f"{name_or_path}: no split {split!r}") from None
    except Exception as exc:  # datasets raises many types (hub, network, format); all mean "cannot load"
        raise UsageError(f"cannot load dataset {name_or_path!r}: {type(exc).__name__}: {exc}") from None


def hf_items(
    dataset,
    name_or_path: str,
    image_column: str,
    label_column: str,
    collection_column: str | None = None,
) -> tuple[Iterator[ImportItem], int]:
    """Items of a loaded dataset (all splits of a DatasetDict), and how many there are."""
    import datasets

    splits = dict(dataset) if isinstance(dataset, datasets.DatasetDict) else {str(dataset.split or "train"): dataset}
    for split_name, part in splits.items():
        missing = [c for c in (image_column, label_column, collection_column) if c and c not in part.column_names]
        if missing:
            raise UsageError(
                f"{name_or_path} ({split_name}): no column(s) {', '.join(missing)}; it has {', '.join(part.column_names)}"
            )
    total = sum(len(part) for part in splits.values())
    local = Path(name_or_path).expanduser().exists()
    label = Path(name_or_path).expanduser().resolve().name if local else name_or_path
    base = Path(name_or_path).expanduser().resolve().as_uri() if local else f"hf://datasets/{name_or_path}"

    def generate() -> Iterator[ImportItem]:
        for split_name, part in splits.items():
            features = part.features
            if isinstance(features[image_column], datasets.Image):
                part = part.cast_column(
                    image_column, datasets.Image(decode=False)
                )  # the original bytes, not a re-encode
            label_feature = features[label_column]
            for index, example in enumerate(part):
                yield _hf_item(
                    example,
                    index,
                    split_name,
                    image_column,
                    label_column,
                    label_feature,
                    collection_column,
                    label,
                    base,
                )

    return generate(), total


def _hf_item(
    example, index, split_name, image_column, label_column, label_feature, collection_column, label, base
) -> ImportItem:
    import datasets

    value = example[image_column]
    raw_label = example[label_column]
    brand = label_feature.int2str(raw_label) if isinstance(label_feature, datasets.ClassLabel) else str(raw_label)
    data, source, name, problem = None, None, "", None
    if isinstance(value, dict) and value.get("bytes"):
        data, name = value["bytes"], Path(value.get("path") or "").name
    elif isinstance(value, dict) and value.get("path"):
        source = Path(value["path"])
        name = source.name
    elif isinstance(value, str) and value:
        source = Path(value)
        name = source.name
    else:
        problem = ("unsupported_image_value", f"column {image_column!r} holds {type(value).__name__}, not an image")
    collection_value = (
        str(example[collection_column]) if collection_column and example[collection_column] is not None else ""
    )
    if collection_value:
        collection_url = collection_value
        collection = url_last_segment(collection_value) or slugify(collection_value)
    else:
        collection_url, collection = f"{base}/{split_name}", f"{slugify(label)}-{split_name}"
    return ImportItem(
        brand=brand,
        collection_url=collection_url,
        collection_folder=collection,
        image_url=f"{base}#{split_name}/{index}",
        image_name=name or f"{split_name}-{index:06d}",
        show=_show_of(collection) if collection_value else ShowInfo(),
        source_path=source,
        data=data,
        problem=problem,
    )
