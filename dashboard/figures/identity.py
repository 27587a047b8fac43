"""Plotly builders and table shaping for identity.json (`python -m analysis identity`, docs/IDENTITY.md).

Pure functions from the file's sections (`profile[brand]`, `rival[brand]`, `faithfulness`) to tables and
figures, shared by the Brand and Attention pages and the exported report. Nothing here reads files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures import layout

STAT_FIELDS = ("mean", "ci_low", "ci_high", "n")
ZONE_COLUMNS = ["zone", *STAT_FIELDS]
METHOD_COLOUR = "#1f77b4"
TRUTH_COLOUR = "#ff7f0e"
FAITHFULNESS_COLUMNS = ["method", "top-zone matches", "rank correlation", "rival: top-zone matches",
                        "rival: rank correlation"]


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def zone_effects(zones: dict | None) -> pd.DataFrame:
    """{zone: stat} as rows `zone, mean, ci_low, ci_high, n` in the file's zone order (missing numbers NaN)."""
    records = [{"zone": zone, **{k: _number((stat or {}).get(k)) for k in STAT_FIELDS}}
               for zone, stat in (zones or {}).items()]
    return pd.DataFrame(records, columns=ZONE_COLUMNS)


def effects_with_truth(entry: dict, truth_key: str) -> pd.DataFrame:
    """A profile or rival entry's zone effects, with the demo's counterfactual truth as `truth_*` columns
    when the entry has it (`truth` for a profile, `twin_truth` for a rival)."""
    table = zone_effects(entry.get("zones"))
    truth = entry.get(truth_key) or {}
    if truth.get("zones"):
        renamed = zone_effects(truth["zones"]).drop(columns="n").rename(
            columns={"mean": "truth", "ci_low": "truth_ci_low", "ci_high": "truth_ci_high"})
        table = table.merge(renamed, on="zone", how="left")
    return table


def _error_bars(table: pd.DataFrame, mean: str, low: str, high: str) -> dict:
    return dict(type="data", symmetric=False,
                array=(table[high] - table[mean]).clip(lower=0).to_numpy(),
                arrayminus=(table[mean] - table[low]).clip(lower=0).to_numpy())


def _bar(table: pd.DataFrame, mean: str, low: str, high: str, name: str, colour: str) -> go.Bar:
    return go.Bar(
        x=table["zone"], y=table[mean], name=name, marker_color=colour,
        error_y=_error_bars(table, mean, low, high),
        customdata=np.stack([table[low], table[high]], axis=-1) if len(table) else None,
        hovertemplate="%{x}: %{y:.3f} (95% interval %{customdata[0]:.3f} to %{customdata[1]:.3f})<extra>"
                      + name + "</extra>",
    )


def zone_effect_figure(table: pd.DataFrame, method: str, units: str, title: str,
                       truth_label: str = "counterfactual truth") -> go.Figure:
    """Bars of the effect per zone with 95% intervals as error bars; the truth beside it when `table` has it."""
    figure = go.Figure()
    figure.add_trace(_bar(table, "mean", "ci_low", "ci_high", method or "method", METHOD_COLOUR))
    if "truth" in table:
        figure.add_trace(_bar(table, "truth", "truth_ci_low", "truth_ci_high", truth_label, TRUTH_COLOUR))
    figure.update_layout(barmode="group", yaxis_title=units or "effect", xaxis_title="zone", showlegend=True)
    figure.add_hline(y=0, line_width=1, line_color="#888")
    return layout(figure, title)


def identity_profile_figure(entry: dict, brand: str) -> go.Figure:
    """`profile[brand]`: where the brand's identity lives, zone by zone (with the demo's truth beside it)."""
    return zone_effect_figure(effects_with_truth(entry, "truth"), entry.get("method", ""), entry.get("units", ""),
                              f"{brand}: identity by zone (95% intervals)")


def rival_figure(entry: dict, brand: str) -> go.Figure:
    """`rival[brand]`: what each zone contributes to telling the brand from its rival (the twin truth beside it)."""
    return zone_effect_figure(effects_with_truth(entry, "twin_truth"), entry.get("method", ""),
                              entry.get("units", ""), f"What tells {brand} from {entry.get('rival', '?')}",
                              truth_label="counterfactual truth (twin)")


def faithfulness_scores(identity: dict, method: str) -> dict:
    """The faithfulness of `method`: from this run's `faithfulness`, else the headline basis's recorded scores."""
    scores = (identity.get("faithfulness") or {}).get(method)
    if scores:
        return scores
    basis = identity.get("headline_basis") or {}
    return basis.get("scores") or {}


def matches_text(scores: dict) -> str:
    """"5 of 6" (top-zone matches out of houses), "–" when unknown."""
    if not scores or scores.get("top_zone_matches") is None or not scores.get("houses"):
        return "–"
    return f"{int(scores['top_zone_matches'])} of {int(scores['houses'])}"


def correlation_text(scores: dict) -> str:
    value = (scores or {}).get("spearman")
    return "–" if value is None or not np.isfinite(float(value)) else f"{float(value):.2f}"


def method_sentence(identity: dict) -> str:
    """How the profile was measured, e.g. "measured with occlusion:inpaint, the most faithful method on the demo:
    5 of 6 houses" (with the reference run or the setting when the method was not chosen on this run)."""
    method = identity.get("headline_method") or "an unknown method"
    basis = identity.get("headline_basis") or {}
    chosen_by = basis.get("chosen_by")
    matches = matches_text(faithfulness_scores(identity, method))
    how = f"{matches} houses" if matches != "–" else ""
    if chosen_by == "faithfulness":
        return f"measured with {method}, the most faithful method on the demo" + (f": {how}" if how else "")
    if chosen_by == "reference run":
        reference = basis.get("reference_run") or "a demo run"
        return (f"measured with {method}, the method the demo run {reference} found most faithful"
                + (f" ({how})" if how else ""))
    if chosen_by == "settings":
        return f"measured with {method}, as set by --headline-method (its faithfulness was not measured here)"
    return f"measured with {method}, the default method (no demo run chose one)"


def faithfulness_table(faithfulness: dict | None) -> pd.DataFrame:
    """One row per method: top-zone matches out of the houses and rank correlation with the counterfactual
    truth, and the same for the rival question (against the twin), as display text."""
    rows = []
    for method, scores in (faithfulness or {}).items():
        contrastive = (scores or {}).get("contrastive") or {}
        rows.append({"method": method, "top-zone matches": matches_text(scores),
                     "rank correlation": correlation_text(scores),
                     "rival: top-zone matches": matches_text(contrastive),
                     "rival: rank correlation": correlation_text(contrastive)})
    return pd.DataFrame(rows, columns=FAITHFULNESS_COLUMNS)


def stat_text(mean, low, high, digits: int = 3) -> str:
    """"0.120 [0.080, 0.160]", "–" when the mean is missing."""
    if mean is None or not np.isfinite(mean):
        return "–"
    return f"{mean:.{digits}f} [{_number(low):.{digits}f}, {_number(high):.{digits}f}]"


def zone_effect_rows(table: pd.DataFrame) -> pd.DataFrame:
    """`effects_with_truth` as display text: zone, effect [95% interval], truth [95% interval] when present."""
    shown = pd.DataFrame({"zone": table["zone"],
                          "effect [95% interval]": [stat_text(r.mean, r.ci_low, r.ci_high) for r in table.itertuples()]})
    if "truth" in table:
        shown["truth [95% interval]"] = [stat_text(r.truth, r.truth_ci_low, r.truth_ci_high)
                                         for r in table.itertuples()]
    return shown
