"""Brand-page sections fed by `python -m analysis`: identity profile, index, drift, report export.

Each reads the run's brand analytics (`RunFolder.brand_analytics`) and draws with `dashboard.figures.brand` (the
builders the exported report shares); a missing section says which command makes it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import artifacts, ui
from dashboard.artifacts import RunInfo
from dashboard.figures import brand as brand_figures
from dashboard.figures import identity as identity_figures


def read_analytics(runs: dict[str, RunInfo]) -> dict[str, dict]:
    """variant -> the run's brand analytics ({} before `python -m analysis` ran, or after a warning when damaged).
    Read once per page, so a damaged file is reported once."""
    return {variant: ui.read_or_warn(artifacts.run_brand_analytics, run) or {} for variant, run in runs.items()}


def identity_missing(run: RunInfo) -> None:
    command = artifacts.IDENTITY_COMMAND.format(run=run.name)
    st.info(f"No identity profile for `{run.name}` yet: `{command}` measures where each house's identity lives. "
            "On the demo, `make run` computes it behind the dashboard in the first minutes (reload to see it).")


def identity_profile(run: RunInfo, brand: str) -> None:
    """Where the brand's identity lives (identity.json's `profile`), then what tells it from its rival (`rival`)."""
    st.subheader("Identity profile")
    identity = ui.read_or_warn(artifacts.run_identity, run)
    if identity is None:  # damaged: the warning names the file and the command
        return
    if not identity:
        identity_missing(run)
        return
    profile = (identity.get("profile") or {}).get(brand)
    if not profile:
        st.info(f"identity.json of `{run.name}` has no profile for {brand}.")
        return
    st.caption(f"The drop in the model's evidence for {brand} (its score against the other houses', in logits) "
               "when each zone is replaced, "
               f"{identity_figures.method_sentence(identity)}. Bigger is more identity; overlapping intervals "
               "are not reliably ordered (docs/IDENTITY.md).")
    table = identity_figures.effects_with_truth(profile, "truth")
    ui.show_figure(identity_figures.identity_profile_figure(profile, brand), table,
                   f"{run.name}-{brand}-identity-profile", "identity_profile")
    if "truth" in table:
        st.caption("Beside each bar, the demo's counterfactual truth: the same photo redrawn with only that "
                   "zone changed (every cue in it made basic; for the background, another venue).")
    rival_section(run, identity, brand)


def rival_section(run: RunInfo, identity: dict, brand: str) -> None:
    entry = (identity.get("rival") or {}).get(brand)
    if not entry or not entry.get("rival"):
        return
    rival = entry["rival"]
    st.markdown(f"**What tells {brand} from {rival}**")
    if entry.get("basis") == "confusion":
        why = (f"{entry.get('taken_for_rival', 0)} {brand} photos taken for {rival}, "
               f"{entry.get('rival_taken_for_brand', 0)} {rival} photos taken for {brand}")
    else:
        why = "never confused: the house its photos come closest to in probability"
    st.write(f"Closest rival: **{rival}** ({why}). Each bar is how much replacing that zone narrows the gap "
             f"between {brand} and {rival}: the zones that set them apart.")
    ui.show_figure(identity_figures.rival_figure(entry, brand), identity_figures.effects_with_truth(entry, "twin_truth"),
                   f"{run.name}-{brand}-{rival}-contrast", "identity_rival")


def distinctiveness(sel: ui.Selection, runs: dict[str, RunInfo], analytics: dict[str, dict], brand: str) -> None:
    st.subheader("Distinctiveness index")
    formula = ""
    for variant, run in runs.items():
        section = analytics[variant].get("index") or {}
        records = section.get("brands") or []
        if not records:
            continue
        formula = section.get("formula") or formula
        table = pd.DataFrame(records)
        comparison = (analytics[variant].get("split_comparison") or {}).get("brands")
        st.markdown(f"**{sel.label(variant)}** · {section.get('split') or 'unknown'} split, {section.get('test_looks', '?')} test looks")
        row = table[table["brand"] == brand]
        if not row.empty:
            r = row.iloc[0]
            c = st.columns(5)
            c[0].metric("Index (0–100)", f"{r['index']:.1f}", help=f"95% CI {r['index_low']:.1f}–{r['index_high']:.1f}")
            c[1].metric("Recall", f"{r['recall']:.2f}", help=_ci_help(r, "recall"))
            c[2].metric("F1", f"{r['f1']:.2f}", help=_ci_help(r, "f1"))
            c[3].metric("Silhouette", f"{r['silhouette']:.2f}")
            c[4].metric("Margin", f"{r['margin']:.2f}")
            st.caption(f"95% CIs (bootstrap): index {r['index_low']:.1f}–{r['index_high']:.1f}, recall "
                       f"{_range(r, 'recall')}, F1 {_range(r, 'f1')} on {int(r.get('support') or 0)} test looks; "
                       f"most often mistaken for {r.get('most_confused_with') or 'no other brand'}.")
        fig = brand_figures.index_figure(table, highlight=brand, comparison=pd.DataFrame(comparison) if comparison else None)
        ui.show_figure(fig, pd.DataFrame(comparison) if comparison else table, f"{run.name}-distinctiveness", f"index_{variant}")
    if formula:  # the definition, in the analytics' own words: the number is never a black box
        equation, _, parts = formula.partition("\n")
        st.markdown(f"**Formula.** {equation}")
        with st.expander("What each part measures, and the confidence intervals"):
            st.text(parts)
    else:
        names = " / ".join(r.name for r in runs.values())
        st.info(f"No distinctiveness index yet: `python -m analysis index --run {names}` computes it.")


def drift(sel: ui.Selection, runs: dict[str, RunInfo], analytics: dict[str, dict], brand: str) -> None:
    st.subheader("Identity over time")
    shown = False
    for variant, run in runs.items():
        section = analytics[variant].get("drift") or {}
        records = section.get("table") or []
        if not records:
            continue
        shown = True
        table = pd.DataFrame(records)
        st.markdown(f"**{sel.label(variant)}**")
        ui.show_figure(brand_figures.drift_figure(table, highlight=brand), table, f"{run.name}-drift", f"drift_{variant}")
        st.caption(section.get("definition", ""))
    if not shown:
        names = " / ".join(r.name for r in runs.values())
        st.info(f"No drift analysis yet: `python -m analysis drift --run {names}` computes it.")


def report_export(sel: ui.Selection, run: RunInfo, brand: str) -> None:
    st.subheader("Report")
    command = f"`python -m dashboard.report --run {run.name} --brand \"{brand}\"`"
    st.caption(f"One self-contained HTML file with the index, confusion row, heatmaps, body zones, identity profile and examples ({command}).")
    if st.button(f"Build the HTML report for {brand}", key="report_build"):
        from dashboard import report  # imported on demand: it pulls in scikit-learn

        try:
            with st.spinner("Building the report…"):
                html = report.build_report(run.path, brand)
        except (ValueError, OSError) as exc:  # the report's own user-facing errors (AnalyticsError is a ValueError)
            st.error(f"The report could not be built: {exc}")
            return
        st.download_button(
            "Download the report (HTML)", html.encode("utf-8") if isinstance(html, str) else html,
            file_name=f"{ui.safe_name(run.name)}-{ui.safe_name(brand)}-report.html", mime="text/html",
            key="report_download", on_click="ignore",
        )


def _range(record, name: str) -> str:
    low, high = record.get(f"{name}_low"), record.get(f"{name}_high")
    return "–" if low is None or high is None or pd.isna(low) or pd.isna(high) else f"{low:.2f}–{high:.2f}"


def _ci_help(record, name: str) -> str:
    return f"95% CI (bootstrap) {_range(record, name)}"
