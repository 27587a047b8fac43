"""Per-photo model scores on disk: resumable, checked, and keyed to the model that made them.

A `ScoreCache` is one `.npz` in the run folder: `keys` (one string per photo and perturbation),
`values` (one row of floats per key: log-probabilities, and what else a caller stores), `columns`
(the names of those floats) and `stamp` (the model file and settings the values depend on). It is
rewritten atomically after every chunk (core.fileio), so a killed run loses at most one chunk.

A file made with another stamp is ignored (another model: everything is recomputed). A file that
does not load, or whose arrays disagree in shape, columns or finiteness, is damaged: it is
reported (`discarded`) and recomputed rather than trusted.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.fileio import atomic_path

log = logging.getLogger(__name__)
SEPARATOR = "\t"  # never in a path a manifest holds, nor in an edit or zone name


def cache_key(*parts: str) -> str:
    return SEPARATOR.join(str(part) for part in parts)


class ScoreCache:
    """Rows of floats keyed by photo and perturbation, loaded from and saved to `path`."""

    def __init__(self, path: Path, stamp: str, columns: Sequence[str]):
        self.path, self.stamp, self.columns = Path(path), str(stamp), [str(c) for c in columns]
        self.values: dict[str, np.ndarray] = {}
        self.discarded: str | None = None  # why the file on disk was not used, if it was not
        self._load()

    def _load(self) -> None:
        if not self.path.is_file():
            return
        try:
            with np.load(self.path, allow_pickle=False) as stored:
                keys, values = stored["keys"], stored["values"]
                stamp, columns = str(stored["stamp"]), [str(c) for c in stored["columns"]]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            self._discard(f"unreadable ({exc})", damaged=True)
            return
        if stamp != self.stamp:
            self._discard("made with another model or other settings", damaged=False)
            return
        if columns != self.columns or values.ndim != 2 or values.shape != (len(keys), len(self.columns)):
            self._discard(f"shape mismatch (values {values.shape}, {len(keys)} keys, columns {columns} "
                          f"instead of {self.columns})", damaged=True)
            return
        if not np.isfinite(values).all():
            self._discard("non-finite values", damaged=True)
            return
        self.values = {str(key): row.astype(np.float64) for key, row in zip(keys, values, strict=True)}

    def _discard(self, reason: str, damaged: bool) -> None:
        self.discarded = reason
        (log.warning if damaged else log.info)("[identity] %s %s: recomputing", self.path, reason)

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def __len__(self) -> int:
        return len(self.values)

    def get(self, key: str) -> np.ndarray:
        return self.values[key]

    def put(self, key: str, values) -> None:
        row = np.asarray(values, dtype=np.float64).ravel()
        if row.shape != (len(self.columns),) or not np.isfinite(row).all():
            raise ValueError(f"a cache row must be {len(self.columns)} finite numbers, got {row}")
        self.values[key] = row

    def save(self) -> None:
        order = sorted(self.values)  # the same bytes whichever order the engine's workers answered in
        keys = np.array(order, dtype=str)
        values = (np.stack([self.values[key] for key in order]) if order
                  else np.zeros((0, len(self.columns))))
        with atomic_path(self.path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, keys=keys, values=values.astype(np.float64), columns=np.array(self.columns, dtype=str),
                     stamp=np.array(self.stamp))
