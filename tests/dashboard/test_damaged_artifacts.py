"""Every page (AppTest) with one artifact of one run damaged: a clear message for that run, the rest still shown.

Each row of tests/bad_inputs.py's "artifacts" table damages exactly one file of `demo-raw` in a copy of the
demo workspace (the shared fixture is never touched: the copy's files are symlinks to it, and a damaged file
is unlinked and written fresh). Then every page is opened. For each page the test asserts: no exception; on
the pages that read the damaged file, an error or warning that quotes the table's message and names the run;
and the undamaged run (`demo-nobg`) still shows on that page (one cheap marker per page). All six pages are
loaded for every kind of damage, the Analyse page with one photo uploaded (its models load only then):
17 × 6 page loads, about 0.5–2 s each (5 s for Analyse), some 2–3 minutes on two shared cores besides the
demo fixture.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dashboard.navigation import PAGES
from tests.bad_inputs import cases, check_covered
from tests.damage import cut, replace, save_array

pytestmark = pytest.mark.slow

RUN, OTHER = "demo-raw", "demo-nobg"  # the damaged run, and the one that must still show


# --------------------------------------------------------------------------- damaging one file of a copy


def drop_columns(path: Path, *columns: str) -> None:
    import pandas as pd

    frame = pd.read_csv(path)
    replace(path, frame.drop(columns=list(columns)).to_csv(index=False).encode())


def maps_of(run_dir: Path) -> np.ndarray:
    return np.load(run_dir / "attention" / "maps.npy")


@dataclass(frozen=True)
class Damage:
    apply: Callable[[Path], None]  # damages one file of the run folder it is given
    pages: tuple[str, ...]  # the pages that read that file, so must say so


# Each row of tests/bad_inputs.py's "artifacts" table, built by its id.
BUILDERS: dict[str, Damage] = {
    "metrics-truncated": Damage(lambda run: cut(run / "metrics.json"),
                                ("performance.py", "attention.py", "brand.py")),
    "metrics-list": Damage(lambda run: replace(run / "metrics.json", b'[{"accuracy": 0.5}]\n'),
                           ("performance.py", "attention.py", "brand.py")),
    "confusion-truncated": Damage(lambda run: cut(run / "confusion.csv", 0.6), ("performance.py", "brand.py")),
    "confusion-empty": Damage(lambda run: replace(run / "confusion.csv", b""), ("performance.py", "brand.py")),
    "history-truncated": Damage(lambda run: cut(run / "history.csv", 0.8), ("training.py",)),
    "history-columns": Damage(lambda run: drop_columns(run / "history.csv", "accuracy", "loss"),
                              ("training.py",)),
    "predictions-columns": Damage(lambda run: drop_columns(run / "predictions.csv", "predicted"),
                                  ("performance.py", "brand.py", "analyse.py")),
    "maps-truncated": Damage(lambda run: cut(run / "attention" / "maps.npy"), ("brand.py",)),
    "maps-2d": Damage(lambda run: save_array(run / "attention" / "maps.npy",
                                             maps_of(run).reshape(len(maps_of(run)), -1)), ("brand.py",)),
    "maps-short": Damage(lambda run: save_array(run / "attention" / "maps.npy", maps_of(run)[:-2]), ("brand.py",)),
    "sums-truncated": Damage(lambda run: cut(run / "attention" / "sums.npz"), ("attention.py",)),
    "config-truncated": Damage(lambda run: cut(run / "config.json"),
                               ("overview.py", "training.py", "performance.py", "attention.py", "brand.py",
                                "analyse.py")),
    "identity-truncated": Damage(lambda run: replace(run / "identity.json", b'{"profile": {"Casa Sfarzo": {"ef'),
                                 ("attention.py", "brand.py")),
    "analytics-truncated": Damage(lambda run: cut(run / "brand_analytics.json"), ("brand.py",)),
    "per-image-columns": Damage(lambda run: drop_columns(run / "attention" / "per_image.csv", "path"), ("brand.py",)),
    "embeddings-short": Damage(lambda run: save_array(run / "embeddings.npy", np.load(run / "embeddings.npy")[:-1]),
                               ("analyse.py",)),
    "model-truncated": Damage(lambda run: cut(run / "model.keras", 0.3), ("analyse.py",)),
}


def copy_workspace(source: Path, target: Path) -> Path:
    """The demo workspace with every file a symlink to the shared one (folders are real, so the app's own
    writes land in the copy)."""
    shutil.copytree(source, target, symlinks=True, copy_function=os.symlink)
    return target


@pytest.fixture(scope="module")
def damaged(demo_workspace, tmp_path_factory):
    """`damaged(case_id)`: a fresh copy of the demo workspace with that case's file of demo-raw damaged."""
    made: dict[str, Path] = {}

    def make(case_id: str) -> Path:
        if case_id not in made:
            root = copy_workspace(demo_workspace, tmp_path_factory.mktemp(case_id) / "workspace")
            BUILDERS[case_id].apply(root / "runs" / RUN)
            made[case_id] = root
        return made[case_id]

    return make


# --------------------------------------------------------------------------- what a page shows


def alerts(at) -> list[str]:
    """Every error and warning, on the page and in the sidebar."""
    return [str(e.value) for e in (*at.error, *at.warning)]


def texts(at) -> str:
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error"):
        parts += [str(element.value) for element in getattr(at, kind)]
    return "\n".join(parts)


def photo_png() -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, size=(96, 64, 3), dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def load(open_page, page: str):
    """The page as a user first sees it; on Analyse, with a photo uploaded (the models load only for one)."""
    at = open_page(page)
    if page == "analyse.py" and not at.exception:
        at.toggle(key="analyse_remove_bg").set_value(False)
        at.file_uploader(key="analyse_upload").set_value(("look.png", photo_png(), "image/png"))
        at.run()
    return at


def other_run_shows(at, page: str) -> bool:
    """One cheap marker per page that the undamaged run (demo-nobg) is still shown."""
    if page == "overview.py":
        return {m.label: m.value for m in at.metric}.get("Images") == "32"
    if page == "brand.py":  # one run at a time: pick the other one
        at.radio(key="brand_variant").set_value("nobg").run()
        return not at.exception and "Most confused brand" in {s.value for s in at.subheader}
    if page == "analyse.py":  # the other run's model answered
        return any(OTHER in m.label for m in at.metric)
    return f"{OTHER}," in texts(at)  # the run's label, "background removed (demo-nobg, attention-pool)"


def test_every_damage_in_the_table_is_built():
    check_covered("artifacts", BUILDERS)


@pytest.mark.parametrize("case", cases("artifacts"), ids=lambda case: case.id)
def test_a_damaged_artifact_costs_its_run_a_message_not_the_page(damaged, use_workspace, open_page, case):
    use_workspace(damaged(case.id))
    damage = BUILDERS[case.id]
    problems = []
    for page, _, _ in PAGES:
        at = load(open_page, page)
        if at.exception:
            problems.append(f"{page}: exception {[e.value for e in at.exception]}")
            continue
        said = alerts(at)
        if any("Traceback" in text for text in said):
            problems.append(f"{page}: a traceback in {said}")
        named = [text for text in said if case.message in text and RUN in text]
        if page in damage.pages and not named:
            problems.append(f"{page}: no message with “{case.message}” naming {RUN}: {said}")
        if not other_run_shows(at, page):
            problems.append(f"{page}: {OTHER} is not shown: {[e.value for e in at.exception]} {alerts(at)}")
    assert not problems, "\n".join(problems)
