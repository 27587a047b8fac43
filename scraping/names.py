"""Safe names for everything the scraper writes: slugs, file names, and paths kept inside the output folder.

A web page or a CSV decides what our files are called, so names are treated as hostile input:
no `..`, no separators, no absolute paths, no hidden files, a bounded length.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_RUNS = re.compile(r"-{2,}")
# Windows refuses these as file names whatever the extension; a dataset may travel there.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
IMAGE_EXTENSIONS = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "WEBP": ".webp",
    "GIF": ".gif",
    "TIFF": ".tif",
    "BMP": ".bmp",
    "MPO": ".jpg",
}


def slugify(text: str) -> str:
    """`Giorgio Armani` → `giorgio-armani`: lower-case ASCII words joined by dashes."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def safe_component(name: str, max_length: int = 120, fallback: str = "unnamed") -> str:
    """One path component made safe: only `[A-Za-z0-9._-]`, no leading dot or dash, bounded length.

    The extension (text after the last dot) is kept when the name must be shortened.
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = _UNSAFE_CHARS.sub("-", text)
    text = _RUNS.sub("-", text).strip("-.")
    text = re.sub(r"\.{2,}", ".", text)  # never `..`, even inside a name
    if not text:
        text = fallback
    stem, dot, ext = text.rpartition(".")
    if not dot:
        stem, ext = text, ""
    if stem.lower() in _RESERVED:
        stem = f"_{stem}"
    ext = ext[:10]
    budget = max(1, max_length - (len(ext) + 1 if ext else 0))
    stem = stem[:budget].rstrip("-.") or fallback
    return f"{stem}.{ext}" if ext else stem


def url_file_name(url: str) -> str:
    """The last path segment of a URL, percent-decoded (still unsafe: pass it to `safe_component`).

    Backslashes count as separators too, so `..%5C..%5Cx.jpg` yields `x.jpg`.
    """
    path = unquote(urlsplit(url).path).replace("\\", "/")
    return PurePosixPath(path).name if path.strip("/") else ""


def url_last_segment(url: str) -> str:
    """`https://door11.com/chanel-couture-…-week/` → `chanel-couture-…-week`."""
    parts = [p for p in unquote(urlsplit(url).path).replace("\\", "/").split("/") if p]
    return parts[-1] if parts else ""


def image_file_name(raw_name: str, image_format: str, max_length: int = 120) -> str:
    """A safe file name whose extension matches the decoded format (an `.html` name can never be written)."""
    ext = IMAGE_EXTENSIONS.get(image_format.upper(), f".{slugify(image_format) or 'img'}")
    stem = raw_name.rsplit(".", 1)[0] if "." in raw_name else raw_name
    return safe_component(f"{safe_component(stem, max_length, 'image').replace('.', '-')}{ext}", max_length, "image")


def numbered(name: str, n: int) -> str:
    """`look.jpg`, 2 → `look-2.jpg`: the n-th candidate when a name is already taken."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}-{n}.{ext}" if dot else f"{name}-{n}"


def inside(root: Path, relative: str) -> Path:
    """`root / relative`, refusing anything that would land outside `root`."""
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ValueError(f"unsafe relative path: {relative!r}")
    root_resolved = root.resolve()
    target = (root_resolved / pure).resolve()
    if not target.is_relative_to(root_resolved):
        raise ValueError(f"path escapes {root}: {relative!r}")
    return target
