"""Plotly figure builders of the dashboard: pure functions from tables and arrays to figures.

Each builder takes plain pandas/numpy data and returns a `plotly.graph_objects.Figure`; the pages
show it and offer the same data as CSV. Nothing here reads files or calls Streamlit, so every
chart can be tested (and reused by a report) without a running app.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.evidence import interval_of

RAW_COLOUR = "#1f77b4"
NOBG_COLOUR = "#d62728"
THESIS_COLOUR = "#7f7f7f"
VARIANT_COLOURS = {"raw": RAW_COLOUR, "nobg": NOBG_COLOUR}
HEAT_SCALE = "Inferno"


def layout(fig: go.Figure, title: str, height: int | None = None) -> go.Figure:
    """The one title, margin, legend and toolbar placement every chart shares."""
    fig.update_layout(
        title=title, margin=dict(l=10, r=40, t=50, b=10), legend=dict(orientation="h", y=-0.15),
        modebar=dict(orientation="v"),  # beside the chart, so it never covers the title
    )
    if height:
        fig.update_layout(height=height)
    return fig


# --------------------------------------------------------------------------- dataset overview


def brand_counts_figure(counts: pd.DataFrame) -> go.Figure:
    """Grouped bars of images per brand: columns `brand`, `this dataset`, and optionally `thesis (3.2)`."""
    fig = go.Figure()
    fig.add_bar(x=counts["brand"], y=counts["this dataset"], name="this dataset", marker_color=RAW_COLOUR)
    if "thesis (3.2)" in counts:
        fig.add_bar(x=counts["brand"], y=counts["thesis (3.2)"], name="thesis (section 3.2)", marker_color=THESIS_COLOUR)
    fig.update_layout(barmode="group", yaxis_title="images", xaxis_title=None)
    return layout(fig, "Images per brand")


def thesis_counts_figure(counts: dict[str, int], selected: list[str]) -> go.Figure:
    """The thesis's ten largest brands (section 3.2), the six it kept highlighted."""
    names = list(counts)
    fig = go.Figure(
        go.Bar(
            x=names, y=[counts[n] for n in names],
            marker_color=[RAW_COLOUR if n in selected else THESIS_COLOUR for n in names],
            hovertemplate="%{x}: %{y} images<extra></extra>",
        )
    )
    fig.update_layout(yaxis_title="images")
    return layout(fig, "Thesis, section 3.2: images per brand (studied in blue)")


def split_counts_figure(counts: pd.DataFrame) -> go.Figure:
    """Stacked bars per brand of a long table `brand, split, images`."""
    fig = go.Figure()
    for split, part in counts.groupby("split", sort=False):
        fig.add_bar(x=part["brand"], y=part["images"], name=str(split))
    fig.update_layout(barmode="stack", yaxis_title="images")
    return layout(fig, "Images per brand and split")


def collections_by_year_figure(table: pd.DataFrame) -> go.Figure:
    """Collections per brand and year, from a long table `brand, year, collections`."""
    fig = go.Figure()
    for brand, part in table.groupby("brand", sort=False):
        fig.add_bar(x=part["year"].astype(str), y=part["collections"], name=str(brand))
    fig.update_layout(barmode="group", xaxis_title="year", yaxis_title="collections", xaxis_type="category")
    return layout(fig, "Collections per brand and year")


# --------------------------------------------------------------------------- training curves


def best_epoch(history: pd.DataFrame) -> int | None:
    """The epoch with the lowest validation loss (the checkpoint a run keeps), else the highest val accuracy."""
    if "val_loss" in history and history["val_loss"].notna().any():
        return int(history.loc[history["val_loss"].idxmin(), "epoch"])
    if "val_accuracy" in history and history["val_accuracy"].notna().any():
        return int(history.loc[history["val_accuracy"].idxmax(), "epoch"])
    return None


