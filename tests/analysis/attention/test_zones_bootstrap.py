"""Body-zone profile (exact and derived zones) and the bootstrap confidence intervals."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.attention.bootstrap import bootstrap_stat, per_brand_stats
from analysis.attention.localisation import mass_on_figure
from analysis.attention.masks import to_grid
from analysis.attention.zones import (
    band_of_rows,
    demo_signature_check,
    stack_from_figure,
    stack_from_labels,
    zone_profile,
)
from core.config import AttentionSettings

PROPORTIONS = AttentionSettings().zone_proportions


def test_exact_zones_take_the_attention_of_their_labels():
    labels = np.zeros((8, 8), np.uint8)
    labels[0:2, 3:5], labels[2:4, 2:6], labels[4:7, 3:5], labels[7, 3:5] = 1, 2, 3, 4
    attention = np.zeros((8, 8))
    attention[1, 3], attention[5, 4], attention[0, 0] = 0.5, 0.3, 0.2  # head, legs, background
    profile = zone_profile(attention, stack_from_labels(labels))[0]
    assert profile.tolist() == pytest.approx([0.5, 0.0, 0.3, 0.0])


def test_zones_sum_to_the_mass_on_the_figure():
    rng = np.random.default_rng(1)
    mask = np.zeros((96, 64), np.float32)
    mask[10:90, 20:44] = 1.0
    mask[9, 20:44] = 0.3  # a soft fringe above the extent still belongs to a zone
    stack = stack_from_figure(mask, PROPORTIONS)
    assert np.allclose(stack.sum(axis=0), mask)
    attention = rng.dirichlet(np.ones(64)).reshape(8, 8)
    zones, figure = to_grid(stack, (8, 8)), to_grid(mask, (8, 8))
    assert zone_profile(attention, zones)[0].sum() == pytest.approx(mass_on_figure(attention, figure)[0])


def test_derived_bands_follow_the_documented_proportions():
    band = band_of_rows(200, (0, 99), PROPORTIONS)  # a figure over the top 100 rows of 200
    counts = [int((band[:100] == zone).sum()) for zone in range(4)]
    assert counts == [13, 32, 45, 10]
    assert (band[100:] == 3).all()  # below the figure: feet, so soft pixels there still count


def test_derived_zones_on_a_full_height_figure_split_a_uniform_map_by_proportion():
    mask = np.zeros((100, 10), np.float32)
    mask[:, 3:7] = 1.0
    zones = to_grid(stack_from_figure(mask, PROPORTIONS), (100, 10))
    profile = zone_profile(np.ones((100, 10)) / 1000, zones)[0]
    assert profile == pytest.approx(np.asarray(PROPORTIONS) * 0.4)


def test_empty_figure_has_no_zones_and_bad_proportions_are_refused():
    assert stack_from_figure(np.zeros((10, 10)), PROPORTIONS) is None
    with pytest.raises(ValueError, match="summing to 1"):
        stack_from_figure(np.ones((10, 10)), (0.5, 0.5, 0.5, 0.5))


def test_bootstrap_ci_contains_the_mean_and_narrows_with_n():
    rng = np.random.default_rng(0)
    widths = []
    for n in (20, 200, 2000):
        values = rng.normal(0.6, 0.2, n)
        stat = bootstrap_stat(values, resamples=500, seed=1)
        assert stat["ci_low"] <= stat["mean"] <= stat["ci_high"]
        assert stat["mean"] == pytest.approx(values.mean())
        assert stat["n"] == n
        widths.append(stat["ci_high"] - stat["ci_low"])
    assert widths[0] > widths[1] > widths[2]
    # The standard error shrinks as 1/sqrt(n): 100 times the data, about a tenth of the width.
    assert widths[2] / widths[0] == pytest.approx(0.1, abs=0.05)


def test_bootstrap_handles_degenerate_samples():
    assert bootstrap_stat([]) is None
    assert bootstrap_stat([np.nan, np.nan]) is None
    assert bootstrap_stat([0.7]) == {"mean": 0.7, "ci_low": 0.7, "ci_high": 0.7, "n": 1}
    constant = bootstrap_stat([1.0, 1.0, 1.0, np.nan])
    assert constant == {"mean": 1.0, "ci_low": 1.0, "ci_high": 1.0, "n": 3}


def test_per_brand_stats_are_reproducible_and_skip_brands_without_values():
    import pandas as pd

    frame = pd.DataFrame({"brand": ["a"] * 30 + ["b"] * 30 + ["c"] * 2,
                          "value": list(np.linspace(0, 1, 30)) + [0.9] * 30 + [np.nan, np.nan]})
    first = per_brand_stats(frame, "value", ["a", "b", "c"], resamples=200, seed=5)
    assert list(first) == ["a", "b"]
    assert first == per_brand_stats(frame, "value", ["a", "b", "c"], resamples=200, seed=5)
    assert first["a"]["mean"] == pytest.approx(0.5) and first["b"]["ci_low"] == first["b"]["ci_high"] == pytest.approx(0.9)


def test_demo_signature_check_ranks_each_house_on_its_zone():
    def stat(mean):
        return {"mean": mean, "ci_low": mean - 0.01, "ci_high": mean + 0.01, "n": 10}

    attention = {"body_zones": {"per_brand": {
        "Feet House": {"head": stat(0.1), "torso": stat(0.2), "legs": stat(0.2), "feet": stat(0.4)},
        "Head House": {"head": stat(0.5), "torso": stat(0.2), "legs": stat(0.1), "feet": stat(0.1)},
        "Other": {"head": stat(0.2), "torso": stat(0.3), "legs": stat(0.3), "feet": stat(0.1)},
    }}}
    table = demo_signature_check(attention, {"Feet House": "feet", "Head House": "head", "Absent": "legs"})
    assert table["brand"].tolist() == ["Feet House", "Head House"]
    feet = table.iloc[0]
    assert feet["share"] == 0.4 and feet["others_mean"] == pytest.approx(0.1)
    assert feet["lift"] == pytest.approx(4.0) and feet["rank"] == 1 and feet["of"] == 3
    assert table.iloc[1]["lift"] == pytest.approx(0.5 / 0.15)


def test_grid_level_zones_equal_the_full_size_stacks_brought_to_the_grid():
    from analysis.attention.zones import grid_from_figure, grid_from_labels

    rng = np.random.default_rng(4)
    labels = np.zeros((101, 67), np.uint8)
    labels[5:20, 25:40], labels[20:50, 20:45], labels[50:90, 22:43], labels[90:97, 22:43] = 1, 2, 3, 4
    mask = (labels > 0).astype(np.float32) * rng.uniform(0.6, 1.0, labels.shape).astype(np.float32)
    grid = (9, 7)  # non-integer ratios on both axes
    assert np.allclose(grid_from_labels(labels, grid), to_grid(stack_from_labels(labels), grid), atol=1e-6)
    derived = grid_from_figure(mask, grid, PROPORTIONS)
    assert np.allclose(derived, to_grid(stack_from_figure(mask, PROPORTIONS), grid), atol=1e-6)
    assert np.allclose(derived.sum(axis=0), to_grid(mask, grid), atol=1e-6)
