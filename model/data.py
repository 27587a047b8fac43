"""Read the dataset manifests the data stage writes (docs/ARCHITECTURE.md, "Dataset folder").

`raw` trains on `datasets/<name>/manifest.csv`, `nobg` on `datasets/<name>/nobg/manifest.csv`.
Every problem (missing file, malformed CSV, missing columns, unknown split, missing photo) is a
`DataError` with one message that says what is wrong and where.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from core.config import THESIS_BRANDS, Settings, get_settings
from core.contract import (
    MANIFEST_FILE,
    NOBG_DIR,
    SPLITS,
    TRAINING_COLUMNS,
    DataError,
    DatasetFolder,
    check_variant,
    read_manifest_table,
)


def resolve_manifest(data: str | os.PathLike, variant: str, settings: Settings | None = None) -> Path:
    """The manifest a variant trains on, from a dataset folder, a manifest file or a dataset name."""
    check_variant(variant)
    path = Path(data).expanduser()
    if not path.exists():
        named = (settings or get_settings()).paths.datasets / str(data)
        if named.exists():
            path = named
        else:
            raise DataError(f"dataset not found: {data} (neither a path nor a dataset under {named.parent})")
    path = path.resolve()
    folder = path if path.is_dir() else path.parent
    in_nobg = folder.name == NOBG_DIR
    if variant == "raw":
        if in_nobg:
            raise DataError(f"{path} is a background-removed dataset; for --variant raw pass {folder.parent}")
        manifest = path if path.is_file() else folder / MANIFEST_FILE
    else:
        manifest = (path if path.is_file() else folder / MANIFEST_FILE) if in_nobg else DatasetFolder(folder).nobg_manifest
    if not manifest.is_file():
        hint = " (run `python -m data remove-background` on the dataset first)" if variant == "nobg" else ""
        raise DataError(f"no {variant} manifest: {manifest} does not exist{hint}")
    return manifest


def dataset_name(manifest: Path) -> str:
    """The dataset folder's name (`nobg/manifest.csv` belongs to its parent dataset)."""
    return DatasetFolder.of_manifest(manifest).name


def read_manifest(manifest: str | os.PathLike, check_images: bool = True) -> pd.DataFrame:
    """The manifest as strings, `path` made absolute, validated; raises `DataError` on any problem."""
    manifest = Path(manifest)
    frame = read_manifest_table(manifest, TRAINING_COLUMNS)
    if frame.empty:
        raise DataError(f"{manifest} lists no images")
    for column in TRAINING_COLUMNS:
        blank = frame.index[frame[column].str.strip() == ""]
        if len(blank):
            raise DataError(f"{manifest}: empty {column!r} in {len(blank)} row(s), first at data row {blank[0] + 1}")
    bad_split = sorted(set(frame["split"]) - set(SPLITS))
    if bad_split:
        raise DataError(f"{manifest}: unknown split value(s) {bad_split}; expected {', '.join(SPLITS)}")
    # The contract says absolute paths; relative ones are read relative to the manifest's folder.
    frame["path"] = [str(p if Path(p).is_absolute() else (manifest.parent / p).resolve()) for p in frame["path"]]
    if check_images:
        absent = [p for p in frame["path"] if not Path(p).is_file()]
        if absent:
            raise DataError(
                f"{manifest}: {len(absent)} of {len(frame)} image(s) are missing, e.g. {absent[0]}"
                " (rerun the data stage, or remove those rows)"
            )
    return frame


def ordered_class_names(brands, preferred: tuple[str, ...] = THESIS_BRANDS) -> list[str]:
    """The brands present, in the thesis's confusion-matrix order first, then alphabetically."""
    present = set(brands)
    first = [brand for brand in preferred if brand in present]
    return first + sorted(present - set(first))


def labels_for(frame: pd.DataFrame, class_names: list[str]) -> np.ndarray:
    """Integer class of every row; a brand outside `class_names` is an error."""
    index = {name: i for i, name in enumerate(class_names)}
    unknown = sorted(set(frame["brand"]) - set(index))
    if unknown:
        raise DataError(f"brand(s) {unknown} are not among the model's classes {class_names}")
    return frame["brand"].map(index).to_numpy(dtype=np.int64)


def split_rows(frame: pd.DataFrame, split: str) -> pd.DataFrame:
    if split == "all":
        return frame.reset_index(drop=True)
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; expected one of: {', '.join(SPLITS)}, all")
    return frame[frame["split"] == split].reset_index(drop=True)