def history_figure(histories: dict[str, pd.DataFrame]) -> go.Figure:
    """Thesis figure 3.7: accuracy and loss, training vs validation, one row per variant label.

    `histories` maps a label ("with background (demo-raw)") to a history table with columns
    `epoch, accuracy, loss, val_accuracy, val_loss`; the best epoch is marked with a dotted line.
    """
    labels = list(histories)
    fig = make_subplots(
        rows=max(len(labels), 1),
        cols=2,
        subplot_titles=[f"{what}: {label}" for label in labels for what in ("Accuracy", "Loss")],
        vertical_spacing=0.18 if len(labels) > 1 else 0.1,
    )
    for row, label in enumerate(labels, start=1):
        history = histories[label]
        for col, metric in enumerate(("accuracy", "loss"), start=1):
            for key, name, dash in ((metric, "training", "solid"), (f"val_{metric}", "validation", "dash")):
                if key in history:
                    fig.add_scatter(
                        x=history["epoch"], y=history[key], mode="lines+markers", name=name,
                        line=dict(dash=dash, color=RAW_COLOUR if name == "training" else NOBG_COLOUR),
                        legendgroup=name, showlegend=row == 1 and col == 1, row=row, col=col,
                    )
            best = best_epoch(history)
            if best is not None:
                fig.add_vline(x=best, line_dash="dot", line_color="green", row=row, col=col)
                if col == 1:
                    fig.add_annotation(
                        x=best, y=1.0, yref="y domain", text=f"best epoch {best}",
                        showarrow=False, font=dict(color="green"), xanchor="left", row=row, col=col,
                    )
            fig.update_xaxes(title_text="epoch", row=row, col=col)
    return layout(fig, "Training curves", height=330 * max(len(labels), 1))


# --------------------------------------------------------------------------- performance


def normalise_rows(matrix: pd.DataFrame) -> pd.DataFrame:
    """Each row divided by its total (recall on the diagonal); empty rows stay 0."""
    totals = matrix.sum(axis=1).replace(0, np.nan)
    return matrix.div(totals, axis=0).fillna(0.0)


def confusion_figure(matrix: pd.DataFrame, title: str, normalised: bool = False) -> go.Figure:
    """A confusion matrix heatmap (rows true brand, columns predicted), counts or row shares in the cells.

    Plotly heatmaps cannot be selected, so an invisible square marker sits on every cell: clicking a
    cell selects its marker (Streamlit's `on_select` then reports the cell's true and predicted brand).
    """
    values = normalise_rows(matrix) if normalised else matrix
    text = values.map(lambda v: f"{v:.2f}") if normalised else values.map(lambda v: f"{int(v)}")
    fig = go.Figure(
        go.Heatmap(
            z=values.to_numpy(dtype=float), x=list(values.columns), y=list(values.index), text=text.to_numpy(),
            texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=1 if normalised else None, hoverinfo="skip",
            colorbar=dict(title="share of row" if normalised else "images"),
        )
    )
    rows, cols = np.meshgrid(values.index, values.columns, indexing="ij")
    fig.add_scatter(
        x=cols.ravel(), y=rows.ravel(), mode="markers", text=text.to_numpy().ravel(), showlegend=False,
        marker=dict(symbol="square", size=28, opacity=0.0, color="#d62728"),
        selected=dict(marker=dict(opacity=0.35)), unselected=dict(marker=dict(opacity=0.0)),
        hovertemplate="true %{y}<br>predicted %{x}<br>%{text}<extra>click: show photos</extra>",
    )
    fig.update_yaxes(autorange="reversed", title="true brand")
    fig.update_xaxes(title="predicted brand", side="bottom")
    fig.update_layout(clickmode="event+select", dragmode=False)
    return layout(fig, title, height=430)


def per_class_figure(reports: dict[str, pd.DataFrame], metric: str = "f1") -> go.Figure:
    """Grouped bars of one per-class metric, one bar group per report label."""
    fig = go.Figure()
    for label, report in reports.items():
        classes = report.drop(index=[i for i in report.index if i in ("macro avg", "weighted avg")], errors="ignore")
        fig.add_bar(x=list(classes.index), y=classes[metric], name=label)
    fig.update_layout(barmode="group", yaxis=dict(range=[0, 1], title=metric))
    return layout(fig, f"Per-brand {metric}")


