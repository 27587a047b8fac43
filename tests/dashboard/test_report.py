"""The exported brand report: its content, its CLI, and that it renders in a real (headless) browser."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.brand.distinctiveness import compute_for_run
from analysis.brand.runfolder import load_run
from dashboard.report import build_report, example_looks, main, print_pdf

BRANDS = ["Rick Owens", "Chanel", "Versace"]
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def report_run(run_kit, workspace):
    looks = run_kit.make_looks(BRANDS, 8, years=(2015, 2016), photos_dir=workspace / "photos")
    truth = np.array([BRANDS.index(b) for b in looks["brand"]])
    rng = np.random.default_rng(2)
    embeddings = 2 * np.eye(12)[truth] + rng.normal(size=(len(truth), 12))
    predicted = truth.copy()
    predicted[[1, 2, 9]] = [1, 1, 2]  # Rick Owens taken twice for Chanel
    run_kit.write_run(workspace, "rep-raw", looks, BRANDS, predicted, embeddings, attention=True)
    return looks


def test_report_holds_every_section(report_run, settings):
    page = build_report("rep-raw", "rick-owens", settings)  # any spelling of the house
    assert page.startswith("<!DOCTYPE html>") and "<title>Rick Owens · Runway Lens report</title>" in page
    for anchor in ("index", "confusion", "heatmaps", "body-zones", "examples", "method"):
        assert f"id='{anchor}'" in page, anchor
    assert "Distinctiveness index = 100 × (0.30·R" in page
    assert "Most often mistaken for <b>Chanel</b> (25% of its test looks)" in page
    assert page.count("src='data:image/png;base64,") == 4 + 2 * 4  # 4 heat maps; 4 examples, each with its attention
    assert "<script" in page and not re.search(r"<script[^>]*\bsrc=", page)  # plotly.js inline: opens offline
    confusion = re.search(r"<table id='confusion-row'>(.*?)</table>", page).group(1)
    assert "<td>Rick Owens</td><td>6</td><td>75%</td>" in confusion and "<td>Chanel</td><td>2</td>" in confusion
    assert "<td>legs</td><td>45.0%</td><td>43.0%–48.0%</td>" in page


def test_the_report_brackets_recall_and_warns_of_an_incomplete_test_set(report_run, settings, workspace):
    page = build_report("rep-raw", "Rick Owens", settings)
    assert "<b id='recall'>0.750 [0.409, 0.929]</b>" in page  # 6 of 8 test looks, 95% Wilson interval
    assert "id='test-set-warning'" not in page
    metrics_path = workspace / "runs" / "rep-raw" / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics["per_class"] = {"Rick Owens": {"support": 8}, "Chanel": {"support": 8}, "Versace": {"support": 0}}
    metrics_path.write_text(json.dumps(metrics))
    page = build_report("rep-raw", "Rick Owens", settings)
    assert "id='test-set-warning'" in page and "no test photos of Versace" in page


def test_examples_show_recognised_looks_then_mistakes(report_run, settings):
    chosen = example_looks(load_run("rep-raw", settings), "Rick Owens", 4)
    assert list(chosen["predicted"]) == ["Rick Owens", "Rick Owens", "Chanel", "Chanel"]


def test_report_cli_writes_html_and_reports_errors(report_run, settings, workspace, capsys):
    assert main(["--run", "rep-raw", "--brand", "Chanel"]) == 0
    out = workspace / "runs" / "rep-raw" / "reports" / "chanel.html"
    assert out.is_file() and "<h1>Chanel</h1>" in out.read_text()
    assert main(["--run", "rep-raw", "--brand", "Prada"]) == 1
    assert "error: brand 'Prada' is not one of this run's houses" in capsys.readouterr().err
    assert main(["--run", "nope", "--brand", "Chanel"]) == 1
    assert "error:" in capsys.readouterr().err
    assert main(["--run", "rep-raw", "--brand", "Chanel", "--out", str(workspace / "x.pdf")]) == 1


def test_report_without_attention_or_photos_still_renders(run_kit, workspace, settings):
    looks = run_kit.make_looks(BRANDS, 4)  # photo paths that do not exist
    truth = np.array([BRANDS.index(b) for b in looks["brand"]])
    run_kit.write_run(workspace, "plain", looks, BRANDS, truth, np.eye(3)[truth] + 0.1)
    page = build_report("plain", "Versace", settings)
    assert "has no attention/sums.npz" in page
    assert "python -m analysis attention --run plain" in page
    assert "photo(s) could not be read" in page


def test_a_truncated_attention_archive_costs_its_section_not_the_report(run_kit, workspace, settings):
    looks = run_kit.make_looks(BRANDS, 4)
    truth = np.array([BRANDS.index(b) for b in looks["brand"]])
    run_dir = run_kit.write_run(workspace, "cut", looks, BRANDS, truth, np.eye(3)[truth] + 0.1)
    sums = Path(run_dir) / "attention" / "sums.npz"
    sums.parent.mkdir(exist_ok=True)
    np.savez(sums, by_true_native=np.ones((3, 2, 2)))
    sums.write_bytes(sums.read_bytes()[:40])
    page = build_report("cut", "Versace", settings)
    assert "sums.npz is damaged" in page and "python -m model evaluate --run cut" in page


def test_report_charts_have_no_modebar(report_run, settings):
    """Plotly's toolbar is switched off in every chart, so the printed PDF does not carry it over each one."""
    page = build_report("rep-raw", "Rick Owens", settings)
    charts = re.findall(r'<div class="figure" data-figure="([^"]+)">(.*?)</script>', page, re.S)
    assert [name for name, _ in charts] == ["index", "confusion", "body-zones"]
    for name, chart in charts:
        assert re.search(r'Plotly\.newPlot\(.*"displayModeBar": false', chart, re.S), name


