"""Read the pipeline's CSV files (runway CSV, manifests) as text, with one clear error for any problem."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd


def read_csv_with_columns(path: str | os.PathLike, required: Iterable[str], what: str, error: type[Exception],
                          as_text: bool = True):
    """All cells as strings (no NaN), or numbers parsed where `as_text` is off (empty cells still "");
    raises `error` if the file is missing, unreadable or lacks a column."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} not found: {path}")
    try:
        frame = pd.read_csv(path, dtype=str if as_text else None, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise error(f"{path}: not a readable CSV {what} ({reason})") from None
    missing = [column for column in required if column not in frame.columns]
    if missing:
        present = ", ".join(map(str, frame.columns)) or "none"
        raise error(f"{path}: the {what} lacks the column(s) {', '.join(missing)} (has: {present})")
    return frame
