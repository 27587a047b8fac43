"""Atomic writes: a reader never sees a half-written file, and a killed process leaves the old one intact."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it is renamed over `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp" + target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes 0600 files; give the result the permissions a plain open() would have.
        if tmp_path.exists():
            os.chmod(tmp_path, 0o666 & ~_current_umask())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(target: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(target)


def write_text_atomic(target: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(target, text.encode("utf-8"))


def write_json_atomic(target: str | os.PathLike, obj, indent: int = 2) -> Path:
    return write_text_atomic(target, json.dumps(obj, indent=indent, sort_keys=False, default=_json_default) + "\n")


def write_dataframe_atomic(target: str | os.PathLike, frame) -> Path:
    """Write a pandas DataFrame as CSV (safe to open in a spreadsheet: `core.tables.write_csv`) or
    parquet, by suffix, atomically."""
    from core.tables import write_csv  # pandas is loaded only by the callers that write tables

    target = Path(target)
    with atomic_path(target) as tmp:
        if target.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            write_csv(frame, tmp)
    return target


def _json_default(value):
    # numpy scalars and arrays, paths
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def file_digest(path: str | os.PathLike, algorithm: str) -> str:
    """Hex digest of a file's content, read in chunks."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, algorithm).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    return file_digest(path, "sha256")


def md5_file(path: str | os.PathLike) -> str:
    return file_digest(path, "md5")
