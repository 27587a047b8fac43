"""core.logs: command lines choose what the stages show; stage code only logs and wraps loops."""

from __future__ import annotations

import logging

import pytest

from core.logs import STAGE_PACKAGES, configure, progress_bar, shows_progress


@pytest.fixture(autouse=True)
def restore_levels():
    names = ["", *STAGE_PACKAGES, "model.assets"]
    before = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


def test_configure_sets_the_level_each_time_main_runs():
    configure()
    assert shows_progress(logging.getLogger("model.training"))
    configure(quiet=True)
    assert not shows_progress(logging.getLogger("model.training"))
    assert logging.getLogger("data.prepare").isEnabledFor(logging.WARNING)


def test_levels_keep_some_stages_quiet():
    configure(levels={"model": logging.WARNING, "model.assets": logging.INFO})
    assert not shows_progress(logging.getLogger("model.training"))
    assert shows_progress(logging.getLogger("model.assets"))
    assert shows_progress(logging.getLogger("pipeline.demo"))
    configure()  # a later configure resets the stages
    assert shows_progress(logging.getLogger("model.training"))


def test_progress_bar_is_off_below_info_and_leaves_tty_detection_to_tqdm():
    log = logging.getLogger("data.example")
    configure(quiet=True)
    assert progress_bar(range(3), logger=log).disable
    assert list(progress_bar(range(3), logger=log)) == [0, 1, 2]
    configure()
    with progress_bar(total=0, logger=log, disable=True) as bar:
        assert bar.disable
    with progress_bar(total=3, logger=log) as bar:  # pytest's captured stderr is no terminal: tqdm hides it
        assert bar.disable
