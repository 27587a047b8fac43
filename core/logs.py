"""Status messages and progress bars of the stages, through `logging` and tqdm.

Stage code never prints: it reports through its module logger and wraps long loops in `progress_bar`:

    log = logging.getLogger(__name__)
    log.info("[train] saved %s", path)
    for path in progress_bar(paths, logger=log, desc="decoding photos", unit="img"): ...

A command line calls `configure` once in its `main()`; the stages then show their INFO messages and
progress bars, or, with `--quiet` / `--no-progress`, only warnings. Without `configure` (library use,
tests) only warnings are shown and no bar is drawn. A bar is drawn only when stderr is a terminal
(tqdm's own check, `disable=None`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from tqdm import tqdm

FORMAT = "%(message)s"
STAGE_PACKAGES = ("core", "data", "model", "analysis", "pipeline")


def configure(quiet: bool = False, *, levels: dict[str, int] | None = None) -> None:
    """Messages to stderr, one line each: INFO and up, or WARNING and up when `quiet`.

    `levels` sets loggers apart, e.g. {"model": logging.WARNING}: that stage's messages and bars stay off.
    """
    logging.basicConfig(format=FORMAT)
    logging.getLogger().setLevel(logging.WARNING if quiet else logging.INFO)  # also when main() runs again
    levels = levels or {}
    for name in {*STAGE_PACKAGES, *levels}:
        logging.getLogger(name).setLevel(levels.get(name, logging.NOTSET))


def shows_progress(logger: logging.Logger | None = None) -> bool:
    """Whether `logger` (default: the root logger) shows INFO messages, and so progress."""
    return (logger or logging.getLogger()).isEnabledFor(logging.INFO)


def progress_bar(iterable: Iterable | None = None, *, logger: logging.Logger | None = None, disable: bool = False,
                 **kwargs) -> tqdm:
    """tqdm, drawn while `logger` shows INFO messages and stderr is a terminal; `disable=True` hides it anyway."""
    return tqdm(iterable, disable=True if disable or not shows_progress(logger) else None, **kwargs)
