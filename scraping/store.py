"""The output folder of a crawl or an import: `runway.csv`, `images/`, `failures.csv`.

The CSV grows by appending one complete line per saved image (flushed and fsynced), so a killed
run keeps every row it finished; a line cut short by the kill is dropped when the store reopens,
and that image is fetched again. Fields never contain line breaks, so one row is one line.
Images go through a temporary file and a rename; `sha256` deduplicates content across URLs
and runs; file names are sanitised and made unique, and never leave `images/`. A cell a spreadsheet
would run as a formula (`=...`) is written with a quote in front and read back without it
(`core.tables`).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.config import RUNWAY_CSV_COLUMNS, RUNWAY_CSV_EXTRA_COLUMNS
from core.contract import RUNWAY_CSV_FILE
from core.fileio import atomic_path, sha256_file, write_bytes_atomic
from core.images import ImageInfo
from core.tables import neutralise_cell, restore_cell
from scraping.errors import UsageError
from scraping.names import inside, numbered
from scraping.showinfo import ShowInfo

log = logging.getLogger(__name__)

CSV_COLUMNS = RUNWAY_CSV_COLUMNS + RUNWAY_CSV_EXTRA_COLUMNS
FAILURE_COLUMNS = ("at", "kind", "url", "reason", "detail", "collection_url")
CSV_NAME, IMAGES_DIR, FAILURES_NAME = RUNWAY_CSV_FILE, "images", "failures.csv"


class StoreError(UsageError):
    """The output folder cannot be used as it is (a user error: the message says what to do)."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def one_line(value) -> str:
    """A CSV field that cannot span lines: line breaks and tabs become spaces."""
    text = "" if value is None else str(value)
    return " ".join(text.replace("\r", " ").replace("\n", " ").replace("\t", " ").split()) if text else ""


def runway_row(
    *,
    collection_url: str,
    image_url: str,
    image_alt: str,
    image_name: str,
    image_path: str,
    info: ImageInfo,
    brand: str,
    show: ShowInfo,
    sha256: str,
    scraped_at: str | None = None,
) -> dict[str, str]:
    """One runway CSV row; size, width, height, format and mode come from the saved file (`info`)."""
    row = {
        "collection_url": collection_url,
        "image_url": image_url,
        "image_alt": image_alt,
        "image_name": image_name,
        "image_path": image_path,
        "image_size": info.size_bytes,
        "image_width": info.width,
        "image_height": info.height,
        "image_format": info.format,
        "image_mode": info.mode,
        "brand": brand,
        "season": show.season,
        "year": "" if show.year is None else show.year,
        "city": show.city,
        "show_type": show.show_type,
        "sha256": sha256,
        "scraped_at": scraped_at or utc_now(),
    }
    return {column: one_line(row[column]) for column in CSV_COLUMNS}


