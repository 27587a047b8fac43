"""Plotly figures and tables of the attention analytics, built from metrics.json's sections.

The dashboard's Attention and Brand pages call these; none of them reads files or imports
TensorFlow. Every builder takes the section dicts as written by `python -m analysis attention`
(docs/ATTENTION.md) and tolerates brands or entries that are missing (nulls are gaps).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from PIL import Image
from plotly.subplots import make_subplots

from analysis.attention import METRICS, ZONES
from dashboard.figures import wilson_error_bars

METRIC_LABELS = {
    "mass_on_figure": "Attention mass on figure",
    "pointing_game": "Pointing game",
    "energy_pointing_game": "Energy pointing game",
}
TREATMENT_LABELS = {"original": "original", "removed": "background removed", "swapped": "venue swapped",
                    "blurred": "background blurred"}
ZONE_COLOURS = {"head": "#636EFA", "torso": "#EF553B", "legs": "#00CC96", "feet": "#AB63FA"}
ALL_IMAGES = "All images"


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def format_stat(stat: dict | None, digits: int = 2) -> str:
    """"0.62 [0.58, 0.66]" (mean and CI), or "" when missing."""
    if not stat or stat.get("mean") is None:
        return ""
    return f"{stat['mean']:.{digits}f} [{_number(stat['ci_low']):.{digits}f}, {_number(stat['ci_high']):.{digits}f}]"


def metrics_table(attention: dict, formatted: bool = False) -> pd.DataFrame:
    """One row per brand (and "All images"): the localisation metrics, Grad-CAM agreement when present.

    formatted=False gives numbers (mean, ci_low, ci_high, n per metric, MultiIndex columns);
    formatted=True gives "mean [low, high]" strings, for display.
    """
    metrics = {name: attention[name] for name in METRICS if name in attention}
    agreement = attention.get("gradcam_agreement") or {}
    for key, label in (("spearman", "gradcam_spearman"), ("topk_overlap", "gradcam_topk_overlap")):
        if key in agreement:
            metrics[label] = agreement[key]
    brands = list(dict.fromkeys(b for m in metrics.values() for b in m.get("per_brand", {})))
    rows = {}
    for brand in brands:
        if formatted:
            rows[brand] = {name: format_stat(m["per_brand"].get(brand)) for name, m in metrics.items()}
        else:
            rows[brand] = {(name, field): _number((m["per_brand"].get(brand) or {}).get(field))
                           for name, m in metrics.items() for field in ("mean", "ci_low", "ci_high", "n")}
    if formatted:
        rows[ALL_IMAGES] = {name: "" if m.get("mean") is None else f"{m['mean']:.2f}" for name, m in metrics.items()}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        return frame.rename(columns={**METRIC_LABELS, "gradcam_spearman": "Grad-CAM Spearman",
                                     "gradcam_topk_overlap": "Grad-CAM top-k overlap"})
    rows[ALL_IMAGES] = {(name, field): (_number(m.get("mean")) if field == "mean" else np.nan)
                        for name, m in metrics.items() for field in ("mean", "ci_low", "ci_high", "n")}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.columns = pd.MultiIndex.from_tuples(frame.columns)
    return frame


def zone_table(attention: dict) -> pd.DataFrame:
    """Long table of the body-zone profile: brand, zone, mean, ci_low, ci_high, n."""
    records = [
        {"brand": brand, "zone": zone, **{k: _number(stat.get(k)) for k in ("mean", "ci_low", "ci_high", "n")}}
        for brand, zones in attention.get("body_zones", {}).get("per_brand", {}).items()
        for zone in ZONES
        if (stat := zones.get(zone))
    ]
    return pd.DataFrame(records, columns=["brand", "zone", "mean", "ci_low", "ci_high", "n"])


def body_zone_figure(attention: dict, title: str = "Where the attention falls on the body") -> go.Figure:
    """Grouped bars: each brand's share of attention per body zone, with the bootstrap CI as error bars."""
    table = zone_table(attention)
    figure = go.Figure()
    for zone in ZONES:
        rows = table[table["zone"] == zone]
        figure.add_trace(go.Bar(
            name=zone, x=rows["brand"], y=rows["mean"], marker_color=ZONE_COLOURS[zone],
            error_y={"type": "data", "symmetric": False, "array": (rows["ci_high"] - rows["mean"]).to_numpy(),
                     "arrayminus": (rows["mean"] - rows["ci_low"]).to_numpy()},
            customdata=np.stack([rows["ci_low"], rows["ci_high"], rows["n"]], axis=-1) if len(rows) else None,
            hovertemplate="%{x}<br>" + zone + ": %{y:.3f} [%{customdata[0]:.3f}, %{customdata[1]:.3f}]"
                          "<br>n = %{customdata[2]:.0f}<extra></extra>",
        ))
    figure.update_layout(barmode="group", title=title, yaxis_title="share of attention", xaxis_title="brand",
                         legend_title="zone", yaxis_rangemode="tozero")
    return figure


