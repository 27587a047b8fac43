"""The pipeline's CSV files (runway CSV, manifests, run tables): read with one clear error for any
problem, and written so that a spreadsheet opening them never runs a cell as a formula.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (OWASP, "CSV Injection"); a brand, collection or file name comes from a
web page or someone else's CSV, so `write_csv` prefixes such text cells with a single quote, which
spreadsheets show as text, and the readers here take that quote off again. Numbers (`-0.5`, `-3`) are
left alone, and only a quote added by `write_csv` is removed, so every value round-trips exactly.
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# Tried in order: UTF-8 (with or without a byte-order mark), then the Windows and ISO Latin-1 code
# pages spreadsheets still save in; Latin-1 decodes any byte, so no text is refused for its encoding.
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


class NotText(ValueError):
    """The file is binary (a photo, an archive), not a CSV in any encoding."""


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


def decode_csv(data: bytes, path: str | os.PathLike = "the CSV") -> str:
    """The text of a CSV file: UTF-16 when it starts with its byte-order mark (Excel's "Unicode text"),
    UTF-8, else the first of `ENCODINGS` that decodes it (with a warning); `NotText` for binary data,
    which the 8-bit code pages would otherwise turn into nonsense text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise NotText("starts as UTF-16 text but does not decode as it") from None
    if b"\x00" in data:
        raise NotText("binary data, not text")
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != ENCODINGS[0]:
            log.warning("%s is not UTF-8; read it as %s", path, encoding)
        return text
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def read_csv_text(path: str | os.PathLike) -> str:
    """The text of a CSV file, whatever its encoding (`decode_csv`): every CSV reader starts here."""
    return decode_csv(Path(path).read_bytes(), path)


def read_csv(path: str | os.PathLike, **options) -> pd.DataFrame:
    """`pd.read_csv` for the files the product wrote or reads: any encoding of `ENCODINGS`, and every cell
    `write_csv` neutralised given back as it was."""
    return restore_frame(pd.read_csv(io.StringIO(read_csv_text(path), newline=""), **options))


def read_csv_with_columns(path: str | os.PathLike, required: Iterable[str], what: str, error: type[Exception],
                          as_text: bool = True):
    """All cells as strings (no NaN), or numbers parsed where `as_text` is off (empty cells still "");
    raises `error` if the file is missing, unreadable or lacks a column."""
    path = Path(path)
    if path.is_dir():  # "not found" would send the user looking for a path that is right there
        raise error(f"{path}: is a folder, not a {_as_csv(what)} file")
    if not path.is_file():
        raise error(f"{what} not found: {path}")
    try:
        frame = read_csv(path, dtype=str if as_text else None, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, NotText, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise error(f"{path}: not a readable {_as_csv(what)} ({reason})") from None
    missing = [column for column in required if column not in frame.columns]
    if missing:
        present = ", ".join(map(str, frame.columns)) or "none"
        raise error(f"{path}: the {what} lacks the column(s) {', '.join(missing)} (has: {present})")
    return frame


def _as_csv(what: str) -> str:
    """"manifest" -> "CSV manifest"; "runway CSV" already says it."""
    return what if "CSV" in what.split() else f"CSV {what}"
