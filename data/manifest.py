"""Dataset folders on the data stage's side: names, resolving, ordering (the file names and columns are core.contract's)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from core.config import Settings, get_settings
from core.contract import MANIFEST_FILE, DataError

SPLIT_ORDER = {"train": 0, "val": 1, "test": 2}


def default_dataset_name(csv_path: str | Path) -> str:
    """The CSV's stem, or its folder's name when the stem is the generic `runway`."""
    csv_path = Path(csv_path)
    return csv_path.parent.resolve().name if csv_path.stem == "runway" else csv_path.stem


def check_dataset_name(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name or ""):
        raise DataError(f"dataset name {name!r}: use letters, digits, '.', '_' or '-' (it becomes a folder name)")
    return name


def dataset_dir(name: str, settings: Settings | None = None) -> Path:
    return (settings or get_settings()).paths.datasets / check_dataset_name(name)


def resolve_dataset(value: str | Path, settings: Settings | None = None) -> Path:
    """A dataset folder given as a path, or as a name under the workspace's datasets folder."""
    path = Path(value).expanduser()
    candidates = [path]
    if len(path.parts) == 1:
        candidates.append((settings or get_settings()).paths.datasets / path)
    for candidate in candidates:
        if (candidate / MANIFEST_FILE).is_file():
            return candidate.resolve()
    raise DataError(f"no {MANIFEST_FILE} in {value}; run `python -m data prepare` first")


def image_reason(image_path: str, message: str) -> str:
    """A failure line naming the image path (unique) where `core.images` named only the file."""
    name = Path(image_path).name
    return image_path + message[len(name) :] if message.startswith(f"{name}:") else message


def sort_manifest(frame: pd.DataFrame) -> pd.DataFrame:
    """train, val, test; then brand and image path, so equal inputs give byte-identical files."""
    order = frame["split"].map(SPLIT_ORDER).fillna(len(SPLIT_ORDER))
    return (
        frame.assign(_order=order)
        .sort_values(["_order", "brand_key", "image_path"], kind="mergesort")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
