"""Attention heatmaps: per-brand aggregated attention (thesis figures 3.8/3.9) and the attention metrics."""

from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import artifacts, figures, sections, ui

MAX_SHOWN_SIDE = 112  # upsampled maps are shown at most this many cells a side (the CSV has the same)

sel = ui.page_header(
    "Attention heatmaps",
    "Where each model looks, summed over a brand's test photos: raw and background-removed side by side.",
)
chosen = ui.require_runs(sel)

c1, c2, c3, c4 = st.columns(4)
by = c1.radio("Aggregate by", ["true brand", "predicted brand"], key="att_by", horizontal=True)
statistic = c2.radio("Per brand", ["sum", "mean per image"], key="att_stat", horizontal=True)
resolution = c3.radio("Map", ["native grid", "upsampled"], key="att_res", horizontal=True)
# The thesis network's one-hot maps need a log colour scale to show anything but one cell; the
# attention-pool maps read on a linear one. The log scale stays an option, as the thesis used it.
peaked = any(run.architecture == "thesis" for run in chosen.values())
log_scale = c4.toggle("Log scale", value=peaked, key="att_log",
                      help="On by default for the thesis network, whose maps put nearly all their mass on one cell.")
silhouette = st.checkbox("Outline the brand's mean silhouette (from the figure masks)", key="att_silhouette")


def brand_maps(sums: dict[str, np.ndarray], by_true: bool, mean: bool, upsampled: bool) -> dict[str, np.ndarray]:
    """brand -> aggregated map, from the run's attention sums (sums or per-image means)."""
    who = "true" if by_true else "pred"
    stack = np.asarray(sums[f"by_{who}_{'upsampled' if upsampled else 'native'}"], dtype=np.float64)
    if mean:
        counts = np.asarray(sums[f"count_by_{who}"], dtype=np.float64)
        stack = stack / np.clip(counts, 1, None)[:, None, None]
    if upsampled and max(stack.shape[1:]) > MAX_SHOWN_SIDE:
        step = int(np.ceil(max(stack.shape[1:]) / MAX_SHOWN_SIDE))
        stack = stack[:, ::step, ::step]
    names = [str(n) for n in sums["class_names"]]
    return dict(zip(names, stack, strict=True))


columns = st.columns(len(chosen))
for col, (variant, run) in zip(columns, chosen.items(), strict=True):
    with col:
        st.subheader(sel.label(variant))
        ui.warn_if_test_set_is_thin(run, ui.read_or_warn(artifacts.run_metrics, run))
        sums = ui.read_or_warn(artifacts.run_attention_sums, run)
        if sums is None:
            continue
        maps = brand_maps(sums, by == "true brand", statistic != "sum", resolution == "upsampled")
        outlines = None
        if silhouette:
            manifest = ui.read_or_warn(artifacts.dataset_manifest, sel.dataset_dir, variant)
            shape = next(iter(maps.values())).shape if maps else (0, 0)
            outlines = artifacts.mean_silhouettes(manifest, shape) if manifest is not None else {}
            if not outlines:
                st.caption("No figure masks in this dataset's manifest, so no silhouette.")
        what = "attention sum" if statistic == "sum" else "mean attention"
        ui.show_figure(
            figures.brand_heatmaps_figure(maps, f"{run.name}: {what} by {by}", log_scale, outlines, columns=2, colour_title=what),
            figures.heatmap_table(maps), f"{run.name}-attention-{by}-{statistic}-{resolution}", f"heat_{variant}",
        )

st.caption(
    "Plotly has no logarithmic colour scale: with *Log scale* on, the cells hold log10 of the values and the colour "
    "bar is labelled with the real values (zeros sit one decade below the smallest value). Rows and columns are "
    "the model's input grid (photos are resized to a square). " + ui.PNG_HINT
)

sections.map_faithfulness(sel, chosen)
sections.attention_metrics(sel, chosen)