def test_user_strings_are_escaped(run_kit, workspace, settings):
    """Brand, run and file names land in the page as text, never as markup or script."""
    hostile = "<img src=x onerror=alert('brand')> & \"Co\""
    brands = ["Chanel", hostile, "Versace"]
    looks = run_kit.make_looks(brands, 4)  # photo paths (with the brand in them) that do not exist
    truth = np.array([brands.index(b) for b in looks["brand"]])
    run_dir = run_kit.write_run(workspace, "run<i>", looks, brands, truth, np.eye(3)[truth] + 0.1)
    page = build_report(run_dir, hostile, settings)
    assert "<img src=x" not in page and "<i>" not in page  # not even inside the charts' data
    escaped = "&lt;img src=x onerror=alert(&#39;brand&#39;)&gt; &amp; &#34;Co&#34;"
    assert f"<title>{escaped} · Runway Lens report</title>" in page and f"<h1>{escaped}</h1>" in page
    assert f"<td>{escaped}</td><td>4</td><td>100%</td>" in page
    assert "run <b>run&lt;i&gt;</b>" in page
    assert f"<p>No photo of {escaped} could be shown.</p>" in page


def _browser_or_skip() -> None:
    missing = [p for p in (shutil.which("chromium"), CHROMEDRIVER if Path(CHROMEDRIVER).exists() else None) if not p]
    if missing:
        reason = "Debian's chromium and chromedriver are not installed (/usr/bin/chromium, /usr/bin/chromedriver)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must have them")
        pytest.skip(reason)


@pytest.mark.browser
def test_report_renders_in_headless_chromium(report_run, settings, workspace, tmp_path):
    _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    run = load_run("rep-raw", settings)
    html_path = tmp_path / "report.html"
    html_path.write_text(build_report(run.directory, "Rick Owens", settings), encoding="utf-8")

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(html_path.as_uri())
        figures = driver.find_elements("css selector", "div[data-figure]")
        assert len(figures) == 3  # index, confusion row, body zones
        WebDriverWait(driver, 20).until(
            lambda d: d.execute_script("return document.querySelectorAll('div[data-figure] .main-svg').length") >= 3
        )
        drawn = driver.execute_script(
            "return [...document.querySelectorAll('div[data-figure]')].map(f => f.querySelectorAll('.bars .point').length)"
        )
        assert drawn == [3, 3, 4]  # bars actually drawn: 3 brands, 3 predicted houses, 4 body zones
        assert driver.title == "Rick Owens · Runway Lens report"
        expected = pd.DataFrame(compute_for_run(run, settings)["brands"]).set_index("brand").loc["Rick Owens", "index"]
        assert driver.find_element("id", "index-value").text == f"{expected:.1f}"
        assert "Distinctiveness index = 100" in driver.find_element("id", "formula").text
        widths = driver.execute_script("return [...document.images].map(i => i.complete ? i.naturalWidth : 0)")
        assert len(widths) == 12 and min(widths) > 0  # every inline PNG decoded
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"] if hasattr(driver, "get_log") else []
        assert not errors, errors
    finally:
        driver.quit()


@pytest.mark.browser
def test_report_prints_to_pdf(report_run, settings, tmp_path):
    _browser_or_skip()
    html_path = tmp_path / "report.html"
    html_path.write_text(build_report("rep-raw", "Versace", settings), encoding="utf-8")
    pdf = print_pdf(html_path, tmp_path / "report.pdf", settings)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
