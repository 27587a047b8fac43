"""What the demo is for: houses are separable from the figure as much as the signature strength says,
venues leak the house as much as the background informativeness says, and seasonal drift moves the
garments, and nothing else, over the years."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_score

from data.demo.draw import CUES, sample_theme
from data.demo.generate import DemoParams, compose, look_for, looks_row, plan_looks
from data.demo.houses import HOUSES
from data.demo.venues import VENUES

CHANCE = 1 / len(HOUSES)


def params(**changes) -> DemoParams:
    base = dict(houses=6, per_house=24, width=96, height=144, background_informativeness=0.7, seasonal_drift=0.0, seed=11)
    return DemoParams(**{**base, **changes})


def colour_histogram(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A normalised 4x4x4 HSV histogram of the masked pixels."""
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], mask.astype(np.uint8), [4, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
    return hist / max(hist.sum(), 1.0)


def features(p: DemoParams, region: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Histograms of the figure or the background of every look, with house labels and collection groups."""
    rows, labels, groups = [], [], []
    for spec in plan_looks(p):
        image, zones, _ = compose(spec, p)
        rows.append(colour_histogram(image, zones > 0 if region == "figure" else zones == 0))
        labels.append(spec.collection.house_index)
        groups.append(f"{spec.collection.house.slug}/{spec.collection.collection_id}")
    return np.array(rows), np.array(labels), np.array(groups)


def accuracy(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    # held-out collections: a venue seen in training must not identify its own collection
    model = LogisticRegression(C=10.0, max_iter=2000)
    return float(cross_val_score(model, x, y, groups=groups, cv=GroupKFold(n_splits=4)).mean())


def figure_accuracy(p: DemoParams) -> float:
    x, y, _ = features(p, "figure")
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    return float(cross_val_score(LogisticRegression(C=10.0, max_iter=2000), x, y, cv=cv).mean())


def test_figure_colours_separate_the_houses_as_far_as_signatures_are_shown():
    # venues drawn uniformly (p=0), so their lighting cannot tell the house either
    full = figure_accuracy(params(signature_strength=1.0, background_informativeness=0.0))
    none = figure_accuracy(params(signature_strength=0.0, background_informativeness=0.0))
    assert full > 0.7, f"figure-colour accuracy {full:.2f} vs chance {CHANCE:.2f}"
    assert none < 0.35, f"basic looks only, yet accuracy {none:.2f} vs chance {CHANCE:.2f}"


def test_signature_strength_changes_which_cues_show_and_nothing_else():
    strong, weak = params(signature_strength=1.0), params(signature_strength=0.5)
    specs = plan_looks(weak)
    rows = [looks_row(spec, weak) for spec in specs]
    shown = np.array([[row[f"shows_{cue}"] for cue in CUES] for row in rows])
    assert shown.mean() == pytest.approx(0.5, abs=0.06)  # 144 looks x 4 cues
    for spec in specs[:24]:
        a, b = look_for(spec, strong), look_for(spec, weak)
        assert all(a.cues) and (a.pose, a.skin, a.hair) == (b.pose, b.skin, b.hair)
        assert (b.head == a.head) == (b.cues[2] or a.head == "none")
        assert (b.feet == a.feet) == b.cues[3]


def test_background_informativeness_controls_how_much_the_venue_tells():
    informative = accuracy(*features(params(background_informativeness=1.0), "background"))
    uninformative = accuracy(*features(params(background_informativeness=0.0), "background"))
    assert informative > 0.5, informative
    assert uninformative < 0.35, uninformative
    assert informative - uninformative > 0.25


@pytest.mark.parametrize("p, expected", [(1.0, 1.0), (0.0, 2 / len(VENUES)), (0.5, 0.5 + 0.5 * 2 / len(VENUES))])
def test_share_of_collections_at_a_preferred_venue_follows_the_documented_rule(p, expected):
    collections = {
        (seed, spec.collection.house_index, spec.collection.slot): spec.collection.venue_preferred
        for seed in range(12)
        for spec in plan_looks(params(per_house=12, background_informativeness=p, seed=seed))
    }
    share = float(np.mean(list(collections.values())))
    assert len(collections) == 12 * 6 * 12
    assert share == pytest.approx(expected, abs=0.05)


def test_without_drift_every_year_draws_the_same_collection_themes():
    for house in HOUSES:
        for seed in range(3):
            first = sample_theme(house, 2015, 0.0, (2015, 2020), np.random.default_rng(seed))
            last = sample_theme(house, 2020, 0.0, (2015, 2020), np.random.default_rng(seed))
            assert first == last


def test_drift_moves_only_the_garments_and_only_after_the_first_year():
    still, drifting = params(per_house=12, width=192, height=288), params(per_house=12, width=192, height=288, seasonal_drift=1.0)
    moved_houses = set()
    for spec in plan_looks(still):
        before, zones, _ = compose(spec, still)
        after, zones_after, _ = compose(spec, drifting)
        np.testing.assert_array_equal(zones, zones_after)  # same figure, same pose
        changed = np.any(before != after, axis=2)
        assert not changed[zones == 0].any()  # same venue
        if spec.collection.year == 2015:
            assert not changed.any()
        elif spec.collection.year == 2020 and changed[zones > 0].mean() > 0.2:
            moved_houses.add(spec.collection.house.name)
    assert moved_houses == {h.name for h in HOUSES if h.drift_hue or h.drift_value or h.drift_scale}
