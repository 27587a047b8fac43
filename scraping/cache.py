"""Raw pages on disk: the page cache (so a rerun does not refetch) and `--dump-html` copies.

Cache entries are the exact bytes the site served, keyed by the SHA-256 of the URL, under
`<workspace>/cache/pages/`. Only pages that parsed are cached, so a broken page is fetched
again next time.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

from core.fileio import write_bytes_atomic
from scraping.names import safe_component


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


class PageCache:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, url: str) -> Path:
        key = url_key(url)
        return self.root / key[:2] / f"{key}.html"

    def get(self, url: str) -> bytes | None:
        path = self.path(url)
        return path.read_bytes() if path.is_file() else None

    def put(self, url: str, body: bytes) -> None:
        write_bytes_atomic(self.path(url), body)


def dump_name(url: str, max_length: int = 120) -> str:
    """A readable, unique file name for a page: host and path, plus a short hash of the full URL."""
    parts = urlsplit(url)
    readable = safe_component(f"{parts.netloc}{parts.path}-{parts.query}".replace("/", "_"), max_length - 14, "page")
    return f"{readable.replace('.', '_')}-{url_key(url)[:8]}.html"


def dump_page(folder: Path, url: str, body: bytes) -> Path:
    """Save a raw page for a bug report about a site change (`--dump-html`)."""
    return write_bytes_atomic(Path(folder) / dump_name(url), body)