def confusion_row_figure(row: pd.Series, brand: str) -> go.Figure:
    """Where one brand's test photos went: the share predicted as each brand (its own bar highlighted)."""
    total = float(row.sum()) or 1.0
    fig = go.Figure(
        go.Bar(
            x=list(row.index), y=(row / total).to_numpy(), text=[str(int(v)) for v in row.to_numpy()],
            marker_color=[NOBG_COLOUR if b == brand else THESIS_COLOUR for b in row.index],
            hovertemplate="predicted %{x}: %{y:.0%} (%{text} photos)<extra></extra>",
        )
    )
    fig.update_layout(yaxis=dict(title="share of its test photos", tickformat=".0%", range=[0, 1.05]))
    return layout(fig, f"{brand} photos predicted as", height=340)


def wilson_error_bars(accuracy, photos) -> dict | None:
    """Plotly `error_y`/`error_x` of accuracies measured on `photos` each: their 95% Wilson intervals
    (None when the counts are unknown, as in artifacts written before the counts were kept)."""
    if photos is None:
        return None
    bounds = [interval_of(None if pd.isna(a) else float(a), None if pd.isna(n) else int(n))
              for a, n in zip(accuracy, photos, strict=True)]
    values = np.asarray([np.nan if pd.isna(a) else float(a) for a in accuracy])
    low, high = np.asarray([b[0] for b in bounds]), np.asarray([b[1] for b in bounds])
    return dict(type="data", symmetric=False, array=np.clip(high - values, 0, None),
                arrayminus=np.clip(values - low, 0, None))


def accuracy_intervals_figure(table: pd.DataFrame, label: str, title: str, colour_by: str | None = None) -> go.Figure:
    """Accuracy per row with its 95% interval as error bars: columns `label`, `accuracy` (or `mean_accuracy`),
    `ci_low`, `ci_high`, and optionally `colour_by` (one trace per value)."""
    value = "accuracy" if "accuracy" in table else "mean_accuracy"
    groups = table.groupby(colour_by, sort=False) if colour_by else [("", table)]
    fig = go.Figure()
    for name, rows in groups:
        values = rows[value].astype(float)
        fig.add_bar(
            x=rows[label], y=values, name=str(name) or value,
            marker_color=VARIANT_COLOURS.get(str(name), RAW_COLOUR) if colour_by else RAW_COLOUR,
            error_y=dict(type="data", symmetric=False, array=(rows["ci_high"].astype(float) - values).clip(lower=0),
                         arrayminus=(values - rows["ci_low"].astype(float)).clip(lower=0)),
            hovertemplate="%{x}: %{y:.3f}<extra></extra>",
        )
    fig.update_layout(barmode="group", yaxis=dict(title="test accuracy (95% interval)", range=[0, 1.05]))
    return layout(fig, title)


# --------------------------------------------------------------------------- attention heatmaps


def log_ticks(zmin: float, zmax: float, max_ticks: int = 6) -> tuple[list[float], list[str]]:
    """Colour-bar ticks for a heatmap of log10 values: positions in log10, labels as the real values.

    Whole decades when the range spans at least one, else a few evenly spaced real values.
    """
    if not (math.isfinite(zmin) and math.isfinite(zmax)) or zmax <= zmin:
        value = 10 ** zmin if math.isfinite(zmin) else 0.0
        return [zmin], [f"{value:.3g}"]
    if zmax - zmin >= 1:
        low, high = math.ceil(zmin), math.floor(zmax)
        step = max(1, math.ceil((high - low + 1) / max_ticks))
        positions = [float(p) for p in range(low, high + 1, step)]
    else:
        reals = np.linspace(10 ** zmin, 10 ** zmax, max_ticks)
        reals = np.unique([float(f"{r:.2g}") for r in reals])
        positions = [math.log10(r) for r in reals if zmin <= math.log10(r) <= zmax]
    return positions, [f"{10 ** p:.3g}" for p in positions]


def log10_positive(values: np.ndarray) -> tuple[np.ndarray, float]:
    """log10 of a non-negative array; zeros are set one decade below the smallest positive value."""
    values = np.asarray(values, dtype=np.float64)
    positive = values[values > 0]
    floor = float(positive.min()) / 10 if positive.size else 1e-12
    return np.log10(np.maximum(values, floor)), floor