def reliance_table(reliance: dict) -> pd.DataFrame:
    """Accuracy per brand (and overall) under each treatment, then the drops, as one numeric table."""
    treatments = list(reliance.get("treatments", []))
    rows = {brand: {**{t: _number(acc.get(t)) for t in treatments},
                    **{f"drop {t}": _number(reliance.get("per_brand_drop", {}).get(brand, {}).get(t))
                       for t in treatments if t != "original"}}
            for brand, acc in reliance.get("per_brand", {}).items()}
    rows[ALL_IMAGES] = {**{t: _number(reliance.get("accuracy", {}).get(t)) for t in treatments},
                        **{f"drop {t}": _number(reliance.get("drop", {}).get(t)) for t in treatments if t != "original"}}
    return pd.DataFrame.from_dict(rows, orient="index")


def reliance_photos(reliance: dict) -> pd.DataFrame | None:
    """Photos scored per brand (and overall) under each treatment, the counts behind the accuracies' intervals;
    None for a section written before the counts were kept."""
    if "per_brand_photos" not in reliance or "photos" not in reliance:
        return None
    rows = {brand: dict(counts) for brand, counts in reliance["per_brand_photos"].items()}
    rows[ALL_IMAGES] = dict(reliance["photos"])
    return pd.DataFrame.from_dict(rows, orient="index")


def background_reliance_figure(reliance: dict, title: str = "Accuracy when the background changes") -> go.Figure:
    """Grouped bars: accuracy per brand (and over all photos) under each background treatment."""
    table = reliance_table(reliance)
    photos = reliance_photos(reliance)
    figure = go.Figure()
    for treatment in reliance.get("treatments", []):
        drops = table.get(f"drop {treatment}", pd.Series(0.0, index=table.index))
        figure.add_trace(go.Bar(
            name=TREATMENT_LABELS.get(treatment, treatment), x=table.index, y=table[treatment],
            error_y=wilson_error_bars(table[treatment], photos[treatment].reindex(table.index))
            if photos is not None and treatment in photos else None,
            customdata=drops.to_numpy(),
            hovertemplate="%{x}<br>accuracy %{y:.3f}<br>drop %{customdata:.3f}<extra></extra>",
        ))
    figure.update_layout(barmode="group", title=title, yaxis_title="accuracy", yaxis_range=[0, 1.05],
                         xaxis_title="brand", legend_title=f"treatment ({reliance.get('n_images', 0)} photos)")
    return figure


def variant_table(attention_by_run: dict[str, dict]) -> pd.DataFrame:
    """Overall means per run (e.g. raw vs background-removed): one row per run, one column per metric and zone."""
    rows = {}
    for run, attention in attention_by_run.items():
        row = {METRIC_LABELS[m]: _number(attention.get(m, {}).get("mean")) for m in METRICS}
        row.update({zone: _number(attention.get("body_zones", {}).get("mean", {}).get(zone)) for zone in ZONES})
        rows[run] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def attention_gradcam_figure(image: Image.Image, attention: np.ndarray, gradcam: np.ndarray,
                             spearman: float | None = None, overlap: float | None = None,
                             opacity: float = 0.5, colormap: str = "jet") -> go.Figure:
    """The photo, its learned attention and its Grad-CAM side by side (heat maps over the photo)."""
    from model.maps import overlay  # the model package's one overlay (OpenCV colormap, bilinear upsampling)

    image = image.convert("RGB")
    panels = [np.asarray(image), np.asarray(overlay(image, attention, opacity, colormap)),
              np.asarray(overlay(image, gradcam, opacity, colormap))]
    titles = ["photo", "learned attention", "Grad-CAM"]
    figure = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.02)
    for column, panel in enumerate(panels, start=1):
        figure.add_trace(go.Image(z=panel, hoverinfo="skip"), row=1, col=column)
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    parts = []
    if spearman is not None and np.isfinite(spearman):
        parts.append(f"Spearman {spearman:.2f}")
    if overlap is not None and np.isfinite(overlap):
        parts.append(f"top-k overlap {overlap:.2f}")
    figure.update_layout(title="Attention vs Grad-CAM" + (f" ({', '.join(parts)})" if parts else ""),
                         margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return figure
