"""`python -m dashboard.report` on damaged runs and bad arguments: one line or one section, never a traceback.

Each row of tests/bad_inputs.py's "report" table: a good report is written first, then one file of the run is
damaged (or the arguments are bad) and the CLI (`main`) runs again. Where the report cannot be built it exits 1
with one `error:` line naming the file, and the earlier report is unchanged; where only a section depends on the
damaged file, it exits 0 and the page carries the message in that section's place.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.report import main
from tests.bad_inputs import cases, check_covered
from tests.damage import cut, replace, save_array

REPO_ROOT = Path(__file__).resolve().parents[2]
BRANDS = ["Rick Owens", "Chanel", "Versace"]
RUN, BRAND = "rep-raw", "Chanel"
HOSTILE = "<script>alert('house')</script> & Co"


def maps_of(run: Path) -> np.ndarray:
    return np.load(run / "attention" / "maps.npy")


def damaging(change: Callable[[Path], None]) -> Callable:
    """A builder that damages one file of the run and asks for the same report again."""

    def build(run: Path, kit, workspace: Path) -> list[str]:
        change(run)
        return ["--run", RUN, "--brand", BRAND]

    return build


def hostile_house(run: Path, kit, workspace: Path) -> list[str]:
    """Another run whose second house is named with markup and script in it."""
    brands = ["Chanel", HOSTILE, "Versace"]
    looks = kit.make_looks(brands, 4)
    truth = np.array([brands.index(b) for b in looks["brand"]])
    kit.write_run(workspace, "hostile", looks, brands, truth, np.eye(3)[truth] + 0.1)
    return ["--run", "hostile", "--brand", HOSTILE, "--out", str(run / "reports" / "chanel.html")]


# Each row of tests/bad_inputs.py's "report" table, built by its id: (run folder, run_kit, workspace) -> CLI args.
BUILDERS: dict[str, Callable] = {
    "maps-truncated": damaging(lambda run: cut(run / "attention" / "maps.npy")),
    "maps-2d": damaging(lambda run: save_array(run / "attention" / "maps.npy",
                                               maps_of(run).reshape(len(maps_of(run)), -1))),
    "maps-short": damaging(lambda run: save_array(run / "attention" / "maps.npy", maps_of(run)[:-3])),
    "confusion-empty": damaging(lambda run: replace(run / "confusion.csv", b"")),
    "confusion-truncated": damaging(lambda run: cut(run / "confusion.csv", 0.6)),
    "sums-truncated": damaging(lambda run: cut(run / "attention" / "sums.npz")),
    "identity-truncated": damaging(lambda run: replace(run / "identity.json", b'{"profile": {"Chanel": {"ef')),
    "analytics-truncated": damaging(lambda run: replace(run / "brand_analytics.json", b'{"run": "rep-raw", "ind')),
    "metrics-truncated": damaging(lambda run: cut(run / "metrics.json")),
    "config-truncated": damaging(lambda run: cut(run / "config.json")),
    "predictions-columns": damaging(lambda run: replace(
        run / "predictions.csv", pd.read_csv(run / "predictions.csv").drop(columns="predicted").to_csv(index=False).encode())),
    "embeddings-short": damaging(lambda run: save_array(run / "embeddings.npy", np.load(run / "embeddings.npy")[:-1])),
    "missing-run": lambda run, kit, workspace: ["--run", "nope", "--brand", BRAND],
    "unknown-brand": lambda run, kit, workspace: ["--run", RUN, "--brand", "Prada"],
    "out-not-html": lambda run, kit, workspace: ["--run", RUN, "--brand", BRAND, "--out", str(workspace / "r.pdf")],
    "hostile-brand": hostile_house,
}


@pytest.fixture
def good_report(run_kit, workspace, capsys) -> tuple[Path, Path, bytes]:
    """A run with attention and photos, and the report the CLI wrote for it: (run folder, report, its bytes)."""
    looks = run_kit.make_looks(BRANDS, 6, years=(2015, 2016), photos_dir=workspace / "photos")
    truth = np.array([BRANDS.index(b) for b in looks["brand"]])
    embeddings = 2 * np.eye(12)[truth] + np.random.default_rng(2).normal(size=(len(truth), 12))
    run = run_kit.write_run(workspace, RUN, looks, BRANDS, truth, embeddings, attention=True)
    assert main(["--run", RUN, "--brand", BRAND]) == 0
    capsys.readouterr()
    report = Path(run) / "reports" / "chanel.html"
    return Path(run), report, report.read_bytes()


def test_every_bad_report_input_in_the_table_is_built():
    check_covered("report", BUILDERS)


@pytest.mark.parametrize("case", cases("report"), ids=lambda case: case.id)
def test_a_damaged_run_costs_the_report_a_section_or_one_line(good_report, run_kit, workspace, capsys, case):
    run, report, earlier = good_report
    args = BUILDERS[case.id](run, run_kit, workspace)
    code = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if case.outcome.startswith("exit 1"):
        assert code == 1 and not out, (code, out)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and case.message in lines[0], err
        assert report.read_bytes() == earlier  # the earlier report is unchanged
    else:
        assert code == 0 and not err, (code, err)
        page = report.read_text(encoding="utf-8")
        assert "<h2 id='examples'>" in page and "<h2 id='method'>" in page  # the rest of the report is there
        if case.quoted:
            assert case.message in html.unescape(page)
        else:  # the hostile name is shown as text, never as markup
            assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;house&#39;)&lt;/script&gt; &amp; Co" in page


def test_the_report_names_a_damaged_analytics_file_and_computes_the_index_itself(good_report, workspace):
    run, report, _ = good_report
    (run / "brand_analytics.json").write_text(json.dumps([1, 2]))
    assert main(["--run", RUN, "--brand", BRAND]) == 0
    page = html.unescape(report.read_text(encoding="utf-8"))
    assert "computed for this report (" in page and "brand_analytics.json should hold a JSON object" in page


def test_the_command_line_itself_on_a_2d_maps_file_and_an_empty_confusion_csv(good_report, workspace):
    """The real `python -m dashboard.report` process: both files damaged at once, exit 0, no traceback."""
    run, report, _ = good_report
    save_array(run / "attention" / "maps.npy", maps_of(run).reshape(len(maps_of(run)), -1))
    replace(run / "confusion.csv", b"")
    done = subprocess.run([sys.executable, "-m", "dashboard.report", "--run", RUN, "--brand", BRAND],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "RUNWAY_LENS_WORKSPACE": str(workspace)})
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    page = html.unescape(report.read_text(encoding="utf-8"))
    assert "expected (photos, height, width)" in page and "confusion.csv is not a readable CSV" in page