def brand_heatmaps_figure(
    maps: dict[str, np.ndarray],
    title: str,
    log_scale: bool = True,
    silhouettes: dict[str, np.ndarray] | None = None,
    columns: int = 3,
    colour_title: str = "attention",
) -> go.Figure:
    """One heatmap per brand on one shared colour scale (thesis figures 3.8/3.9).

    Plotly has no logarithmic colour scale, so with `log_scale` the cells hold log10 values and the
    colour bar's tick labels are relabelled with the real values. `silhouettes` (brand -> [0, 1]
    mask of the same shape) adds the brand's mean figure outline as a contour.
    """
    brands = list(maps)
    rows = max(1, math.ceil(len(brands) / columns))
    cols = min(columns, max(len(brands), 1))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=brands, horizontal_spacing=0.03, vertical_spacing=0.08)
    if not brands:
        return layout(fig, title)
    stack = np.stack([np.asarray(maps[b], dtype=np.float64) for b in brands])
    if log_scale:
        shown, _ = log10_positive(stack)
    else:
        shown = stack
    zmin, zmax = float(np.nanmin(shown)), float(np.nanmax(shown))
    colorbar = dict(title=colour_title, len=0.9)
    if log_scale:
        tickvals, ticktext = log_ticks(zmin, zmax)
        colorbar.update(tickvals=tickvals, ticktext=ticktext, title=f"{colour_title} (log scale)")
    for index, brand in enumerate(brands):
        row, col = index // cols + 1, index % cols + 1
        real = stack[index]
        fig.add_trace(
            go.Heatmap(
                z=shown[index], customdata=real, zmin=zmin, zmax=zmax, colorscale=HEAT_SCALE,
                showscale=index == 0, colorbar=colorbar,
                hovertemplate=f"{brand}<br>row %{{y}}, col %{{x}}<br>value %{{customdata:.4g}}<extra></extra>",
            ),
            row=row, col=col,
        )
        if silhouettes and brand in silhouettes:
            fig.add_trace(
                go.Contour(
                    z=silhouettes[brand], showscale=False, contours=dict(start=0.5, end=0.5, size=1, coloring="lines"),
                    line=dict(color="cyan", width=2), hoverinfo="skip", name="mean silhouette",
                ),
                row=row, col=col,
            )
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_xaxes(showticklabels=False, constrain="domain")
    for index in range(len(brands)):  # cells stay square: each y axis is anchored to its own x axis
        suffix = "" if index == 0 else str(index + 1)
        fig.layout[f"yaxis{suffix}"].update(scaleanchor=f"x{suffix}", constrain="domain")
    side = stack.shape[1] / max(stack.shape[2], 1)
    return layout(fig, title, height=int(90 + rows * min(400, 230 * side)))


def heatmap_table(maps: dict[str, np.ndarray], key: str = "brand") -> pd.DataFrame:
    """Named 2-D maps as one long table (`key`, row, col, value) for CSV export."""
    frames = []
    for name, grid in maps.items():
        grid = np.asarray(grid, dtype=np.float64)
        rows, cols = np.indices(grid.shape)
        frames.append(pd.DataFrame({key: name, "row": rows.ravel(), "col": cols.ravel(), "value": grid.ravel()}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[key, "row", "col", "value"])


# --------------------------------------------------------------------------- analyse a photo


def probability_figure(probabilities: pd.Series, title: str, colour: str = RAW_COLOUR) -> go.Figure:
    """Horizontal bars of class probabilities, most likely on top."""
    ordered = probabilities.sort_values()
    fig = go.Figure(
        go.Bar(
            x=ordered.to_numpy(), y=list(ordered.index), orientation="h", marker_color=colour,
            text=[f"{p:.1%}" for p in ordered], textposition="auto",
            hovertemplate="%{y}: %{x:.2%}<extra></extra>",
        )
    )
    fig.update_xaxes(range=[0, 1], tickformat=".0%", title="probability")
    return layout(fig, title, height=80 + 32 * len(ordered))


def timings_figure(timings: pd.DataFrame) -> go.Figure:
    """Horizontal bars of seconds per step, from a table `step, seconds`."""
    fig = go.Figure(
        go.Bar(
            x=timings["seconds"], y=timings["step"], orientation="h", marker_color=THESIS_COLOUR,
            text=[f"{s * 1000:.0f} ms" for s in timings["seconds"]], textposition="auto",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="seconds")
    return layout(fig, "Time per step", height=80 + 32 * len(timings))
