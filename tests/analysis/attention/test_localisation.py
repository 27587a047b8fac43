"""Mass on the figure, pointing game and energy pointing game on hand-made maps with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.attention.localisation import energy_pointing_game, mass_on_figure, pointing_game
from analysis.attention.masks import box_fractions, figure_extent, to_grid


def block_mask(shape=(8, 8), rows=slice(2, 6), cols=slice(3, 5)) -> np.ndarray:
    mask = np.zeros(shape, np.float32)
    mask[rows, cols] = 1.0
    return mask


def test_all_mass_inside_the_mask_gives_one():
    mask = block_mask()
    attention = mask * np.random.default_rng(0).uniform(0.1, 1.0, mask.shape)
    attention /= attention.sum()
    assert mass_on_figure(attention, mask)[0] == pytest.approx(1.0)


def test_all_mass_outside_the_mask_gives_zero():
    mask = block_mask()
    attention = (1 - mask) / (1 - mask).sum()
    assert mass_on_figure(attention, mask)[0] == pytest.approx(0.0)


def test_uniform_map_gives_the_mask_area_fraction():
    mask = block_mask()  # 8 of 64 cells
    uniform = np.full(mask.shape, 1 / mask.size)
    assert mass_on_figure(uniform, mask)[0] == pytest.approx(8 / 64)


def test_fractional_cells_weight_the_mass():
    # One cell that is 25% figure holding all the attention: a quarter of the attention is on the figure.
    attention, mask = np.zeros((4, 4)), np.zeros((4, 4))
    attention[1, 1], mask[1, 1] = 1.0, 0.25
    assert mass_on_figure(attention, mask)[0] == pytest.approx(0.25)


def test_maps_are_renormalised():
    mask = block_mask()
    uniform_unnormalised = np.full(mask.shape, 7.0)
    assert mass_on_figure(uniform_unnormalised, mask)[0] == pytest.approx(8 / 64)


def test_pointing_game_hit_and_miss():
    mask = block_mask()
    hit = np.full(mask.shape, 0.01)
    hit[3, 3] = 1.0  # inside the block
    miss = np.full(mask.shape, 0.01)
    miss[0, 0] = 1.0
    assert pointing_game(np.stack([hit, miss]), np.stack([mask, mask])).tolist() == [1.0, 0.0]


def test_pointing_game_needs_a_majority_figure_cell():
    mask = np.zeros((4, 4))
    mask[2, 2] = 0.4  # less than half figure: the peak there is a miss
    attention = np.full((4, 4), 0.01)
    attention[2, 2] = 1.0
    assert pointing_game(attention, mask)[0] == 0.0
    assert pointing_game(attention, np.where(mask > 0, 0.6, 0))[0] == 1.0


def test_pointing_game_splits_ties_so_a_flat_map_scores_chance():
    mask = block_mask()
    assert pointing_game(np.ones(mask.shape), mask)[0] == pytest.approx(8 / 64)
    two_peaks = np.zeros(mask.shape)
    two_peaks[3, 3] = two_peaks[0, 0] = 1.0
    assert pointing_game(two_peaks, mask)[0] == pytest.approx(0.5)


def test_energy_pointing_game_is_the_share_inside_the_bounding_box():
    # An L-shaped figure: its bounding box also holds the empty corner, which the mask does not.
    mask = np.zeros((8, 8), np.float32)
    mask[2:6, 2] = 1.0
    mask[5, 2:6] = 1.0
    extent = figure_extent(mask)
    assert extent == (2, 5, 2, 5)
    box = box_fractions(extent, mask.shape, mask.shape)
    assert box.sum() == 16 and box[2:6, 2:6].min() == 1.0
    attention = np.zeros((8, 8))
    attention[3, 4] = 0.6  # in the box, off the figure
    attention[0, 7] = 0.4  # outside the box
    assert energy_pointing_game(attention, box)[0] == pytest.approx(0.6)
    assert mass_on_figure(attention, mask)[0] == pytest.approx(0.0)
    uniform = np.full((8, 8), 1 / 64)
    assert energy_pointing_game(uniform, box)[0] == pytest.approx(16 / 64)


def test_box_fractions_cover_partial_cells_exactly():
    # A 10×10 mask whose box spans pixels 0..4 (rows) and 0..9 (cols) on a 4×4 grid: 2.5 px per cell.
    mask = np.zeros((10, 10))
    mask[0:5, :] = 1
    box = box_fractions(figure_extent(mask), mask.shape, (4, 4))
    assert box[:, 0].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert box.sum() == pytest.approx(16 * 0.5)
    assert np.allclose(box, to_grid(mask, (4, 4)))  # a rectangle is its own box: same as area averaging


def test_area_averaging_gives_the_figure_fraction_per_cell():
    mask = np.zeros((8, 8), np.float32)
    mask[0:2, 0:1] = 1.0  # half of the top-left 2×2 cell
    mask[4:8, 4:8] = 1.0  # the whole bottom-right quarter
    grid = to_grid(mask, (4, 4))
    assert grid[0, 0] == pytest.approx(0.5)
    assert np.allclose(grid[2:, 2:], 1.0)
    assert grid.sum() == pytest.approx(mask.sum() / 4)


def test_grid_mismatch_is_an_error():
    with pytest.raises(ValueError, match="share the grid"):
        mass_on_figure(np.ones((8, 8)), np.ones((4, 4)))


def test_empty_map_gives_nan_not_a_score():
    assert np.isnan(mass_on_figure(np.zeros((4, 4)), np.ones((4, 4)))[0])
    assert np.isnan(pointing_game(np.zeros((4, 4)), np.ones((4, 4)))[0])


def test_area_averaging_matches_opencv_inter_area():
    import cv2

    mask = np.random.default_rng(3).random((288, 192)).astype(np.float32)
    for grid in ((28, 28), (16, 16), (9, 13)):
        expected = cv2.resize(mask, grid[::-1], interpolation=cv2.INTER_AREA)
        assert np.allclose(to_grid(mask, grid), expected, atol=1e-5)
