"""Faithfulness: does a method put a house's identity where the counterfactual truth says it is?

Two questions, each asked of a houses × zones table of mean scores (`ZONES`: head, torso, legs,
feet, background), the method's against the truth's (`analysis.identity.truth.zone_table`):

- reliance: where the evidence for the house lies (the truth: drops in log p(house) when a cue is
  made basic or the venue swapped; a method: its share of each zone for the house);
- contrastive: what separates the house from its twin (the truth: drops in log p(house) −
  log p(twin) when a cue becomes the twin's; a method: its contrast per zone, twin as the rival).

Per question and method: `top_zone_matches`, how many houses get the truth's top zone as their
own top zone, out of `houses`; and `spearman`, Spearman's rank correlation between the method's
and the truth's five zone scores, averaged over the houses where both rankings exist (a constant
row has none). Only rankings are compared, so a method may score in its own units. The headline
method is the most faithful on the reliance question: most top-zone matches, then the highest
rank correlation, then the same two on the contrastive question.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from analysis.identity import ZONES

QUESTIONS = ("reliance", "contrastive")


def house_zone_means(shares: pd.DataFrame, brands: pd.Series, column: str = "share") -> pd.DataFrame:
    """Houses × `ZONES`: the mean of a method's per-photo `column` (share or contrast); `brands` maps path → house."""
    if shares.empty:
        return pd.DataFrame(columns=list(ZONES), dtype=float)
    frame = shares.assign(brand=shares["path"].map(brands))
    table = frame.groupby(["brand", "zone"])[column].mean().unstack("zone")
    return table.reindex(columns=list(ZONES)).astype(float)


def top_zone(row: pd.Series) -> str | None:
    """The zone with the largest finite score (the first in `ZONES` on a tie), or None."""
    values = pd.to_numeric(row.reindex(list(ZONES)), errors="coerce")
    return None if values.isna().all() else str(values.idxmax())


def rank_correlation(truth: pd.Series, method: pd.Series) -> float:
    """Spearman's rho over the zones where both are finite; NaN with under three zones or a constant side."""
    both = pd.DataFrame({"truth": truth, "method": method}).reindex(list(ZONES)).astype(float).dropna()
    if len(both) < 3 or both["truth"].nunique() < 2 or both["method"].nunique() < 2:
        return float("nan")
    return float(stats.spearmanr(both["truth"], both["method"]).statistic)


def score_question(truth: pd.DataFrame, method: pd.DataFrame) -> dict:
    """{"top_zone_matches", "houses", "spearman", "per_house"} of one method on one question.

    Houses are those whose truth has a top zone; a house the method has no scores for counts as a miss.
    """
    per_house, rhos = {}, []
    for house in truth.index:
        truth_top = top_zone(truth.loc[house])
        if truth_top is None:
            continue
        has_scores = house in method.index
        method_top = top_zone(method.loc[house]) if has_scores else None
        rho = rank_correlation(truth.loc[house], method.loc[house]) if has_scores else float("nan")
        if math.isfinite(rho):
            rhos.append(rho)
        per_house[str(house)] = {"truth_top_zone": truth_top, "method_top_zone": method_top,
                                 "match": method_top == truth_top, "spearman": rho if math.isfinite(rho) else None}
    return {
        "top_zone_matches": sum(entry["match"] for entry in per_house.values()),
        "houses": len(per_house),
        "spearman": float(np.mean(rhos)) if rhos else None,
        "per_house": per_house,
    }


def score_method(truth: dict[str, pd.DataFrame], method: dict[str, pd.DataFrame]) -> dict:
    """Both questions for one method: the reliance scores at the top level, the twin-contrastive ones under "contrastive"."""
    return {**score_question(truth["reliance"], method["reliance"]),
            "contrastive": score_question(truth["contrastive"], method["contrastive"])}


def _ranking_key(scores: dict) -> tuple:
    """The headline answers both questions (the profile and the rival), so it is ranked on both: top-zone
    matches of the two added, then their rank correlations added (a missing one counts as −1, the worst), then
    the matches against all houses. A method that says the same for every house (attention's map has no rival)
    cannot win on the first question alone."""
    def rho(value):
        return value if value is not None and not math.isnan(value) else -1.0

    contrastive = scores.get("contrastive", {})
    matches, rival_matches = scores["top_zone_matches"], contrastive.get("top_zone_matches", 0)
    return (matches + rival_matches, rho(scores["spearman"]) + rho(contrastive.get("spearman")), matches)


def choose_headline(faithfulness: dict[str, dict]) -> str | None:
    """The most faithful method (ties: the first in `faithfulness`' order); None when nothing was scored."""
    if not faithfulness:
        return None
    best = max(_ranking_key(scores) for scores in faithfulness.values())
    return next(name for name, scores in faithfulness.items() if _ranking_key(scores) == best)
