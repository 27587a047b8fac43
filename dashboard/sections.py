"""Attention-analytics sections of the Attention and Brand pages, shown when their artifacts exist.

Attention metrics and background reliance come from the `attention` and `background_reliance`
sections of a run's metrics.json (`python -m analysis attention --run <run>`), drawn with the analytics'
own builders (`dashboard.figures.attention`). When a section's artifact is missing the page says
which command makes it, instead of failing. Brand analytics are in brand_sections.py.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import artifacts, ui
from dashboard.artifacts import RunInfo
from dashboard.figures import attention as attention_figures
from dashboard.figures import identity as identity_figures

ANALYSIS_COMMAND = artifacts.ATTENTION_COMMAND


def _missing(runs: dict[str, RunInfo], what: str) -> None:
    commands = "; ".join(f"`{ANALYSIS_COMMAND.format(run=r.name)}`" for r in runs.values())
    st.info(f"No {what} for the selected runs yet: {commands} computes it.")


def read_metrics(runs: dict[str, RunInfo]) -> dict[str, dict]:
    """variant -> the run's metrics ({} after a warning when damaged); read once per section, reported once."""
    return {variant: ui.read_or_warn(artifacts.run_metrics, run) or {} for variant, run in runs.items()}


def attention_sections(metrics: dict[str, dict]) -> dict[str, dict]:
    """variant -> the metrics' `attention` section, for the runs that have one."""
    return {v: a for v, m in metrics.items() if (a := m.get("attention"))}


def flat_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A table with MultiIndex columns (metric, field) flattened to "metric field", brand as a column."""
    frame = frame.copy()
    if isinstance(frame.columns, pd.MultiIndex):
        frame.columns = [" ".join(str(p) for p in column) for column in frame.columns]
    return frame.rename_axis("brand").reset_index()


def map_faithfulness(sel: ui.Selection, runs: dict[str, RunInfo]) -> None:
    """How often each kind of map tells the demo's counterfactual truth (identity.json's `faithfulness`)."""
    st.subheader("How faithful is each kind of map")
    st.caption(
        "A heatmap shows where a method puts the evidence, not that the evidence is there. On the demo, "
        "`python -m analysis identity` redraws each photo with one cue changed and checks each method against that "
        "truth: for how many houses its top zone is the truth's, and how well it ranks the zones (Spearman, "
        "-1 to 1); the rival columns ask the same of the contrast with each house's twin (docs/IDENTITY.md)."
    )
    columns = st.columns(len(runs))
    for col, (variant, run) in zip(columns, runs.items(), strict=True):
        with col:
            st.markdown(f"**{sel.label(variant)}**")
            faithfulness_of_run(run, variant)


def faithfulness_of_run(run: RunInfo, variant: str) -> None:
    identity = ui.read_or_warn(artifacts.run_identity, run)
    if identity is None:
        return
    if not identity:
        command = artifacts.IDENTITY_COMMAND.format(run=run.name)
        st.info(f"Not measured for `{run.name}` yet: `{command}` measures it.")
        return
    table = identity_figures.faithfulness_table(identity.get("faithfulness"))
    if table.empty:
        st.caption(f"Faithfulness is measured on demo data only; this run's identity profile is "
                   f"{identity_figures.method_sentence(identity)}.")
        return
    st.dataframe(table, hide_index=True)
    st.caption(f"Headline method: `{identity.get('headline_method')}`.")
    st.download_button("Download (CSV)", ui.csv_bytes(table), f"{run.name}-map-faithfulness.csv", "text/csv",
                       key=f"faithfulness_csv_{variant}", on_click="ignore")


def attention_metrics(sel: ui.Selection, runs: dict[str, RunInfo]) -> None:
    """The Attention page's measured side: localisation metrics, body zones, background reliance, Grad-CAM."""
    st.divider()
    st.header("Attention, measured")
    st.caption(
        "The thesis judged its maps by eye; these numbers come from `python -m analysis attention` "
        "(docs/ATTENTION.md): means per brand with bootstrap 95% confidence intervals in brackets."
    )
    metrics = read_metrics(runs)
    sections = attention_sections(metrics)
    if not sections:
        _missing(runs, "attention metrics")
    else:
        overall = attention_figures.variant_table({sel.label(v): a for v, a in sections.items()})
        st.markdown("**Overall means per model**")
        st.dataframe(overall.style.format("{:.3f}"))
        st.download_button("Download (CSV)", ui.csv_bytes(overall.rename_axis("run").reset_index()),
                           "attention-overall.csv", "text/csv", key="att_overall_csv", on_click="ignore")
        columns = st.columns(len(sections))
        for col, (variant, attention) in zip(columns, sections.items(), strict=True):
            with col:
                st.markdown(f"**{sel.label(variant)}** · figure masks from {attention.get('mask_source', 'unknown')}")
                st.dataframe(attention_figures.metrics_table(attention, formatted=True))
                numbers = flat_columns(attention_figures.metrics_table(attention))
                st.download_button("Download (CSV)", ui.csv_bytes(numbers),
                                   f"{runs[variant].name}-attention-metrics.csv", "text/csv",
                                   key=f"att_metrics_csv_{variant}", on_click="ignore")

    st.subheader("Body-zone profile")
    with_zones = {v: a for v, a in sections.items() if (a.get("body_zones") or {}).get("per_brand")}
    if not with_zones:
        _missing(runs, "body-zone profile")
    else:
        columns = st.columns(len(with_zones))
        for col, (variant, attention) in zip(columns, with_zones.items(), strict=True):
            with col:
                ui.show_figure(
                    attention_figures.body_zone_figure(attention, f"Attention by body zone: {sel.label(variant)}"),
                    attention_figures.zone_table(attention), f"{runs[variant].name}-body-zones", f"zones_{variant}",
                )
        st.caption("Zones: head, torso, legs, feet of the figure; exact masks for the demo, derived from the figure's "
                   "height for real photos. Error bars: bootstrap 95% CI.")

    st.subheader("Background reliance")
    reliance = {v: section for v, m in metrics.items() if (section := m.get("background_reliance"))}
    if not reliance:
        _missing(runs, "background-reliance test")
    else:
        columns = st.columns(len(reliance))
        for col, (variant, section) in zip(columns, reliance.items(), strict=True):
            with col:
                ui.show_figure(
                    attention_figures.background_reliance_figure(section, f"Background changed: {sel.label(variant)}"),
                    attention_figures.reliance_table(section).rename_axis("brand").reset_index(),
                    f"{runs[variant].name}-background-reliance", f"reliance_{variant}",
                )
        st.caption(
            "Accuracy on the test photos with the background removed, swapped for another venue, or blurred. "
            "A large drop means the model recognises the venue rather than the clothes."
        )

    st.subheader("Grad-CAM agreement and sanity check")
    rows = []
    for variant, attention in sections.items():
        gradcam = attention.get("gradcam_agreement") or {}
        sanity = attention.get("sanity_check") or {}
        if gradcam or sanity:
            rows.append({
                "run": sel.label(variant),
                "Grad-CAM layer": gradcam.get("layer"),
                "Spearman (mean)": (gradcam.get("spearman") or {}).get("mean"),
                f"top-{gradcam.get('k_percent', 10)}% overlap (mean)": (gradcam.get("topk_overlap") or {}).get("mean"),
                "randomised branch: Spearman": sanity.get("spearman_original_vs_randomised"),
                "maps changed": sanity.get("maps_changed"),
            })
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        st.caption(
            "Agreement between the learned attention and Grad-CAM (rank correlation, top-k% overlap; the Analyse page "
            "shows both for any photo). The sanity check randomises the attention branch's weights (Adebayo et al. "
            "2018): the maps must change."
        )
    else:
        _missing(runs, "Grad-CAM comparison")


