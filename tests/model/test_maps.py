"""Attention map statistics, upsampling and overlays against known answers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from model.maps import attention_stats, colorize, normalise, overlay, upsample


def test_stats_of_uniform_and_peaked_maps():
    uniform = np.full((4, 5), 1 / 20)
    peaked = np.zeros((4, 5))
    peaked[3, 1] = 1.0
    stats = attention_stats(np.stack([uniform, peaked]))
    assert stats["attention_entropy"][0] == pytest.approx(np.log(20))
    assert stats["attention_entropy"][1] == pytest.approx(0.0, abs=1e-12)
    assert stats["attention_max"].tolist() == pytest.approx([0.05, 1.0])
    assert (stats["attention_peak_row"][1], stats["attention_peak_col"][1]) == (3, 1)


def test_upsampling_is_linear_so_sums_can_be_upsampled():
    rng = np.random.default_rng(0)
    maps = rng.random((5, 7, 7)).astype(np.float32)
    np.testing.assert_allclose(upsample(maps, (56, 56)).sum(axis=0), upsample(maps.sum(axis=0), (56, 56)), rtol=1e-5)
    assert upsample(maps[0], (30, 20)).shape == (30, 20)
    constant = upsample(np.full((7, 7), 0.25, np.float32), (49, 49))
    np.testing.assert_allclose(constant, 0.25)  # values per cell are kept, not renormalised


def test_overlay_blends_heat_over_the_photo_at_its_size():
    photo = Image.new("RGB", (40, 60), (10, 20, 30))
    attention = np.zeros((4, 4), np.float32)
    attention[0, 0] = 1.0
    blended = np.asarray(overlay(photo, attention, opacity=0.5, colormap="jet")).astype(int)
    assert blended.shape == (60, 40, 3)
    heat = colorize(normalise(upsample(attention, (60, 40))), "jet").astype(int)
    np.testing.assert_allclose(blended, (np.asarray(photo).astype(int) + heat) / 2, atol=1)
    assert normalise(np.ones((3, 3))).max() == 0.0  # a flat map has no hot spot
    with pytest.raises(ValueError, match="unknown colormap"):
        colorize(np.zeros((2, 2)), "rainbowish")
