"""Damaging one artifact the way a crash mid-write, a full disk or a bad copy does (shared by the
damaged-artifact tests of the pages and of the report)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np


def replace(path: Path, data: bytes) -> None:
    """Write `data` at `path`; a symlink (to a shared workspace) is replaced, never written through."""
    if path.is_symlink() or path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def cut(path: Path, keep: float = 0.5) -> None:
    """The file cut off part-way, as a crash mid-write or a full disk leaves it."""
    data = path.read_bytes()
    replace(path, data[: int(len(data) * keep)])


def save_array(path: Path, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array)
    replace(path, buffer.getvalue())
