"""Identity over time: drift is 0 for a brand whose years look identical, and grows when a year shifts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.brand import AnalyticsError
from analysis.brand.drift import compute_for_run, period_labels
from analysis.brand.runfolder import load_run

BRANDS = ["Steady", "Shifty"]
YEARS = (2015, 2016, 2020)


@pytest.fixture
def drifting_run(run_kit, workspace):
    """Steady shows the same four looks every year; Shifty's 2020 looks turn 60° away from its earlier ones."""
    rng = np.random.default_rng(5)
    per_brand = 12  # 4 looks per year
    looks = run_kit.make_looks(BRANDS, per_brand, years=YEARS)
    steady_core = rng.normal(size=(4, 32))
    embeddings = np.zeros((len(looks), 32))
    for row, look in looks.iterrows():
        slot = (row % per_brand) // len(YEARS)
        if look["brand"] == "Steady":
            embeddings[row] = steady_core[slot] * (1 + (look["year"] - 2015))  # same directions, any length
        else:
            base = np.eye(32)[0] + 0.05 * rng.normal(size=32)
            turned = np.cos(np.pi / 3) * np.eye(32)[0] + np.sin(np.pi / 3) * np.eye(32)[1] + 0.05 * rng.normal(size=32)
            embeddings[row] = turned if look["year"] == 2020 else base
    predicted = np.array([BRANDS.index(b) for b in looks["brand"]])
    shifty_2020 = looks.index[(looks["brand"] == "Shifty") & (looks["year"] == 2020)]
    predicted[shifty_2020[:2]] = 0  # half of Shifty's 2020 looks are taken for Steady
    run_kit.write_run(workspace, "drifting", looks, BRANDS, predicted, embeddings)
    return looks


def test_drift_is_zero_for_identical_years_and_positive_when_shifted(drifting_run, settings):
    section = compute_for_run(load_run("drifting", settings, need_embeddings=True), settings)
    table = pd.DataFrame(section["table"]).set_index(["brand", "period"])
    for year in YEARS:
        assert table.loc[("Steady", str(year)), "drift"] == pytest.approx(0.0, abs=1e-9)
        assert table.loc[("Steady", str(year)), "accuracy"] == 1.0
        assert table.loc[("Steady", str(year)), "looks"] == 4
    shifted = table.loc[("Shifty", "2020"), "drift"]
    assert shifted > 0.05
    assert shifted > 2 * table.loc[("Shifty", "2015"), "drift"] > 0
    assert table.loc[("Shifty", "2020"), "accuracy"] == pytest.approx(0.5)
    assert table.loc[("Shifty", "2016"), "accuracy"] == 1.0
    # Sampling noise: a random 4 of Shifty's 12 looks drifts too, but less than its real 2020 shift.
    assert bool(table.loc[("Shifty", "2020"), "shifted"])
    assert shifted > table.loc[("Shifty", "2020"), "null_p95"] > 0
    assert not any(table.loc[("Steady", str(year)), "shifted"] for year in YEARS)
    summary = pd.DataFrame(section["summary"]).set_index("brand")
    assert summary.loc["Shifty", "shifted_periods"] >= 1 and summary.loc["Steady", "shifted_periods"] == 0
    assert summary.loc["Shifty", "max_drift_period"] == "2020"
    assert summary.loc["Steady", "max_drift"] == pytest.approx(0.0, abs=1e-9)
    assert summary.loc["Shifty", "accuracy_min"] == pytest.approx(0.5)


def test_drift_by_season_and_min_looks(drifting_run, settings):
    import dataclasses

    strict = settings.replace(analytics=dataclasses.replace(settings.analytics, drift_min_looks=5))
    section = compute_for_run(load_run("drifting", strict, need_embeddings=True), strict, by="season")
    table = pd.DataFrame(section["table"])
    assert set(table["period"]) == {"2015 SS", "2016 SS", "2020 SS"}
    assert table["drift"].isna().all()  # 4 looks per brand-season, fewer than 5: no drift value
    assert table["accuracy"].notna().all()


def test_runs_without_years_are_told_why(run_kit, workspace, settings):
    looks = run_kit.make_looks(BRANDS, 3).drop(columns=["year"])
    run_kit.write_run(workspace, "undated", looks, BRANDS, np.array([0, 0, 0, 1, 1, 1]), np.ones((6, 4)))
    with pytest.raises(AnalyticsError, match="no year"):
        compute_for_run(load_run("undated", settings, need_embeddings=True), settings)
    with pytest.raises(AnalyticsError, match="period must be"):
        period_labels(looks.assign(year=2020), by="decade")