class AppendOnlyCsv:
    """A CSV of single-line rows that only grows; reopening drops a trailing half-written line."""

    def __init__(self, path: Path, columns: tuple[str, ...]):
        self.path, self.columns = path, columns
        self._lock = threading.Lock()

    def open(self) -> list[dict[str, str]]:
        """Repair the file if a kill cut its last line, create it with a header if new, return its rows."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            write_bytes_atomic(self.path, self._line(self.columns).encode("utf-8"))
            return []
        data = self.path.read_bytes()
        if not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            log.warning(
                "%s: dropping a half-written last line (%d bytes) left by an interrupted run",
                self.path,
                len(data) - cut,
            )
            data = data[:cut]
            write_bytes_atomic(self.path, data)
        text = data.decode("utf-8", errors="replace")
        reader = csv.reader(io.StringIO(text))
        header = tuple(next(reader, ()))
        if header != self.columns:
            raise StoreError(
                f"{self.path} has columns {list(header)[:6]}…, not this tool's {list(self.columns)[:6]}…; "
                "choose another --out folder or move the file away"
            )
        rows = []
        for number, fields in enumerate(reader, start=2):
            if len(fields) != len(self.columns):
                raise StoreError(f"{self.path}, line {number}: {len(fields)} fields instead of {len(self.columns)}")
            rows.append(dict(zip(self.columns, map(restore_cell, fields), strict=True)))
        return rows

    def append(self, row: dict) -> None:
        line = self._line([one_line(row.get(column, "")) for column in self.columns]).encode("utf-8")
        with self._lock, open(self.path, "ab") as fh:
            fh.write(line)  # one write of one whole line: a kill leaves at most this line partial
            fh.flush()
            os.fsync(fh.fileno())

    @staticmethod
    def _line(fields) -> str:
        """One CSV line; a brand or file name a spreadsheet would run as a formula is neutralised, as in
        every CSV the product writes (`core.tables.write_csv`)."""
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(map(neutralise_cell, fields))
        return buffer.getvalue()


@dataclass(frozen=True)
class Placed:
    image_path: str  # relative to the images root
    duplicate_of: str = ""  # set when the content was already saved: nothing was written


class RunwayStore:
    """An output folder: what it already holds, and safe, deduplicated additions to it."""

    def __init__(self, out: Path):
        self.out = Path(out)
        if self.out.exists() and not self.out.is_dir():
            raise StoreError(f"--out {self.out} is a file, not a folder")
        self.images_root = self.out / IMAGES_DIR
        self.images_root.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.out / CSV_NAME
        self._csv = AppendOnlyCsv(self.csv_path, CSV_COLUMNS)
        self._failures = AppendOnlyCsv(self.out / FAILURES_NAME, FAILURE_COLUMNS)
        rows = self._csv.open()
        self._failures.open()
        self.rows_at_start = self.row_count = len(rows)
        self.saved_urls = {row["image_url"] for row in rows}
        self.saved_sha = {row["sha256"]: row["image_path"] for row in rows if row["sha256"]}
        self.sha_at_start = frozenset(self.saved_sha)  # to tell "saved by an earlier run" from "duplicate in this one"
        self._claimed = {row["image_path"] for row in rows}
        self._lock = threading.Lock()
        removed = remove_stale_temp_files(self.out)
        if removed:
            log.info("removed %d temporary files left by an interrupted run", removed)

    def place(self, sha256: str, desired: str, write: Callable[[Path], None]) -> Placed:
        """Save content with hash `sha256` at a free, safe path near `desired` (relative to images/).

        `write(tmp)` fills a temporary file that is then renamed into place. Content already saved
        (same hash) is not written again.
        """
        with self._lock:
            if sha256 in self.saved_sha:
                return Placed(self.saved_sha[sha256], duplicate_of=self.saved_sha[sha256])
            relative = self._free_path(desired, sha256)
            self.saved_sha[sha256] = relative
            self._claimed.add(relative)
        target = inside(self.images_root, relative)
        try:
            if not (target.is_file() and sha256_file(target) == sha256):  # a killed run may have saved it already
                with atomic_path(target) as tmp:
                    write(tmp)
        except BaseException:
            with self._lock:
                self.saved_sha.pop(sha256, None)
                self._claimed.discard(relative)
            raise
        return Placed(relative)

    def _free_path(self, desired: str, sha256: str) -> str:
        parent, _, name = desired.rpartition("/")
        n = 1
        candidate = desired
        while True:
            target = inside(self.images_root, candidate)
            taken = candidate in self._claimed or (
                target.exists() and not (target.is_file() and sha256_file(target) == sha256)
            )
            if not taken:
                return candidate
            n += 1
            candidate = f"{parent}/{numbered(name, n)}" if parent else numbered(name, n)

    def add_row(self, row: dict[str, str]) -> None:
        self._csv.append(row)
        with self._lock:
            self.saved_urls.add(row["image_url"])
            self.row_count += 1

    def record_failure(self, kind: str, url: str, reason: str, detail: str = "", collection_url: str = "") -> None:
        self._failures.append(
            {
                "at": utc_now(),
                "kind": kind,
                "url": url,
                "reason": reason,
                "detail": detail,
                "collection_url": collection_url,
            }
        )


def write_bytes(data: bytes) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    return write


def remove_stale_temp_files(out: Path) -> int:
    """Delete the `.name.XXXX.tmp…` files `core.fileio.atomic_path` leaves when a process is killed."""
    removed = 0
    for path in out.rglob(".*.tmp*"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed
