"""Counterfactual truth: where an edit's effect goes (zone weights), and the per-look and per-house effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.identity import ZONES
from analysis.identity.truth import (
    RELIANCE_EDITS,
    changed_zone_weights,
    edit_effects,
    house_truth,
    look_zone_effects,
    top_of,
    zone_table,
)
from core.config import IdentitySettings
from data.demo.counterfactuals import EDITS, ORIGINAL, render_counterfactuals
from data.demo.generate import DemoParams, plan_looks

PARAMS = DemoParams(houses=2, per_house=4, width=64, height=96, background_informativeness=0.7, seasonal_drift=0.3,
                    seed=7, signature_strength=1.0)
CLASSES = ["Linea Vastra", "Ombrelune"]


def test_zone_weights_of_real_renders_sit_in_the_edited_zones():
    for spec in plan_looks(PARAMS)[:3]:
        renders = render_counterfactuals(spec, PARAMS, (ORIGINAL, *EDITS))
        original = renders[ORIGINAL]
        for edit, render in renders.items():
            weights = dict(zip(ZONES, changed_zone_weights(original, render), strict=True))
            if edit == ORIGINAL or np.array_equal(render.image, original.image):
                assert sum(weights.values()) == 0
                continue
            assert sum(weights.values()) == pytest.approx(1.0)
            assert {zone for zone, w in weights.items() if w > 0} <= set(render.changed_zones), edit
        assert changed_zone_weights(original, renders["venue"])[ZONES.index("background")] == pytest.approx(1.0)


def scores_for(looks: dict[str, dict[str, list[float]]], weights: dict[str, list[float]]) -> pd.DataFrame:
    """A hand-made counterfactual score table: log-probabilities per look and edit, zone weights per edit."""
    rows = []
    for path, by_edit in looks.items():
        brand = "Ombrelune" if "omb" in path else "Linea Vastra"
        for edit in (ORIGINAL, *EDITS):
            logp = by_edit.get(edit, by_edit[ORIGINAL])
            rows.append([path, brand, edit, *logp, *weights.get(edit, [0.0] * len(ZONES))])
    return pd.DataFrame(rows, columns=["path", "brand", "edit", *(f"logp_{c}" for c in CLASSES),
                                       *(f"w_{z}" for z in ZONES)])


WEIGHTS = {  # head, torso, legs, feet, background
    "basic:fabric": [0, 0.25, 0.75, 0, 0], "basic:cut": [0, 0.5, 0.5, 0, 0], "basic:feet": [0, 0, 0, 1, 0],
    "twin:fabric": [0, 0.5, 0.5, 0, 0], "twin:cut": [0, 0.5, 0.5, 0, 0], "twin:head": [1, 0, 0, 0, 0],
    "twin:feet": [0, 0, 0, 1, 0], "venue": [0, 0, 0, 0, 1],
}  # basic:head left unchanged (all zero): Ombrelune wears nothing on its head


def test_effects_share_each_edit_by_its_pixels_and_sum_per_zone():
    log = np.log
    looks = {"omb-1": {ORIGINAL: [log(0.2), log(0.8)], "basic:fabric": [log(0.4), log(0.6)],
                       "basic:feet": [log(0.6), log(0.4)], "twin:feet": [log(0.7), log(0.3)],
                       "venue": [log(0.3), log(0.7)]}}
    effects = edit_effects(scores_for(looks, WEIGHTS), CLASSES)
    by_edit = effects.set_index("edit")
    assert by_edit.loc["basic:feet", "drop"] == pytest.approx(log(0.8 / 0.4))
    assert by_edit.loc["basic:head", "drop"] == 0.0  # an unchanged render scores as the original
    # contrast: the gap log p(house) − log p(twin) before minus after
    assert by_edit.loc["twin:feet", "contrast_drop"] == pytest.approx(log(0.8 / 0.2) - log(0.3 / 0.7))

    zones = look_zone_effects(effects)
    reliance = zones[zones["question"] == "reliance"].set_index("zone")["effect"]
    fabric = log(0.8 / 0.6)
    assert reliance["torso"] == pytest.approx(0.25 * fabric) and reliance["legs"] == pytest.approx(0.75 * fabric)
    assert reliance["feet"] == pytest.approx(log(2.0)) and reliance["head"] == 0.0
    assert reliance["background"] == pytest.approx(log(0.8 / 0.7))
    # summed over zones, the zone effects are the edits' effects
    assert reliance.sum() == pytest.approx(by_edit.loc[list(RELIANCE_EDITS), "drop"].sum())
    contrastive = zones[zones["question"] == "contrastive"].set_index("zone")["effect"]
    assert contrastive.idxmax() == "feet"


def test_per_house_top_zones_and_intervals():
    log = np.log
    looks = {
        f"omb-{i}": {ORIGINAL: [log(0.1), log(0.9)], "basic:feet": [log(0.5 + 0.05 * i), log(0.5 - 0.05 * i)],
                     "basic:fabric": [log(0.2), log(0.8)], "twin:head": [log(0.3), log(0.7)]}
        for i in range(4)
    } | {
        f"lin-{i}": {ORIGINAL: [log(0.9), log(0.1)], "venue": [log(0.8), log(0.2)],
                     "twin:fabric": [log(0.4 + 0.02 * i), log(0.6 - 0.02 * i)]}
        for i in range(4)
    }
    effects = edit_effects(scores_for(looks, WEIGHTS), CLASSES)
    zones = look_zone_effects(effects)
    houses = house_truth(effects, zones, IdentitySettings(bootstrap_resamples=200))
    assert houses["Ombrelune"]["twin"] == "Linea Vastra" and houses["Ombrelune"]["n_looks"] == 4
    assert houses["Ombrelune"]["reliance"]["top_zone"] == "feet"
    assert houses["Ombrelune"]["reliance"]["top_edit"] == "basic:feet"
    assert houses["Ombrelune"]["contrastive"]["top_zone"] == "head"
    assert houses["Linea Vastra"]["reliance"]["top_zone"] == "background"
    assert houses["Linea Vastra"]["contrastive"]["top_zone"] in ("torso", "legs")
    stat = houses["Ombrelune"]["reliance"]["zones"]["feet"]
    assert stat["ci_low"] <= stat["mean"] <= stat["ci_high"] and stat["n"] == 4
    table = zone_table(zones, "reliance")
    assert table.loc["Ombrelune"].idxmax() == "feet" and list(table.columns) == list(ZONES)


def test_without_the_twin_among_the_classes_the_contrast_is_unknown():
    looks = {"omb-1": {ORIGINAL: [np.log(0.2), np.log(0.8)], "twin:feet": [np.log(0.5), np.log(0.5)]}}
    scores = scores_for(looks, WEIGHTS).drop(columns="logp_Linea Vastra")
    effects = edit_effects(scores, ["Ombrelune"])
    assert effects["contrast_drop"].isna().all() and effects["drop"].notna().all()
    zones = look_zone_effects(effects)
    assert zones.loc[zones["question"] == "contrastive", "effect"].isna().all()


def test_top_of_ignores_missing_values():
    assert top_of({"head": None, "feet": 0.2, "legs": float("nan"), "torso": 0.1}) == "feet"
    assert top_of({"head": None}) is None
