"""Occlusion finds the zone a model reads: a fake model whose score depends on one zone's pixels only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.identity import ZONES
from analysis.identity.faithfulness import house_zone_means, score_question
from analysis.identity.methods import occlusion


@pytest.mark.parametrize("fill", ["mean", "inpaint", "colour"])
@pytest.mark.parametrize("zone", ["feet", "head", "background"])
def test_occlusion_ranks_the_zone_the_model_reads_first_and_faithfulness_counts_it(zone_kit, tmp_path, zone, fill):
    context, scorer = zone_kit.context(tmp_path, zone)
    shares = occlusion.zone_shares(context, context.rows.assign(rival=lambda r: np.where(r["brand"] == "A", "B", "A")),
                                   fill=fill)
    assert set(shares["zone"]) == set(ZONES) and len(shares) == len(ZONES) * len(context.rows)
    means = house_zone_means(shares, context.rows.set_index("path")["brand"])
    contrasts = house_zone_means(shares, context.rows.set_index("path")["brand"], "contrast")
    for house in ("A", "B"):
        assert means.loc[house].idxmax() == zone, means
        assert means.loc[house, zone] > 0.5  # the key colour gone: a large drop in evidence
        others = means.loc[house].drop(zone)
        assert np.allclose(others, 0.0, atol=1e-9)  # nothing outside the zone reaches the model
        assert contrasts.loc[house].idxmax() == zone

    # a truth whose top zone is the read zone: faithfulness counts a match for both houses, and rho 1 ranks it first
    truth = pd.DataFrame(0.0, index=["A", "B"], columns=list(ZONES))
    truth[zone] = 1.0
    scores = score_question(truth, means)
    assert scores["top_zone_matches"] == 2 and scores["houses"] == 2


def test_blend_replaces_only_inside_the_alpha():
    image = np.full((4, 4, 3), 10, np.uint8)
    fill = np.full((4, 4, 3), 250, np.uint8)
    alpha = np.zeros((4, 4))
    alpha[1, 1], alpha[2, 2] = 1.0, 0.5
    out = occlusion.blend(image, fill, alpha)
    assert out[1, 1].tolist() == [250] * 3 and out[2, 2].tolist() == [130] * 3
    assert (out[alpha == 0] == 10).all()


def test_fills_are_what_they_say():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, size=(16, 16, 3)).astype(np.uint8)
    alpha = np.zeros((16, 16))
    alpha[4:8, 4:8] = 1.0
    mean = np.full((16, 16, 3), 77, np.uint8)
    assert (occlusion.fill_image("mean", image, alpha, mean_image=mean) == 77).all()
    assert (occlusion.fill_image("colour", image, alpha, colour=(1, 2, 3))[5, 5] == [1, 2, 3]).all()
    painted = occlusion.fill_image("inpaint", image, alpha, radius=3)
    assert (painted[alpha == 0] == image[alpha == 0]).all()  # inpainting touches the hole only
    assert not (painted[4:8, 4:8] == image[4:8, 4:8]).all()
    with pytest.raises(ValueError, match="unknown occlusion fill"):
        occlusion.fill_image("grey", image, alpha)


def test_zone_drops_and_contrast():
    original = np.log(np.array([0.6, 0.3, 0.1]))
    occluded = np.log(np.array([[0.3, 0.6, 0.1], [0.6, 0.3, 0.1], [0.5, 0.25, 0.25], [0.6, 0.3, 0.1],
                                [0.6, 0.3, 0.1]]))
    drop, contrast = occlusion.zone_drops(original, occluded, target=0, rival=1)
    # evidence: log p(target) against the other classes' mean; the target halved and one other doubled
    assert drop[0] == pytest.approx(np.log(2) + np.log(2) / 2) and drop[1] == pytest.approx(0)
    assert contrast[0] == pytest.approx(np.log(2) - np.log(0.3 / 0.6))  # both moved: the gap closed twice over
    assert contrast[2] == pytest.approx(np.log(0.6 / 0.5) - np.log(0.3 / 0.25))  # the same ratio: nothing separated
    assert np.isnan(occlusion.zone_drops(original, occluded, target=0, rival=-1)[1]).all()
