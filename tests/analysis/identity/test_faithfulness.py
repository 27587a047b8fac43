"""Faithfulness scoring on hand-made truth and method tables with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.identity import ZONES
from analysis.identity.faithfulness import (
    choose_headline,
    house_zone_means,
    rank_correlation,
    score_method,
    score_question,
    top_zone,
)

TRUTH = pd.DataFrame({  # head, torso, legs, feet, background per house
    "Ombrelune": [0.0, 0.2, 0.1, 0.9, 0.3],
    "Linea Vastra": [0.8, 0.3, 0.2, 0.0, 0.1],
    "Casa Sfarzo": [0.7, 0.1, 0.0, 0.2, 0.5],
}, index=list(ZONES)).T


def test_identical_rankings_match_every_house_with_rho_one():
    method = TRUTH * 10 + 3  # other units, same order
    scores = score_question(TRUTH, method)
    assert scores["top_zone_matches"] == 3 and scores["houses"] == 3
    assert scores["spearman"] == pytest.approx(1.0)
    assert all(entry["match"] for entry in scores["per_house"].values())


def test_reversed_rankings_match_no_house_with_rho_minus_one():
    scores = score_question(TRUTH, -TRUTH)
    assert scores["top_zone_matches"] == 0
    assert scores["spearman"] == pytest.approx(-1.0)


def test_one_house_wrong_and_one_missing():
    method = TRUTH.copy()
    method.loc["Linea Vastra"] = [0.0, 0.9, 0.1, 0.2, 0.3]  # torso first instead of head
    method = method.drop(index="Casa Sfarzo")  # the method scored none of its photos: a miss, no rho
    scores = score_question(TRUTH, method)
    assert scores["houses"] == 3 and scores["top_zone_matches"] == 1
    assert scores["per_house"]["Linea Vastra"] == {"truth_top_zone": "head", "method_top_zone": "torso", "match": False,
                                                   "spearman": pytest.approx(rank_correlation(TRUTH.loc["Linea Vastra"],
                                                                                              method.loc["Linea Vastra"]))}
    assert scores["per_house"]["Casa Sfarzo"]["method_top_zone"] is None
    assert scores["spearman"] == pytest.approx(np.mean([1.0, rank_correlation(TRUTH.loc["Linea Vastra"],
                                                                               method.loc["Linea Vastra"])]))


def test_constant_rows_have_no_rank_correlation_and_no_truth_top_zone():
    flat = pd.Series(0.5, index=list(ZONES))
    assert np.isnan(rank_correlation(TRUTH.iloc[0], flat))
    assert top_zone(pd.Series(np.nan, index=list(ZONES))) is None
    truth = TRUTH.copy()
    truth.loc["Ombrelune"] = np.nan  # no truth for this house: it is not counted
    assert score_question(truth, TRUTH)["houses"] == 2


def test_headline_is_most_matches_over_both_questions_then_rank_correlation_over_both():
    def scores(matches, rho, c_matches=0, c_rho=None):
        return {"top_zone_matches": matches, "houses": 3, "spearman": rho,
                "contrastive": {"top_zone_matches": c_matches, "houses": 3, "spearman": c_rho}}

    assert choose_headline({"attention": scores(1, 0.9), "occlusion:mean": scores(2, 0.1)}) == "occlusion:mean"
    assert choose_headline({"gradcam": scores(2, 0.3), "occlusion:inpaint": scores(2, 0.5)}) == "occlusion:inpaint"
    assert choose_headline({"gradcam": scores(2, None), "attention": scores(2, -0.2)}) == "attention"
    assert choose_headline({"a": scores(2, 0.5, 1), "b": scores(2, 0.5, 3)}) == "b"
    assert choose_headline({"first": scores(1, 0.5), "second": scores(1, 0.5)}) == "first"
    # a map with no rival answer (attention) loses to a method that answers both questions fairly well
    assert choose_headline({"attention": scores(3, 0.9, 0, 0.1), "swap": scores(2, 0.6, 2, 0.8)}) == "swap"
    assert choose_headline({"a": scores(2, 0.2, 1, 0.9), "b": scores(1, 0.5, 2, 0.7)}) == "b"  # rho over both
    assert choose_headline({}) is None


def test_score_method_asks_both_questions_and_means_come_from_photos():
    shares = pd.DataFrame([
        ("p1", zone, share, contrast) for zone, share, contrast in zip(ZONES, [1, 2, 3, 4, 5], [5, 4, 3, 2, 1], strict=True)
    ] + [
        ("p2", zone, share, contrast) for zone, share, contrast in zip(ZONES, [3, 2, 1, 0, 7], [1, 2, 3, 4, 5], strict=True)
    ], columns=["path", "zone", "share", "contrast"])
    brands = pd.Series({"p1": "Ombrelune", "p2": "Ombrelune"})
    reliance = house_zone_means(shares, brands)
    assert reliance.loc["Ombrelune"].tolist() == [2, 2, 2, 2, 6]
    contrastive = house_zone_means(shares, brands, "contrast")
    assert contrastive.loc["Ombrelune"].tolist() == [3, 3, 3, 3, 3]
    truth = TRUTH.loc[["Ombrelune"]]
    result = score_method({"reliance": truth, "contrastive": truth}, {"reliance": reliance, "contrastive": contrastive})
    assert result["top_zone_matches"] == 0  # background, not feet
    assert result["contrastive"]["spearman"] is None  # a constant row ranks nothing
