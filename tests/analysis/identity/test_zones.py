"""A photo's five zones on a grid: exact labels or figure-mask bands, always partitioning the cells."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from analysis.attention import AttentionError
from analysis.attention.masks import to_grid
from analysis.identity import ZONES
from analysis.identity.zones import heat_shares, zone_grid
from core.config import AttentionSettings

SETTINGS = AttentionSettings()


@pytest.fixture
def masks(tmp_path, zone_kit):
    labels = zone_kit.labels()
    Image.fromarray(labels).save(tmp_path / "zones.png")
    Image.fromarray(np.where(labels > 0, 255, 0).astype(np.uint8)).save(tmp_path / "figure.png")
    Image.fromarray(np.zeros_like(labels)).save(tmp_path / "empty.png")
    return tmp_path, labels


@pytest.mark.parametrize("use_labels", [True, False])
def test_zones_partition_every_cell(masks, use_labels):
    folder, labels = masks
    grid = zone_grid(folder / "figure.png", folder / "zones.png", (8, 8), SETTINGS, use_labels=use_labels)
    assert grid.shape == (len(ZONES), 8, 8)
    assert np.allclose(grid.sum(axis=0), 1.0)
    assert np.allclose(grid[:4].sum(axis=0), to_grid((labels > 0).astype(np.float32), (8, 8)), atol=1e-6)


def test_exact_labels_and_bands_differ_where_the_bands_guess(masks):
    folder, labels = masks
    exact = zone_grid(folder / "figure.png", folder / "zones.png", labels.shape, SETTINGS)
    assert np.array_equal(exact[ZONES.index("feet")] > 0.5, labels == 4)
    bands = zone_grid(folder / "figure.png", "", labels.shape, SETTINGS)  # no labels: bands of the figure's height
    rows = np.flatnonzero(bands[ZONES.index("head")].sum(axis=1))
    height = 30 - 2  # the figure spans rows 2..29
    assert rows.max() - rows.min() + 1 == pytest.approx(0.13 * height, abs=1)


def test_no_usable_mask_is_an_attention_error(masks):
    folder, _ = masks
    with pytest.raises(AttentionError, match="no figure mask"):
        zone_grid("", "", (8, 8), SETTINGS)
    with pytest.raises(AttentionError, match="empty"):
        zone_grid(folder / "empty.png", "", (8, 8), SETTINGS)


def test_heat_shares_are_the_map_mass_per_zone():
    zones = np.zeros((5, 2, 2))
    zones[0, 0, 0] = zones[1, 0, 1] = zones[4, 1, :] = 1.0
    heat = np.array([[1.0, 3.0], [0.0, 4.0]])
    assert heat_shares(heat, zones).tolist() == [0.125, 0.375, 0.0, 0.0, 0.5]
    assert np.isnan(heat_shares(np.zeros((2, 2)), zones)).all()
