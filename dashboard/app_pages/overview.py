"""Overview: the dataset behind the selected runs, beside the thesis's own brand counts (section 3.2)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.contract import ContractError
from dashboard import artifacts, figures, thesis, ui

SAMPLES_PER_BRAND = 6
THUMB_SIDE = 160
PREPARE = "run `python -m data prepare` for it"

sel = ui.page_header(
    "Overview", "The dataset the selected runs were trained on: brands, photos, collections, years and split."
)
damaged = ui.report_damaged(sel)  # the page is about the dataset, but a selected run that cannot be read says why
if not sel.dataset_dir:
    if not damaged:  # runs that cannot be read are not "no runs"
        ui.no_runs(sel)
    st.stop()

folder = artifacts.dataset_folder(sel.dataset_dir)
if not folder.exists():
    st.warning(f"Dataset `{sel.dataset}` has no {folder.manifest.name}; {PREPARE}.")
    ui.no_runs(sel)
    st.stop()
try:
    manifest = artifacts.dataset_manifest(sel.dataset_dir)
except ContractError as exc:
    st.error(f"{exc}; {PREPARE} again.")
    st.stop()
try:
    summary = artifacts.dataset_summary(sel.dataset_dir)
except ContractError as exc:  # the manifest alone still fills the page
    st.warning(f"{exc}; {PREPARE} again.")
    summary = {}

reference = thesis.reference()
brands = list(summary.get("brands") or sorted(manifest["brand"].unique()))
years = pd.to_numeric(manifest.get("year", pd.Series(dtype=str)), errors="coerce").dropna().astype(int)

cols = st.columns(5)
cols[0].metric("Brands", len(brands))
cols[1].metric("Images", f"{len(manifest):,}")
cols[2].metric("Collections", int(manifest["collection"].replace("", pd.NA).nunique()) if "collection" in manifest else 0)
cols[3].metric("Years", f"{years.min()}–{years.max()}" if len(years) else "unknown")
split = summary.get("split", "unknown")
cols[4].metric("Split", {"random": "random", "collection": "by collection"}.get(split, split))
if split == "random":
    st.caption(
        "Random split: photos of one show can sit in both train and test, which flatters accuracy; "
        "`python -m data prepare --split collection` keeps each show on one side."
    )

# Images per brand, ours beside the thesis's (section 3.2).
per_brand = manifest.groupby("brand").size().reindex(brands, fill_value=0)
thesis_counts = reference["brand_counts"]["counts"]
selected = reference["brand_counts"]["selected"]
counts = pd.DataFrame({"brand": per_brand.index, "this dataset": per_brand.to_numpy()})
counts["thesis (3.2)"] = [thesis_counts.get(b) for b in counts["brand"]]
if counts["thesis (3.2)"].isna().all():
    counts = counts.drop(columns="thesis (3.2)")
left, right = st.columns(2)
with left:
    ui.show_figure(figures.brand_counts_figure(counts), counts, f"{sel.dataset}-images-per-brand", "counts")
with right:
    thesis_table = pd.DataFrame(
        {"brand": list(thesis_counts), "images": list(thesis_counts.values())}
    ).assign(studied=lambda f: f["brand"].isin(selected))
    ui.show_figure(figures.thesis_counts_figure(thesis_counts, selected), thesis_table, "thesis-brand-counts", "thesis")
    st.caption(f"{reference['brand_counts']['source']}. Source: {thesis.citation_text()}")

left, right = st.columns(2)
with left:
    by_split = manifest.groupby(["brand", "split"]).size().rename("images").reset_index()
    ui.show_figure(figures.split_counts_figure(by_split), by_split, f"{sel.dataset}-split-counts", "splits")
if len(years) and "collection" in manifest:
    table = (
        manifest.assign(year=pd.to_numeric(manifest["year"], errors="coerce"))
        .dropna(subset=["year"])
        .astype({"year": int})
        .groupby(["brand", "year"])["collection"].nunique().rename("collections").reset_index()
    )
    with right:
        ui.show_figure(figures.collections_by_year_figure(table), table, f"{sel.dataset}-collections-by-year", "years")
st.caption(ui.PNG_HINT)

st.subheader("Sample photos per brand")
test_first = manifest.sort_values("split", key=lambda s: s.ne("test"), kind="stable")
for brand in brands:
    rows = test_first[test_first["brand"] == brand].head(SAMPLES_PER_BRAND)
    thumbs = [(artifacts.thumbnail(p, THUMB_SIDE), c) for p, c in zip(rows["path"], rows["collection"], strict=True)]
    thumbs = [(t, c) for t, c in thumbs if t is not None]
    st.markdown(f"**{brand}** · {int(per_brand.get(brand, 0))} photos")
    if thumbs:
        st.image([t for t, _ in thumbs], caption=[c for _, c in thumbs], width=110)

with st.expander("Preparation details"):
    details = {
        k: summary.get(k)
        for k in ("name", "split", "seed", "test_fraction", "val_fraction", "duplicates_removed",
                  "dropped_by_max_per_brand", "images_without_collection", "created_at")
        if k in summary
    }
    st.json(details)
    unreadable = summary.get("unreadable") or []
    if unreadable:
        st.write(f"{len(unreadable)} unreadable photos were left out:")
        st.dataframe(pd.DataFrame(unreadable), hide_index=True)
    for note in summary.get("notes") or []:
        st.caption(note)
