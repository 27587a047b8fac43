"""The pipeline's CSV files (runway CSV, manifests, run tables): read with one clear error for any
problem, and written so that a spreadsheet opening them never runs a cell as a formula.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (OWASP, "CSV Injection"); a brand, collection or file name comes from a
web page or someone else's CSV, so `write_csv` prefixes such text cells with a single quote, which
spreadsheets show as text, and the readers here take that quote off again. Numbers (`-0.5`, `-3`) are
left alone, and only a quote added by `write_csv` is removed, so every value round-trips exactly.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _runs_as_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text)


def neutralise_cell(value):
    """A text cell a spreadsheet would run, with a quote in front; any other value unchanged.

    Text that already starts with quotes before such a character gets one more, so that
    `restore_cell` can tell the quote it must remove from the user's own."""
    if isinstance(value, str) and _runs_as_formula(value.lstrip(QUOTE)):
        return QUOTE + value
    return value


def restore_cell(value):
    """The value `neutralise_cell` was given."""
    if isinstance(value, str) and value.startswith(QUOTE) and _runs_as_formula(value.lstrip(QUOTE)):
        return value[1:]
    return value


def _is_text(values: pd.Series | pd.Index) -> bool:
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _is_text(dtype.categories)
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)


def _map_text(frame: pd.DataFrame, cell) -> pd.DataFrame:
    """`cell` applied to the column names, the index labels and every cell of the text columns."""
    frame = frame.copy()
    for position in range(frame.shape[1]):
        if _is_text(frame.iloc[:, position]):
            frame.isetitem(position, frame.iloc[:, position].map(cell))
    if _is_text(frame.columns):
        frame.columns = frame.columns.map(cell)
    if _is_text(frame.index):
        frame.index = frame.index.map(cell)
    return frame


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return _map_text(frame, neutralise_cell)


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return _map_text(frame, restore_cell)


def write_csv(frame: pd.DataFrame, target: str | os.PathLike | io.IOBase | None = None) -> str | None:
    """`frame.to_csv(target, index=False)`, with cells a spreadsheet would run neutralised: every CSV the
    product writes goes through here (`core.fileio.write_dataframe_atomic`, the scraper's rows, the
    dashboard's downloads). Without `target`, the text."""
    return neutralise_frame(frame).to_csv(target, index=False)


def read_csv(path: str | os.PathLike, **options) -> pd.DataFrame:
    """`pd.read_csv` for the files the product wrote or reads: every cell `write_csv` neutralised given
    back as it was."""
    return restore_frame(pd.read_csv(path, **options))


def read_csv_with_columns(path: str | os.PathLike, required: Iterable[str], what: str, error: type[Exception],
                          as_text: bool = True):
    """All cells as strings (no NaN), or numbers parsed where `as_text` is off (empty cells still "");
    raises `error` if the file is missing, unreadable or lacks a column."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} not found: {path}")
    try:
        frame = read_csv(path, dtype=str if as_text else None, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise error(f"{path}: not a readable CSV {what} ({reason})") from None
    missing = [column for column in required if column not in frame.columns]
    if missing:
        present = ", ".join(map(str, frame.columns)) or "none"
        raise error(f"{path}: the {what} lacks the column(s) {', '.join(missing)} (has: {present})")
    return frame

