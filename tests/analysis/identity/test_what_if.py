"""The Analyse page's "what if": an uploaded photo's zones from its figure mask, each repainted in turn."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.identity import ZONES, IdentityError
from analysis.identity.what_if import answers_when_hidden, hidden_zone_inputs, photo_zones
from core.config import AttentionSettings

ATTENTION = AttentionSettings()


def standing_figure(height: int = 400, width: int = 200) -> np.ndarray:
    """A figure filling rows 40..359 of the middle half of the photo."""
    mask = np.zeros((height, width), np.float32)
    mask[40:360, 50:150] = 1.0
    return mask


def test_zones_partition_the_input_and_follow_the_figure_bands():
    zones = photo_zones(standing_figure(), 40, ATTENTION)
    assert zones.shape == (5, 40, 40)
    np.testing.assert_allclose(zones.sum(axis=0), 1.0, atol=1e-5)
    # The figure spans rows 4..35 of 40; the head band is its top 13%, the feet its bottom 10%.
    head, feet, background = zones[ZONES.index("head")], zones[ZONES.index("feet")], zones[ZONES.index("background")]
    assert head[5, 20] == pytest.approx(1.0) and head[30, 20] == pytest.approx(0.0)
    assert feet[34, 20] == pytest.approx(1.0) and feet[10, 20] == pytest.approx(0.0)
    assert background[20, 2] == pytest.approx(1.0) and background[20, 20] == pytest.approx(0.0)
    shares = zones.reshape(5, -1).sum(axis=1) / (zones[:4].sum())
    assert shares[ZONES.index("legs")] == pytest.approx(0.45, abs=0.03)


def test_hiding_a_zone_changes_that_zone_only():
    size = 40
    zones = photo_zones(standing_figure(), size, ATTENTION)
    rng = np.random.default_rng(0)
    photo = np.full((size, size, 3), 200, np.uint8)
    photo[4:36, 10:30] = rng.integers(0, 60, (32, 20, 3))  # a dark, textured figure on a light backdrop
    hidden = hidden_zone_inputs(photo, zones, ATTENTION)
    assert hidden.shape == (5, size, size, 3) and hidden.dtype == np.uint8
    for index, zone in enumerate(ZONES):
        changed = np.abs(hidden[index].astype(int) - photo.astype(int)).sum(axis=2) > 0
        outside = zones[index] < 1e-6
        assert not changed[outside].any(), f"hiding the {zone} changed pixels outside it"
        assert changed[zones[index] > 0.99].mean() > 0.5, f"hiding the {zone} left it as it was"


def test_a_photo_without_a_figure_has_no_zones_to_hide():
    with pytest.raises(IdentityError, match="no figure was found"):
        photo_zones(np.zeros((100, 60), np.float32), 32, ATTENTION)


def test_answers_say_which_zone_flips_the_prediction():
    original = {"Ombrelune": 0.7, "Linea Vastra": 0.3}
    hidden = [{"Ombrelune": 0.6, "Linea Vastra": 0.4}, {"Ombrelune": 0.7, "Linea Vastra": 0.3},
              {"Ombrelune": 0.65, "Linea Vastra": 0.35}, {"Ombrelune": 0.2, "Linea Vastra": 0.8},
              {"Ombrelune": 0.75, "Linea Vastra": 0.25}]
    rows = answers_when_hidden(original, hidden)
    assert [row["zone"] for row in rows] == list(ZONES)
    feet = rows[ZONES.index("feet")]
    assert feet["flipped"] and feet["top_house"] == "Linea Vastra" and feet["change"] == pytest.approx(-0.5)
    assert [row["flipped"] for row in rows] == [False, False, False, True, False]