def brand_attention(sel: ui.Selection, runs: dict[str, RunInfo], brand: str) -> None:
    """One brand's attention metrics, background reliance and body-zone profile per model (Brand page)."""
    rows = []
    metrics = read_metrics(runs)
    for variant, run_metrics in metrics.items():
        attention, reliance = run_metrics.get("attention"), run_metrics.get("background_reliance")
        if not attention:
            continue
        table = attention_figures.metrics_table(attention, formatted=True)
        row = table.loc[brand].to_dict() if brand in table.index else {}
        if reliance:
            drops = (reliance.get("per_brand_drop") or {}).get(brand) or {}
            row.update({f"accuracy drop, background {t}": drops.get(t) for t in reliance.get("treatments", [])
                        if t != "original"})
        rows.append({"model": sel.label(variant), **row})
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        st.caption("Means with bootstrap 95% CIs in brackets; an accuracy drop is original accuracy minus accuracy "
                   "with the background changed (large = the model leans on the venue).")
    profiles = {
        variant: zones
        for variant, attention in attention_sections(metrics).items()
        if (zones := ((attention.get("body_zones") or {}).get("per_brand") or {}).get(brand))
    }
    if not profiles:
        _missing(runs, f"body-zone profile of {brand}")
        return
    columns = st.columns(len(profiles))
    for col, (variant, zones) in zip(columns, profiles.items(), strict=True):
        one = {"body_zones": {"per_brand": {brand: zones}}}
        with col:
            ui.show_figure(
                attention_figures.body_zone_figure(one, f"{brand}: {sel.label(variant)}"),
                attention_figures.zone_table(one), f"{runs[variant].name}-{brand}-body-zones", f"brand_zones_{variant}",
            )
