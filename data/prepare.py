"""`python -m data prepare`: a runway CSV and its photos -> a dataset folder with manifest and summary.

Steps, each reported in `summary.json`:
1. read the CSV and normalise brand names (the raw -> display mapping is recorded);
2. choose the brands (explicit, top N, or the thesis's six when all are present);
3. hash and fully decode every photo of those brands; unreadable ones are listed with the reason;
4. drop exact duplicates by content hash (first image path kept);
5. optionally cap the images per brand (seeded sample);
6. split train/val/test, stratified at random or by collection (seeded), and write the manifest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from core.config import Settings, get_settings
from core.contract import DEMO_GROUND_TRUTH_FILE, MANIFEST_COLUMNS, DataError, DatasetFolder, write_manifest
from core.fileio import sha256_file, write_json_atomic
from core.images import ImageError, load_rgb
from core.logs import progress_bar
from core.tables import read_csv_with_columns, write_csv
from data.brands import BrandKeys, display_names, raw_to_display, select_brands
from data.manifest import dataset_dir, default_dataset_name, image_reason, sort_manifest
from data.splits import SPLITS, TEST, make_split, shared_groups, validation_from_training_shows

REQUIRED_CSV_COLUMNS = ("collection_url", "image_path", "brand")
MASK_COLUMNS = ("figure_mask_path", "zones_mask_path")
SEASON_WORDS = ("pre-fall", "resort", "cruise", "spring", "summer", "fall", "autumn", "winter")
# A classifier tells houses apart: `train` refuses a dataset of one brand, so `prepare` does not make one.
MIN_BRANDS = 2
log = logging.getLogger(__name__)


@dataclass
class PrepareOptions:
    csv: Path
    images_root: Path | None = None  # default: see default_images_root
    name: str | None = None  # default: see manifest.default_dataset_name
    brands: Sequence[str] | None = None  # keep these brands (any spelling) ...
    top_n: int | None = None  # ... or the N with most photos; neither: the thesis six if present, else DataSettings.top_n
    # How to split, cap and seed is `Settings.data`.


@dataclass
class PrepareResult:
    dataset_dir: Path
    manifest: pd.DataFrame
    summary: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- pure helpers


def read_runway_csv(path: Path) -> pd.DataFrame:
    """The runway CSV as text, refused with the reason when it has no rows to prepare."""
    runway = read_csv_with_columns(path, REQUIRED_CSV_COLUMNS, "runway CSV", DataError)
    if runway.empty:
        raise DataError(f"{path}: the runway CSV has no rows (only its header); scrape or import photos first")
    return runway


def collection_id(collection_url: str) -> str:
    """The show id: the URL's path without slashes at either end, or the value itself if not a URL."""
    value = str(collection_url).strip()
    parsed = urlparse(value)
    if parsed.scheme and parsed.netloc:
        return parsed.path.strip("/") or parsed.netloc
    return value.strip("/")


def season_and_year(text: str) -> tuple[str, str]:
    """Season and year read from a collection slug such as `fall-2023-ready-to-wear`."""
    lowered = str(text).lower()
    season = next((word for word in SEASON_WORDS if re.search(rf"(?<![a-z]){word}(?![a-z])", lowered)), "")
    year = re.search(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)", lowered)
    return season, year.group(1) if year else ""


def default_images_root(csv_path: Path, image_paths: pd.Series, sample: int = 50) -> Path:
    """`<csv folder>/images` (the scraper's layout) or the CSV's folder (the demo's `images/...` paths):
    whichever holds more of the first `sample` image paths; the former on a tie."""
    candidates = [csv_path.parent / "images", csv_path.parent]
    paths = [p for p in image_paths.head(sample) if str(p).strip()]
    found = [sum((root / p).is_file() for p in paths) for root in candidates]
    return candidates[found.index(max(found))].resolve()


def resolve_inside(root: Path, relative: str) -> Path:
    """`root / relative`, refusing anything that resolves outside `root` (`..`, absolute paths, links)."""
    if not str(relative).strip():
        raise ImageError("the row has no image_path")
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root):
        raise ImageError(f"{relative}: path outside the image root {root}")
    return candidate


def check_photo(root: Path, relative: str) -> tuple[str, str]:
    """(absolute path, sha256) of a photo that fully decodes; `ImageError` with the reason otherwise."""
    path = resolve_inside(root, relative)
    load_rgb(path)  # the same decoder the model and dashboard use: CMYK, 16-bit, EXIF all handled
    return str(path), sha256_file(path)


def _check_row(root: Path, relative: str) -> tuple[str, str, str]:
    try:
        path, digest = check_photo(root, relative)
        return path, digest, ""
    except ImageError as exc:
        return "", "", image_reason(relative, str(exc))
    except OSError as exc:  # permissions, a folder named like a photo, ...
        return "", "", f"{relative}: cannot be read ({exc.strerror or exc})"


