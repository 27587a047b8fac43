"""The end-of-run report: pages, images saved, skipped and failed by reason, bytes, elapsed time."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.fileio import write_json_atomic

SUMMARY_NAME = "scrape_summary.json"


@dataclass
class RunSummary:
    source: str
    out: str
    pages_fetched: int = 0  # from the network
    pages_from_cache: int = 0
    collections: int = 0  # collections whose images were considered
    images_saved: int = 0
    bytes_saved: int = 0
    rows_in_csv: int = 0
    skipped: Counter = field(default_factory=Counter)  # "image:already_saved", "collection:brand_filter", …
    failed: Counter = field(default_factory=Counter)  # "image:http_404", "page:malformed_page", …
    interrupted: bool = False
    started: float = field(default_factory=time.monotonic)
    elapsed_seconds: float = 0.0

    def skip(self, kind: str, reason: str, n: int = 1) -> None:
        if n:
            self.skipped[f"{kind}:{reason}"] += n

    def fail(self, kind: str, reason: str) -> None:
        self.failed[f"{kind}:{reason}"] += 1

    def finish(self) -> RunSummary:
        self.elapsed_seconds = round(time.monotonic() - self.started, 3)
        return self

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "out": self.out,
            "pages_fetched": self.pages_fetched,
            "pages_from_cache": self.pages_from_cache,
            "collections": self.collections,
            "images_saved": self.images_saved,
            "bytes_saved": self.bytes_saved,
            "rows_in_csv": self.rows_in_csv,
            "skipped": dict(sorted(self.skipped.items())),
            "failed": dict(sorted(self.failed.items())),
            "interrupted": self.interrupted,
            "elapsed_seconds": self.elapsed_seconds,
        }

    def format(self) -> str:
        def by_reason(counter: Counter) -> str:
            return ", ".join(f"{reason} {n}" for reason, n in sorted(counter.items())) or "none"

        pages = self.pages_fetched + self.pages_from_cache
        lines = [
            f"{self.source}: {'INTERRUPTED, rerun the same command to resume' if self.interrupted else 'done'}",
            f"  pages:       {pages} ({self.pages_fetched} fetched, {self.pages_from_cache} from cache), {self.collections} collections",
            f"  saved:       {self.images_saved} images, {human_bytes(self.bytes_saved)}; the CSV now has {self.rows_in_csv} rows",
            f"  skipped:     {sum(self.skipped.values())} ({by_reason(self.skipped)})",
            f"  failed:      {sum(self.failed.values())} ({by_reason(self.failed)})",
            f"  elapsed:     {self.elapsed_seconds:.1f} s",
            f"  output:      {self.out}",
        ]
        if not pages and not self.collections:  # an import: no pages to speak of
            del lines[1]
        return "\n".join(lines)

    def write(self, out: Path) -> Path:
        return write_json_atomic(Path(out) / SUMMARY_NAME, self.to_dict())


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
