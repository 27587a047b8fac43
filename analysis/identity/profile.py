"""The identity profile of every brand: where its identity lives, and what sets it apart from its closest rival.

Any dataset, demo or real. Per brand, with the headline method (the most faithful on the demo):

- `profile`: each zone's mean score over the brand's scored test photos, with a percentile-bootstrap
  interval (`analysis.attention.bootstrap`): how much of the evidence for the brand, against all
  houses, lies on that zone; the zones ranked, and the top one;
- `rival`: the most-confused rival, from the confusion matrix (photos of the brand taken for the
  rival plus photos of the rival taken for the brand; a brand never confused with anything gets the
  house its photos give the highest mean probability), and the zones that separate the two: each
  zone's mean contrast (evidence for the brand rather than the rival), with intervals.

Units are the method's: occlusion's scores are drops in log-probability (0.69 = the probability
halves), attention's and Grad-CAM's are shares of the map (the five zones add up to 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.attention.bootstrap import bootstrap_stat
from analysis.identity import ZONES
from core.config import IdentitySettings
from core.contract import probability_columns


def units_of(method: str) -> str:
    """Occlusion and swap score drops in logit units (evidence against the mean class; against the rival)."""
    return "drop in evidence (logits)" if method.startswith(("occlusion", "swap")) else "share of the map"


def most_confused_rivals(confusion: pd.DataFrame, predictions: pd.DataFrame, class_names: list[str]) -> dict[str, dict]:
    """Per brand: its most-confused rival, the confusions both ways, and the basis (`confusion` or `probability`)."""
    counts = confusion.reindex(index=class_names, columns=class_names).fillna(0).to_numpy(dtype=np.int64)
    both_ways = counts + counts.T
    np.fill_diagonal(both_ways, -1)
    probabilities = predictions.reindex(columns=probability_columns(class_names)).astype(float)
    result = {}
    for i, brand in enumerate(class_names):
        if both_ways[i].max() > 0:
            j, basis = int(both_ways[i].argmax()), "confusion"
        else:  # never confused: the house its photos come closest to
            means = probabilities[predictions["brand"].astype(str) == brand].mean().to_numpy(dtype=np.float64, copy=True)
            means[i] = -np.inf
            j, basis = int(np.nanargmax(np.where(np.isfinite(means), means, -np.inf))), "probability"
        result[brand] = {"rival": class_names[j], "taken_for_rival": int(counts[i, j]),
                         "rival_taken_for_brand": int(counts[j, i]), "basis": basis}
    return result


def zone_stats(values: pd.DataFrame, column: str, identity: IdentitySettings) -> dict[str, dict | None]:
    """{zone: bootstrap stat of `column`} over the photos in `values` (path, zone, column)."""
    return {zone: bootstrap_stat(values.loc[values["zone"] == zone, column], identity.bootstrap_resamples,
                                 identity.confidence_level, identity.seed) for zone in ZONES}


def ranked(stats: dict[str, dict | None]) -> list[str]:
    """Zones by decreasing mean (zones without a value left out)."""
    return sorted((zone for zone, stat in stats.items() if stat), key=lambda zone: -stats[zone]["mean"])


def brand_profiles(shares: pd.DataFrame, brands: pd.Series, class_names: list[str], method: str,
                   identity: IdentitySettings) -> dict[str, dict]:
    """Per brand: zone stats of the method's share over the brand's photos, ranked, with the top zone."""
    frame = shares.assign(brand=shares["path"].map(brands)) if not shares.empty else shares.assign(brand=[])
    result = {}
    for brand in class_names:
        mine = frame[frame["brand"] == brand]
        stats = zone_stats(mine, "share", identity)
        order = ranked(stats)
        result[brand] = {"method": method, "units": units_of(method), "n_photos": int(mine["path"].nunique()),
                         "zones": stats, "ranked_zones": order, "top_zone": order[0] if order else None}
    return result


def rival_sections(contrasts: pd.DataFrame, brands: pd.Series, rivals: dict[str, dict], method: str,
                   identity: IdentitySettings) -> dict[str, dict]:
    """Per brand: its rival (from `most_confused_rivals`) and the zone stats of the method's contrast against it."""
    frame = contrasts.assign(brand=contrasts["path"].map(brands)) if not contrasts.empty else contrasts.assign(brand=[])
    result = {}
    for brand, rival in rivals.items():
        mine = frame[frame["brand"] == brand]
        stats = zone_stats(mine, "contrast", identity)
        order = ranked(stats)
        result[brand] = {**rival, "method": method, "units": units_of(method), "n_photos": int(mine["path"].nunique()),
                         "zones": stats, "ranked_zones": order, "top_zone": order[0] if order else None}
    return result
