"""The background treatments produce the intended composites."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from analysis.attention.background_reliance import (
    blur_background,
    choose_donors,
    composite,
    remove_background,
    swap_background,
    venue_plate,
)


def scene(seed: int, venue, size=(64, 64)):
    """A textured venue with a solid figure block, and the figure's exact mask."""
    rng = np.random.default_rng(seed)
    image = np.clip(rng.normal(venue, 30, size=(*size, 3)), 0, 255).astype(np.uint8)
    mask = np.zeros(size, np.float32)
    mask[12:56, 22:42] = 1.0
    image[mask > 0] = (250, 210, 20)
    return image, mask


def test_swap_keeps_the_figure_and_shows_the_other_venue():
    image, mask = scene(0, venue=(40, 90, 160))
    donor, donor_mask = scene(1, venue=(170, 60, 60))
    donor_mask[:] = 0
    donor_mask[20:50, 26:38] = 1.0  # the donor's figure sits inside this figure's silhouette
    swapped = swap_background(image, mask, donor, donor_mask, dilation_px=3, radius=3)
    inside = mask == 1
    assert np.array_equal(swapped[inside], image[inside])  # figure pixels are the source's
    hole = cv2.dilate((donor_mask > 0).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    outside = (mask == 0) & ~hole
    assert np.array_equal(swapped[outside], donor[outside])  # elsewhere: the other venue, untouched
    assert not np.array_equal(swapped[outside], image[outside])


def test_venue_plate_erases_the_donor_figure():
    donor, donor_mask = scene(2, venue=(170, 60, 60))
    plate = venue_plate(donor, donor_mask, dilation_px=3, radius=5)
    figure_colour = np.array([250, 210, 20])
    inside = donor_mask > 0
    # Inpainted from the red venue around it: nowhere near the yellow garment any more.
    assert np.abs(plate[inside].astype(int) - figure_colour).sum(axis=1).min() > 150
    assert np.abs(plate[inside].mean(axis=0) - np.array([170, 60, 60])).max() < 40
    assert np.array_equal(plate[:5], donor[:5])  # far from the figure nothing changes


def test_soft_mask_blends_linearly():
    figure = np.full((2, 2, 3), 200, np.uint8)
    background = np.zeros((2, 2, 3), np.uint8)
    alpha = np.array([[1.0, 0.5], [0.25, 0.0]])
    mixed = composite(figure, alpha, background)
    assert mixed[..., 0].tolist() == [[200, 100], [50, 0]]
    with pytest.raises(ValueError, match="shapes differ"):
        composite(figure, alpha, np.zeros((3, 3, 3), np.uint8))


def test_removed_and_blurred_backgrounds():
    image, mask = scene(3, venue=(40, 90, 160))
    removed = remove_background(image, mask, (255, 255, 255))
    assert (removed[mask == 0] == 255).all() and np.array_equal(removed[mask == 1], image[mask == 1])
    blurred = blur_background(image, mask, sigma=4.0)
    assert np.array_equal(blurred[mask == 1], image[mask == 1])
    # Away from the figure (which bleeds into its surroundings) the venue's texture is gone, its colour stays.
    far = (slice(None), slice(0, 8))
    assert blurred[far].std(axis=(0, 1)).mean() < 0.3 * image[far].std(axis=(0, 1)).mean()
    assert np.abs(blurred[far].mean(axis=(0, 1)) - image[far].mean(axis=(0, 1))).max() < 10


def test_donors_are_another_brand_and_hidden_best():
    small = np.zeros((4, 4, 4), np.float32)
    small[0, :, 1:3] = 1  # photo 0: a wide central figure
    small[1, :, 0] = 1  # brand B, figure at the far left: not hidden by photo 0
    small[2, 1:3, 1:3] = 1  # brand B, small central figure: fully hidden by photo 0
    small[3, :, 1:3] = 1  # brand A like photo 0: never a donor for it
    donors = choose_donors(np.array(["A", "B", "B", "A"]), small, candidates=5, seed=0)
    assert donors[0] == 2
    assert donors[1] in (0, 3) and donors[2] in (0, 3) and donors[3] in (1, 2)
    assert choose_donors(np.array(["A", "A"]), small[:2]).tolist() == [-1, -1]  # one brand: no swap possible
