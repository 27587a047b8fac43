"""The profile's pieces: bootstrap intervals around the mean, the most-confused rival, ranked zones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.identity import ZONES
from analysis.identity.profile import brand_profiles, most_confused_rivals, rival_sections, zone_stats
from core.config import IdentitySettings

IDENTITY = IdentitySettings(bootstrap_resamples=300, seed=1)


def per_photo(values: dict[str, list[float]], column: str = "share") -> pd.DataFrame:
    rows = [(f"p{i}", zone, value) for zone, series in values.items() for i, value in enumerate(series)]
    return pd.DataFrame(rows, columns=["path", "zone", column])


def test_bootstrap_intervals_contain_the_mean_and_narrow_with_more_photos():
    rng = np.random.default_rng(3)
    few = per_photo({zone: list(rng.normal(k, 1.0, 6)) for k, zone in enumerate(ZONES)})
    many = per_photo({zone: list(rng.normal(k, 1.0, 200)) for k, zone in enumerate(ZONES)})
    for frame in (few, many):
        for zone, stat in zone_stats(frame, "share", IDENTITY).items():
            assert stat["ci_low"] <= stat["mean"] <= stat["ci_high"], (zone, stat)
            assert stat["mean"] == pytest.approx(frame.loc[frame["zone"] == zone, "share"].mean())
    width = {len(frame): np.mean([s["ci_high"] - s["ci_low"] for s in zone_stats(frame, "share", IDENTITY).values()])
             for frame in (few, many)}
    assert width[1000] < width[30] / 2


def test_profile_ranks_zones_by_mean_per_brand():
    shares = pd.concat([per_photo({"head": [0.1, 0.2], "torso": [0.5, 0.7], "legs": [0.3, 0.2], "feet": [0.1, 0.0],
                                   "background": [0.1, 0.0]})])
    brands = pd.Series({"p0": "Casa Sfarzo", "p1": "Casa Sfarzo"})
    profile = brand_profiles(shares, brands, ["Casa Sfarzo", "Blokwerk"], "attention", IDENTITY)
    assert profile["Casa Sfarzo"]["ranked_zones"][:2] == ["torso", "legs"]
    assert profile["Casa Sfarzo"]["top_zone"] == "torso" and profile["Casa Sfarzo"]["units"] == "share of the map"
    assert profile["Blokwerk"]["top_zone"] is None and profile["Blokwerk"]["n_photos"] == 0


def test_most_confused_rival_counts_both_directions_and_falls_back_to_probabilities():
    names = ["A", "B", "C"]
    confusion = pd.DataFrame([[8, 1, 0], [0, 9, 0], [3, 0, 5]], index=names, columns=names)
    predictions = pd.DataFrame({"brand": ["A", "B", "C"], "prob_A": [0.8, 0.1, 0.3], "prob_B": [0.1, 0.6, 0.1],
                                "prob_C": [0.1, 0.3, 0.6]})
    rivals = most_confused_rivals(confusion, predictions, names)
    assert rivals["A"] == {"rival": "C", "taken_for_rival": 0, "rival_taken_for_brand": 3, "basis": "confusion"}
    assert rivals["B"]["rival"] == "A" and rivals["B"]["basis"] == "confusion"  # A taken for B once
    perfect = pd.DataFrame(np.diag([8, 9, 5]), index=names, columns=names)
    fallback = most_confused_rivals(perfect, predictions, names)
    assert fallback["B"] == {"rival": "C", "taken_for_rival": 0, "rival_taken_for_brand": 0, "basis": "probability"}


def test_rival_sections_use_the_contrast_column():
    contrasts = per_photo({"head": [0.0, 0.1], "torso": [0.1, 0.1], "legs": [0.0, 0.0], "feet": [0.9, 0.7],
                           "background": [0.2, 0.1]}, column="contrast")
    brands = pd.Series({"p0": "A", "p1": "A"})
    rival = {"rival": "B", "taken_for_rival": 2, "rival_taken_for_brand": 1, "basis": "confusion"}
    section = rival_sections(contrasts, brands, {"A": rival}, "occlusion:inpaint", IDENTITY)["A"]
    assert section["top_zone"] == "feet" and section["rival"] == "B" and section["units"] == "drop in evidence (logits)"
    assert section["zones"]["feet"]["mean"] == pytest.approx(0.8)
