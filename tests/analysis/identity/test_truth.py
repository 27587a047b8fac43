"""Counterfactual truth: the zone edits' renders, and the per-look and per-house effects."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest

from analysis.identity import ZONES
from analysis.identity.truth import (
    edit_effects,
    house_truth,
    look_zone_effects,
    top_of,
    zone_edit,
    zone_table,
)
from core.config import IdentitySettings
from data.demo.counterfactuals import EDITS, ORIGINAL, ZONE_EDITS, render_counterfactuals
from data.demo.generate import DemoParams, plan_looks
from data.demo.houses import ZONE_LABELS

PARAMS = DemoParams(houses=2, per_house=4, width=64, height=96, background_informativeness=0.7, seasonal_drift=0.3,
                    seed=7, signature_strength=1.0)
CLASSES = ["Linea Vastra", "Ombrelune"]
SCORED = (*EDITS, *ZONE_EDITS)


def test_a_zone_edit_changes_its_zone_and_nothing_else():
    changed_any = set()
    for spec in plan_looks(PARAMS)[:4]:
        renders = render_counterfactuals(spec, PARAMS, (ORIGINAL, *ZONE_EDITS, "basic:head", "twin:head"))
        original = renders[ORIGINAL]
        for edit in ZONE_EDITS:
            render, zone = renders[edit], edit.partition("@")[2]
            label = ZONE_LABELS[zone]
            inside = ((original.zones == label) | (render.zones == label)).astype(np.uint8)
            near = cv2.dilate(inside, np.ones((7, 7), np.uint8)) > 0  # the lens blur carries an edge a few pixels
            changed = np.any(render.image != original.image, axis=2)
            assert not (changed & ~near).any(), f"{edit} changed pixels outside the {zone}"
            assert np.array_equal(render.zones[~near], original.zones[~near])
            assert render.changed_zones == (zone,)
            if changed.any():
                changed_any.add(edit)
        # the head carries one cue, so its zone edit is that cue's edit
        assert np.array_equal(renders["basic@head"].image, renders["basic:head"].image)
        assert np.array_equal(renders["twin@head"].image, renders["twin:head"].image)
    assert {"basic@torso", "basic@legs", "twin@torso", "twin@legs"} <= changed_any


def test_a_bad_zone_edit_name_is_refused():
    with pytest.raises(ValueError, match="unknown counterfactual edit 'basic@background'"):
        render_counterfactuals(plan_looks(PARAMS)[0], PARAMS, ("basic@background",))


def scores_for(looks: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    """A hand-made counterfactual score table: log-probabilities per look and edit (unlisted: the original's)."""
    rows = []
    for path, by_edit in looks.items():
        brand = "Ombrelune" if "omb" in path else "Linea Vastra"
        for edit in (ORIGINAL, *SCORED):
            rows.append([path, brand, edit, *by_edit.get(edit, by_edit[ORIGINAL])])
    return pd.DataFrame(rows, columns=["path", "brand", "edit", *(f"logp_{c}" for c in CLASSES)])


def test_each_zone_is_its_own_edit_and_reliance_is_a_drop_in_evidence():
    log = np.log
    looks = {"omb-1": {ORIGINAL: [log(0.2), log(0.8)], "basic:fabric": [log(0.4), log(0.6)],
                       "basic@torso": [log(0.3), log(0.7)], "basic@legs": [log(0.5), log(0.5)],
                       "basic@feet": [log(0.6), log(0.4)], "twin@feet": [log(0.7), log(0.3)],
                       "twin@legs": [log(0.4), log(0.6)], "venue": [log(0.3), log(0.7)]}}
    effects = edit_effects(scores_for(looks), CLASSES)
    by_edit = effects.set_index("edit")
    # evidence: log p(house) minus the other classes' mean log p, the log-odds with two classes
    assert by_edit.loc["basic@feet", "drop"] == pytest.approx(log(0.8 / 0.2) - log(0.4 / 0.6))
    assert by_edit.loc["basic@head", "drop"] == 0.0  # an unchanged render scores as the original
    # contrast: the gap log p(house) − log p(twin) before minus after
    assert by_edit.loc["twin@feet", "contrast_drop"] == pytest.approx(log(0.8 / 0.2) - log(0.3 / 0.7))

    zones = look_zone_effects(effects)
    reliance = zones[zones["question"] == "reliance"].set_index("zone")["effect"]
    for zone in ZONES:  # no sharing rule: each zone's effect is exactly its own edit's
        assert reliance[zone] == pytest.approx(by_edit.loc[zone_edit("reliance", zone), "drop"])
    assert reliance["legs"] > reliance["torso"] > 0 and reliance["head"] == 0.0
    assert reliance["background"] == pytest.approx(by_edit.loc["venue", "drop"])
    contrastive = zones[zones["question"] == "contrastive"].set_index("zone")["effect"]
    assert contrastive.idxmax() == "feet"
    assert contrastive["legs"] == pytest.approx(by_edit.loc["twin@legs", "contrast_drop"])


def test_evidence_does_not_saturate_where_log_p_does():
    log = np.log
    # a sure model: hiding the legs moves p(house) from 0.99999 to 0.999, which log p calls nothing
    looks = {"omb-1": {ORIGINAL: [log(1e-5), log(1 - 1e-5)], "basic@legs": [log(1e-3), log(1 - 1e-3)],
                       "basic@torso": [log(1e-4), log(1 - 1e-4)]}}
    by_edit = edit_effects(scores_for(looks), CLASSES).set_index("edit")
    assert abs(log(1 - 1e-5) - log(1 - 1e-3)) < 0.001
    assert by_edit.loc["basic@legs", "drop"] == pytest.approx(log((1 - 1e-5) / 1e-5) - log((1 - 1e-3) / 1e-3))
    assert by_edit.loc["basic@legs", "drop"] > by_edit.loc["basic@torso", "drop"] > 1.0


def test_per_house_top_zones_and_intervals():
    log = np.log
    looks = {
        f"omb-{i}": {ORIGINAL: [log(0.1), log(0.9)], "basic:feet": [log(0.5 + 0.05 * i), log(0.5 - 0.05 * i)],
                     "basic@feet": [log(0.5 + 0.05 * i), log(0.5 - 0.05 * i)],
                     "basic:fabric": [log(0.2), log(0.8)], "basic@torso": [log(0.2), log(0.8)],
                     "twin:head": [log(0.3), log(0.7)], "twin@head": [log(0.3), log(0.7)]}
        for i in range(4)
    } | {
        f"lin-{i}": {ORIGINAL: [log(0.9), log(0.1)], "venue": [log(0.8), log(0.2)],
                     "twin:fabric": [log(0.4 + 0.02 * i), log(0.6 - 0.02 * i)],
                     "twin@torso": [log(0.5 + 0.02 * i), log(0.5 - 0.02 * i)],
                     "twin@legs": [log(0.45 + 0.02 * i), log(0.55 - 0.02 * i)]}
        for i in range(4)
    }
    effects = edit_effects(scores_for(looks), CLASSES)
    zones = look_zone_effects(effects)
    houses = house_truth(effects, zones, IdentitySettings(bootstrap_resamples=200))
    assert houses["Ombrelune"]["twin"] == "Linea Vastra" and houses["Ombrelune"]["n_looks"] == 4
    assert houses["Ombrelune"]["reliance"]["top_zone"] == "feet"
    assert houses["Ombrelune"]["reliance"]["top_edit"] == "basic:feet"
    assert houses["Ombrelune"]["contrastive"]["top_zone"] == "head"
    assert houses["Linea Vastra"]["reliance"]["top_zone"] == "background"
    assert houses["Linea Vastra"]["contrastive"]["top_zone"] == "legs"
    stat = houses["Ombrelune"]["reliance"]["zones"]["feet"]
    assert stat["ci_low"] <= stat["mean"] <= stat["ci_high"] and stat["n"] == 4
    table = zone_table(zones, "reliance")
    assert table.loc["Ombrelune"].idxmax() == "feet" and list(table.columns) == list(ZONES)


def test_without_the_twin_among_the_classes_the_contrast_is_unknown():
    looks = {"omb-1": {ORIGINAL: [np.log(0.2), np.log(0.8)], "twin:feet": [np.log(0.5), np.log(0.5)]}}
    scores = scores_for(looks).drop(columns="logp_Linea Vastra")
    effects = edit_effects(scores, ["Ombrelune"])
    assert effects["contrast_drop"].isna().all() and effects["drop"].notna().all()
    zones = look_zone_effects(effects)
    assert zones.loc[zones["question"] == "contrastive", "effect"].isna().all()


def test_top_of_ignores_missing_values():
    assert top_of({"head": None, "feet": 0.2, "legs": float("nan"), "torso": 0.1}) == "feet"
    assert top_of({"head": None}) is None


def test_evidence_leaves_out_the_class_a_swap_pushed():
    from scipy.special import log_softmax

    from analysis.identity.context import evidence

    before = log_softmax(np.array([2.0, 0.0, 0.0, 0.0]))
    after = log_softmax(np.array([2.0, 3.0, 0.0, 0.0]))  # the donor's house pushed up, the target's logit as it was
    assert evidence(before, 0, pushed=1) == pytest.approx(evidence(after, 0, pushed=1))
    assert evidence(before, 0) - evidence(after, 0) == pytest.approx(1.0)  # a third of the push, counted as a loss
    assert evidence(before, 0) == pytest.approx(2.0)  # the target's logit against the other classes' mean