def _mask_path(root: Path, relative: str) -> str:
    if not str(relative).strip():
        return ""
    try:
        path = resolve_inside(root, relative)
    except ImageError:
        return ""
    return str(path) if path.is_file() else ""


def cap_per_brand(frame: pd.DataFrame, cap: int, seed: int) -> pd.DataFrame:
    """At most `cap` rows per brand, a seeded sample; `frame` must already be in a stable order."""
    if not cap:
        return frame
    parts = [
        group.sample(n=min(len(group), cap), random_state=seed) for _, group in frame.groupby("brand_key", sort=True)
    ]
    return pd.concat(parts).sort_values("image_path", kind="mergesort") if parts else frame


def drop_duplicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """Keep the first image path of each content hash; list what was dropped and what it duplicates."""
    first = frame.drop_duplicates("sha256", keep="first")
    kept_by_hash = dict(zip(first["sha256"], first["image_path"], strict=True))
    dropped = frame[frame.duplicated("sha256", keep="first")]
    report = [
        {"image_path": row.image_path, "brand": row.brand, "duplicate_of": kept_by_hash[row.sha256]}
        for row in dropped.itertuples()
    ]
    return first, report


def _manifest_changed(path: Path, manifest: pd.DataFrame) -> bool:
    if not path.is_file():
        return True
    return path.read_text() != write_csv(manifest.loc[:, list(MANIFEST_COLUMNS)])


def split_groups(manifest: pd.DataFrame):
    """The group of each row for the collection split; photos with no collection share one group per
    brand (conservative: they can never leak across splits)."""
    collection = manifest["collection"]
    return collection.where(collection != "", "unknown-collection/" + manifest["brand_key"]).to_numpy()


def counts_by_split(manifest: pd.DataFrame) -> dict:
    counts = {
        split: manifest[manifest["split"] == split]["brand"].value_counts().sort_index().to_dict() for split in SPLITS
    }
    counts["total"] = manifest["brand"].value_counts().sort_index().to_dict()
    return {key: {brand: int(n) for brand, n in value.items()} for key, value in counts.items()}


# --------------------------------------------------------------------------- the steps


def normalise_brands(runway: pd.DataFrame, preferred: Sequence[str]) -> tuple[pd.DataFrame, dict[str, str], BrandKeys]:
    """Rows that name a brand, with `brand_raw` and `brand_key` added; key -> display form; and the CSV's keys."""
    runway = runway.assign(brand_raw=runway["brand"].map(lambda b: re.sub(r"\s+", " ", b).strip()))
    keys = BrandKeys.of(runway["brand_raw"].unique())
    runway["brand_key"] = runway["brand_raw"].map(keys.key)
    branded = runway[runway["brand_key"] != ""]
    return branded, display_names(branded["brand_raw"], preferred=preferred, key_of=keys.key), keys


def check_photos(rows: pd.DataFrame, images_root: Path, threads: int) -> tuple[pd.DataFrame, list]:
    """Rows whose photo decodes, with `path` and `sha256`; and the others as summary lines."""
    relative_paths = rows["image_path"].tolist()
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        checked = list(
            progress_bar(
                pool.map(lambda rel: _check_row(images_root, rel), relative_paths),
                logger=log,
                total=len(relative_paths),
                desc="checking photos",
                unit="img",
            )
        )
    rows = rows.assign(path=[c[0] for c in checked], sha256=[c[1] for c in checked], reason=[c[2] for c in checked])
    unreadable = [
        {"image_path": row.image_path, "brand": row.brand, "reason": row.reason}
        for row in rows.itertuples()
        if row.reason
    ]
    return rows[rows["reason"] == ""].drop(columns="reason"), unreadable


