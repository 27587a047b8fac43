"""Plotly builders for brand analytics: pure functions from the analytics tables to figures.

Shared by the dashboard's pages and the exported report (dashboard/report.py), so a chart looks the
same in both. Nothing here reads files.
"""

from __future__ import annotations

from pathlib import PurePath

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from dashboard.figures import layout, wilson_error_bars

RANDOM_COLOUR = "#1f77b4"
COLLECTION_COLOUR = "#ff7f0e"
HIGHLIGHT_COLOUR = "#d62728"
MUTED_COLOUR = "#9e9e9e"


def brand_colours(brands) -> dict[str, str]:
    """One stable colour per brand (alphabetical order), shared by every chart."""
    palette = qualitative.Plotly + qualitative.D3
    return {brand: palette[i % len(palette)] for i, brand in enumerate(sorted({str(b) for b in brands}))}


def _error_bars(table: pd.DataFrame, prefix: str = "index") -> dict:
    return dict(
        type="data",
        symmetric=False,
        array=(table[f"{prefix}_high"] - table[prefix]).clip(lower=0).to_numpy(),
        arrayminus=(table[prefix] - table[f"{prefix}_low"]).clip(lower=0).to_numpy(),
    )


def index_figure(table: pd.DataFrame, highlight: str | None = None, comparison: pd.DataFrame | None = None) -> go.Figure:
    """The distinctiveness index per brand with its 95% CI, highest first.

    `table`: columns `brand, index, index_low, index_high` (distinctiveness_table). With `comparison`
    (compare_splits: `index_random`, `index_collection` and their CIs) the bars are grouped: random
    split vs by-collection split, so the gap shows how much a random split flatters each brand.
    """
    fig = go.Figure()
    if comparison is not None:
        ordered = comparison.sort_values("index_collection", ascending=False)
        for split, colour, label in (
            ("random", RANDOM_COLOUR, "random split"),
            ("collection", COLLECTION_COLOUR, "by-collection split"),
        ):
            part = ordered.rename(
                columns={f"index_{split}": "index", f"index_low_{split}": "index_low", f"index_high_{split}": "index_high"}
            )
            fig.add_bar(
                x=part["brand"], y=part["index"], name=label, marker_color=colour, error_y=_error_bars(part),
                hovertemplate="%{x}: %{y:.1f}<extra>" + label + "</extra>",
            )
        fig.update_layout(barmode="group")
        title = "Distinctiveness index: random vs by-collection split"
    else:
        ordered = table.dropna(subset=["index"]).sort_values("index", ascending=False)
        colours = [HIGHLIGHT_COLOUR if b == highlight else RANDOM_COLOUR for b in ordered["brand"]]
        fig.add_bar(
            x=ordered["brand"], y=ordered["index"], marker_color=colours, error_y=_error_bars(ordered),
            customdata=np.stack([ordered["index_low"], ordered["index_high"]], axis=1),
            hovertemplate="%{x}: %{y:.1f} (95% CI %{customdata[0]:.1f}–%{customdata[1]:.1f})<extra></extra>",
            showlegend=False,
        )
        title = "Distinctiveness index (0–100) with 95% CI"
    fig.update_layout(yaxis=dict(title="index", range=[0, 105]), xaxis_title=None)
    return layout(fig, title)


def _look_label(row) -> str:
    return f"{int(row['rank'])}. {row['brand']} · {PurePath(str(row['path'])).name}"


def knn_distance_figure(neighbours: pd.DataFrame) -> go.Figure:
    """Horizontal bars of the k nearest looks' cosine distances, nearest on top."""
    colours = brand_colours(neighbours["brand"])
    labels = [_look_label(row) for _, row in neighbours.iterrows()]
    fig = go.Figure(
        go.Bar(
            x=neighbours["distance"], y=labels, orientation="h",
            marker_color=[colours[str(b)] for b in neighbours["brand"]],
            hovertemplate="%{y}<br>cosine distance %{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(yaxis=dict(autorange="reversed", title=None), xaxis_title="cosine distance (0 = same direction)")
    return layout(fig, f"The {len(neighbours)} nearest runway looks", height=max(250, 40 * len(neighbours) + 100))


def brand_distance_histogram(distances: pd.DataFrame, bins: int = 30) -> go.Figure:
    """Overlaid histograms of the distances from a query to every look, one colour per brand."""
    colours = brand_colours(distances["brand"])
    fig = go.Figure()
    low, high = float(distances["distance"].min()), float(distances["distance"].max())
    size = (high - low) / bins if high > low else 0.01
    for brand, part in sorted(distances.groupby("brand"), key=lambda item: item[1]["distance"].median()):
        fig.add_histogram(
            x=part["distance"], name=f"{brand} (median {part['distance'].median():.3f})", opacity=0.6,
            marker_color=colours[str(brand)], xbins=dict(start=low, end=high + size, size=size),
        )
    fig.update_layout(barmode="overlay", xaxis_title="cosine distance to the photo", yaxis_title="looks")
    return layout(fig, "Distance from the photo to each brand's looks")


def drift_figure(table: pd.DataFrame, highlight: str | None = None) -> go.Figure:
    """Two stacked panels over the periods: each brand's centroid drift, and its accuracy."""
    colours = brand_colours(table["brand"])
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
        subplot_titles=("Drift from the brand's all-years centroid (cosine distance)", "Accuracy (95% Wilson interval)"),
    )
    for brand, part in table.groupby("brand", sort=True):
        part = part.sort_values("period")
        width = 4 if brand == highlight else 2
        colour = colours[str(brand)] if highlight in (None, brand) else MUTED_COLOUR
        for row, column in ((1, "drift"), (2, "accuracy")):
            fig.add_scatter(
                x=part["period"].astype(str), y=part[column], mode="lines+markers", name=str(brand),
                legendgroup=str(brand), showlegend=row == 1, line=dict(color=colour, width=width),
                customdata=part["looks"], hovertemplate=f"{brand} %{{x}}: %{{y:.3f}} (%{{customdata}} looks)<extra></extra>",
                error_y=wilson_error_bars(part["accuracy"], part["looks"]) if column == "accuracy" else None,
                row=row, col=1,
            )
    if highlight is not None and "null_p95" in table.columns:
        noise = table[table["brand"] == highlight].sort_values("period")
        fig.add_scatter(
            x=noise["period"].astype(str), y=noise["null_p95"], mode="lines", name=f"{highlight}: sampling noise (95th pct)",
            line=dict(color=colours.get(str(highlight), MUTED_COLOUR), dash="dot", width=1),
            hovertemplate="random same-size subsets, 95th percentile: %{y:.3f}<extra></extra>", row=1, col=1,
        )
    fig.update_xaxes(type="category", title_text="period", row=2, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(range=[0, 1.05], row=2, col=1)
    return layout(fig, "Identity over time", height=600)
