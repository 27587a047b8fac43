"""Verify a photo, then place it in the store: the one path every route (crawl and imports) saves through.

A photo is decoded fully with `core.images.probe_image` before anything is written, so HTML
pages, truncated files and decompression bombs never reach `images/` or the CSV. The CSV's size,
width, height, format and mode are then read back from the saved file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.fileio import sha256_file
from core.images import ImageError, ImageInfo, probe_image
from scraping.names import image_file_name, safe_component, slugify
from scraping.store import RunwayStore, write_bytes


@dataclass(frozen=True)
class Saved:
    image_path: str
    info: ImageInfo
    sha256: str


@dataclass(frozen=True)
class Duplicate:
    image_path: str  # where the same content already is
    earlier_run: bool  # saved by an earlier run (a resume), not a second URL in this one
    sha256: str


@dataclass(frozen=True)
class Rejected:
    reason: str
    detail: str


def rejection_reason(message: str, head: bytes = b"", content_type: str = "") -> str:
    """A short key for why a download or file is not a usable photo."""
    if "html" in content_type.lower() or head.lstrip()[:1] == b"<":
        return "html_not_image"
    text = message.lower()
    if "empty" in text:
        return "empty_file"
    if "not an image" in text:
        return "not_an_image"
    if "too many pixels" in text or "decompression bomb" in text:
        return "too_many_pixels"
    if "damaged or truncated" in text:
        return "damaged_image"
    return "bad_image"


def desired_path(brand: str, collection_folder: str, raw_name: str, image_format: str, max_length: int) -> str:
    """`<brand-slug>/<collection-slug>/<safe name with the decoded format's extension>`."""
    parts = [safe_component(slugify(brand) or "unknown-brand", max_length)]
    if collection_folder:
        parts.append(safe_component(collection_folder, max_length))
    parts.append(image_file_name(raw_name or "image", image_format, max_length))
    return "/".join(parts)


def link_or_copy(source: Path) -> Callable[[Path], None]:
    """Fill a temporary file with `source`'s content: a hard link where the filesystem allows, else a copy.

    A symbolic link is followed first: linking the link itself would save a link pointing outside
    `images/`, which `prepare` rightly refuses."""
    target = source.resolve(strict=True)

    def write(tmp: Path) -> None:
        tmp.unlink(missing_ok=True)
        try:
            os.link(target, tmp)
        except OSError:
            shutil.copyfile(target, tmp)

    return write


def missing_source(source_path: Path) -> Rejected | None:
    """Why a local photo cannot be read at all (a dangling link, a missing file), or None."""
    if source_path.is_file():
        return None
    if source_path.is_symlink() and not source_path.exists():
        return Rejected("dangling_link", f"{source_path}: a symbolic link to {os.readlink(source_path)}, "
                                         "which does not exist")
    if source_path.exists():
        return Rejected("not_a_file", f"{source_path}: not a file")
    return Rejected("missing_file", f"{source_path}: file not found")


def save_photo(
    store: RunwayStore,
    *,
    brand: str,
    collection_folder: str,
    raw_name: str,
    max_name_length: int,
    max_pixels: int,
    data: bytes | None = None,
    source_path: Path | None = None,
    content_type: str = "",
) -> Saved | Duplicate | Rejected:
    """Check a photo (bytes, or a file when importing) and save it once; say what happened."""
    if (data is None) == (source_path is None):
        raise ValueError("pass exactly one of data and source_path")
    if source_path is not None and (missing := missing_source(source_path)):
        return missing
    if data is not None:
        sha, write = hashlib.sha256(data).hexdigest(), write_bytes(data)
    else:
        sha, write = sha256_file(source_path), link_or_copy(source_path)
    if sha in store.saved_sha:  # known content: no need to decode it again (fast reruns)
        return Duplicate(store.saved_sha[sha], earlier_run=sha in store.sha_at_start, sha256=sha)
    try:
        info = probe_image(data if data is not None else source_path, max_pixels=max_pixels)
    except ImageError as exc:
        head = data[:64] if data is not None else _head(source_path)
        detail = str(exc).removeprefix("the upload: ")  # core.images' label for bytes; the URL is logged beside it
        return Rejected(rejection_reason(detail, head, content_type), detail)
    placed = store.place(sha, desired_path(brand, collection_folder, raw_name, info.format, max_name_length), write)
    if placed.duplicate_of:
        return Duplicate(placed.duplicate_of, earlier_run=sha in store.sha_at_start, sha256=sha)
    saved_info = probe_image(store.images_root / placed.image_path, max_pixels=max_pixels)
    return Saved(placed.image_path, saved_info, sha)


def _head(path: Path | None) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(64)
    except OSError:
        return b""