def build_manifest(rows: pd.DataFrame, images_root: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """The manifest columns (all but `split`) from checked rows; and how many given masks were not found."""
    manifest = pd.DataFrame(
        {
            "path": rows["path"],
            "image_path": rows["image_path"],
            "brand": rows["brand"],
            "brand_key": rows["brand_key"],
            "collection": rows["collection_url"].map(collection_id),
        }
    )
    read_from_slug = rows["collection_url"].map(season_and_year)
    for position, column in enumerate(("season", "year")):
        given = rows[column] if column in rows.columns else pd.Series("", index=rows.index)
        manifest[column] = given.where(given.str.strip() != "", read_from_slug.str[position])
    masks_not_found = {}
    for column in MASK_COLUMNS:
        given = rows[column] if column in rows.columns else pd.Series("", index=rows.index)
        manifest[column] = given.map(lambda rel: _mask_path(images_root, rel))
        masks_not_found[column] = int(((given.str.strip() != "") & (manifest[column] == "")).sum())
    manifest["sha256"] = rows["sha256"]
    return manifest, masks_not_found


def describe_source(csv_path: Path, runway: pd.DataFrame) -> dict:
    """What the data is, recorded in summary.json so later stages and the dashboard never guess.

    The demo generator writes its ground truth beside its runway CSV; anything else is real photos,
    described by the sites its collection pages came from (a folder import has none)."""
    ground_truth = csv_path.parent / DEMO_GROUND_TRUTH_FILE
    if ground_truth.is_file():
        return {"kind": "demo", "csv": str(csv_path), "ground_truth": str(ground_truth)}
    hosts = sorted({urlparse(url).hostname or "" for url in runway["collection_url"]} - {""})
    return {"kind": "real", "csv": str(csv_path), "hosts": hosts}


def check_selection_has_two_brands(selection, counts: dict[str, int], displays: dict[str, str]) -> None:
    """Refuse before any photo is read when the brands chosen are fewer than a classifier needs."""
    if len(selection.keys) >= MIN_BRANDS:
        return
    names = ", ".join(displays[key] for key in selection.keys) or "none"
    if len(counts) < MIN_BRANDS:
        raise DataError(f"the runway CSV has photos of one brand only ({names}); a classifier needs at least "
                        f"{MIN_BRANDS}: add photos of another house")
    raise DataError(f"{selection.note} give one brand only ({names}); a classifier needs at least {MIN_BRANDS}: "
                    f"name another with --brands, or use --top {MIN_BRANDS} or more")


def check_photos_left_for_two_brands(kept: pd.DataFrame, chosen: pd.DataFrame, unreadable: list,
                                     duplicates: list, displays: dict[str, str]) -> None:
    """Refuse when unreadable or duplicate photos leave fewer brands than a classifier needs, saying why."""
    left = sorted(kept["brand_key"].unique())
    if len(left) >= MIN_BRANDS:
        return
    lost = [displays[key] for key in sorted(set(chosen["brand_key"]) - set(left))]
    example = (unreadable[0]["reason"] if unreadable
               else f"{duplicates[0]['image_path']} duplicates {duplicates[0]['duplicate_of']}")
    raise DataError(f"only {displays[left[0]]} has readable photos left: those of {', '.join(lost)} are unreadable "
                    f"or duplicates ({len(unreadable)} unreadable, {len(duplicates)} duplicates; e.g. {example}); "
                    f"a classifier needs at least {MIN_BRANDS} brands")


def check_every_brand_has_test_photos(manifest: pd.DataFrame, split_method: str, allow_incomplete: bool) -> None:
    """Refuse a split that leaves a brand without test photos: evaluation could not score it, and every
    per-brand result downstream would silently leave it out."""
    missing = sorted(set(manifest["brand"]) - set(manifest.loc[manifest["split"] == TEST, "brand"]))
    if not missing or allow_incomplete:
        return
    if split_method == "collection":
        shows = manifest[manifest["brand"].isin(missing)].groupby("brand")["collection"].nunique()
        detail = ", ".join(f"{brand} ({'one show' if shows[brand] == 1 else f'{shows[brand]} shows'})"
                           for brand in missing)
        why = "the collection split keeps each show on one side, so a brand needs 2 shows to reach the test set"
    else:
        detail, why = ", ".join(missing), "too few photos to hold any out"
    raise DataError(f"no test photos for {detail}: {why}. Use --split random, add more photos or shows of "
                    f"{'it' if len(missing) == 1 else 'them'}, or pass --allow-incomplete to prepare anyway "
                    f"(evaluation will not score {'it' if len(missing) == 1 else 'them'})")


def borrowed_validation_note(brands: list[str]) -> str:
    whose = "its" if len(brands) == 1 else "their"
    return (f"validation photos of {', '.join(brands)} come from {whose} training shows (too few shows to hold one "
            "out for validation); the test set stays show-disjoint")


def split_notes(manifest: pd.DataFrame, val_fraction: float) -> list[str]:
    notes = []
    for split in SPLITS:
        absent = sorted(set(manifest["brand"]) - set(manifest.loc[manifest["split"] == split, "brand"]))
        if absent and (split != "val" or val_fraction > 0):
            notes.append(f"no {split} images for {', '.join(absent)} (too few photos or collections)")
    return notes


# --------------------------------------------------------------------------- the command


def prepare_dataset(options: PrepareOptions, settings: Settings | None = None) -> PrepareResult:
    settings = settings or get_settings()
    defaults = settings.data
    csv_path = Path(options.csv).expanduser().resolve()
    name = options.name or default_dataset_name(csv_path)
    out_dir = dataset_dir(name, settings)
    split_method, seed, cap = defaults.split, defaults.seed, defaults.max_per_brand
    test_fraction, val_fraction = defaults.test_fraction, defaults.val_fraction
    if cap < 0:
        raise DataError(f"--max-per-brand must be 0 (no cap) or more, got {cap}")

    runway = read_runway_csv(csv_path)
    if options.images_root:
        images_root = Path(options.images_root).expanduser().resolve()
    else:
        images_root = default_images_root(csv_path, runway["image_path"])
    if not images_root.is_dir():
        raise DataError(f"image root not found: {images_root} (pass --images)")

    branded, displays, keys = normalise_brands(runway, defaults.brands)
    if branded.empty:
        raise DataError(f"{csv_path}: none of its {len(runway)} rows names a brand (the brand column is empty)")
    counts = branded["brand_key"].value_counts().to_dict()
    selection = select_brands(
        counts,
        requested=options.brands,
        top_n=options.top_n,
        thesis_brands=defaults.brands,
        default_top_n=defaults.top_n,
        key_of=keys.key,
    )
    check_selection_has_two_brands(selection, counts, displays)
    chosen = branded[branded["brand_key"].isin(selection.keys)].assign(brand=lambda f: f["brand_key"].map(displays))
    # A stable order before anything seeded, so the CSV's row order does not change the result.
    chosen = chosen.sort_values(["image_path", "brand_key"], kind="mergesort").reset_index(drop=True)
    readable, unreadable = check_photos(chosen, images_root, defaults.check_threads)
    unique, duplicates = drop_duplicates(readable)
    capped = cap_per_brand(unique, cap, seed)
    if capped.empty:
        brands = ", ".join(displays[key] for key in selection.keys)
        raise DataError(f"no readable photos left for {brands} under {images_root}")
    check_photos_left_for_two_brands(capped, chosen, unreadable, duplicates, displays)

    manifest, masks_not_found = build_manifest(capped, images_root)
    groups = split_groups(manifest)
    split = make_split(split_method, manifest["brand_key"].to_numpy(), groups, test_fraction, val_fraction, seed)
    borrowed = []
    if split_method == "collection":  # the random split already gives every brand validation photos
        split, borrowed = validation_from_training_shows(split, manifest["brand_key"].to_numpy(), val_fraction, seed)
    manifest["split"] = split
    check_every_brand_has_test_photos(manifest, split_method, defaults.allow_incomplete)
    manifest = sort_manifest(manifest)
    val_from_training_shows = [displays[key] for key in borrowed]

    notes = [f"brands: {selection.note}", *split_notes(manifest, val_fraction)]
    if val_from_training_shows:
        notes.append(borrowed_validation_note(val_from_training_shows))
    folder = DatasetFolder(out_dir)
    if _manifest_changed(folder.manifest, manifest) and folder.nobg_manifest.is_file():
        notes.append("nobg/ predates this manifest: rerun `python -m data remove-background` (cached work is reused)")
    summary = {
        "name": name,
        "csv": str(csv_path),
        "source": describe_source(csv_path, runway),
        "images_root": str(images_root),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "split": split_method,
        "seed": seed,
        "test_fraction": test_fraction,
        "val_fraction": val_fraction,
        "max_per_brand": cap,
        "brand_selection": selection.how,
        "brands": [displays[key] for key in selection.keys],
        "brand_keys": list(selection.keys),
        "brand_mapping": raw_to_display(branded["brand_raw"], displays, key_of=keys.key),
        "images": len(manifest),
        "counts": counts_by_split(manifest),
        "collections": {
            split: int(manifest.loc[manifest["split"] == split, "collection"].nunique()) for split in SPLITS
        },
        "shared_collections": shared_groups(manifest["split"], split_groups(manifest)),
        "val_from_training_shows": val_from_training_shows,
        "rows_in_csv": len(runway),
        "rows_without_brand": len(runway) - len(branded),
        "rows_for_selected_brands": len(chosen),
        "duplicates_removed": len(duplicates),
        "duplicates": duplicates,
        "unreadable": unreadable,
        "dropped_by_max_per_brand": len(unique) - len(capped),
        # Every row of the CSV is in the manifest or counted here, by reason.
        "rows_dropped": {
            "without_brand": len(runway) - len(branded),
            "other_brands": len(branded) - len(chosen),
            "unreadable": len(unreadable),
            "duplicates": len(duplicates),
            "over_max_per_brand": len(unique) - len(capped),
        },
        "images_without_collection": int((manifest["collection"] == "").sum()),
        "masks_not_found": masks_not_found,
        "notes": notes,
    }
    write_manifest(folder.manifest, manifest)
    write_json_atomic(folder.summary, summary)
    return PrepareResult(dataset_dir=out_dir, manifest=manifest, summary=summary)
