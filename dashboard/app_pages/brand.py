"""Brand deep dive (thesis figures 3.10/3.11): one house's best and worst attention, its closest rival, its index."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import evidence
from core.contract import probability_columns
from dashboard import artifacts, brand_sections, figures, sections, tables, ui

EXAMPLES = 6

sel = ui.page_header(
    "Brand deep dive", "One house at a time: where the model looks on its photos, and who it is mistaken for."
)
chosen = ui.require_runs(sel)

c1, c2, c3 = st.columns([2, 2, 1])
variant = c2.radio("Model", list(chosen), format_func=sel.label, horizontal=True, key="brand_variant")
run = chosen[variant]
brands = ui.read_or_warn(artifacts.run_class_names, run)
if brands is None:
    st.stop()
brand = c1.selectbox("Brand", brands, key="brand_name")
opacity = c3.slider("Overlay opacity", 0.0, 1.0, 0.45, 0.05, key="brand_opacity")

predictions = ui.read_or_warn(artifacts.run_predictions, run)
matrix = ui.read_or_warn(artifacts.run_confusion, run) if predictions is not None else None
if predictions is None or matrix is None:
    st.stop()
# The overlays need one attention map per prediction; without them the galleries show the plain photos.
with_attention = ui.read_or_warn(artifacts.run_attention_maps, run, len(predictions)) is not None

brand_rows = predictions[predictions["brand"] == brand]
recall = float((brand_rows["predicted"] == brand).mean()) if len(brand_rows) else float("nan")
m1, m2, m3 = st.columns(3)
m1.metric("Test photos", len(brand_rows))
m2.metric("Recognised (recall)", f"{recall:.0%}" if len(brand_rows) else "–")
m2.caption(evidence.interval_caption(recall, len(brand_rows)) if len(brand_rows) else
           f"no test photos of {brand}: its recognition is not measured")
if len(brand_rows) < evidence.FEW_TEST_PHOTOS:
    st.warning(f"Only {len(brand_rows)} test photo{'s' if len(brand_rows) != 1 else ''} of {brand} in `{run.name}`: "
               "every number on this page about the brand rests on them. Prepare with --split random, or add "
               "photos or shows.", icon=":material/warning:")
other, brand_as_other, other_as_brand = tables.most_confused_with(matrix, brand)
m3.metric("Most confused with", other or "nobody")


def picture_of(row):
    """The photo of a predictions.csv row with its attention overlaid (the plain photo without maps)."""
    if with_attention:
        return artifacts.attention_overlay(run, int(row["row"]), row["path"], len(predictions), opacity, 256)
    return artifacts.thumbnail(row["path"], 256)


def show_gallery(rows: pd.DataFrame, caption_of) -> None:
    images, captions = [], []
    for _, row in rows.iterrows():
        picture = picture_of(row)
        if picture is not None:
            images.append(picture)
            captions.append(caption_of(row))
    if images:
        st.image(images, caption=captions, width=150)
    else:
        st.caption("No photos to show.")


per_image = ui.read_or_warn(artifacts.run_attention_per_image, run)
ranked, how = tables.attention_ranking(predictions, per_image, brand)
st.subheader("Where attention is most concentrated")
st.caption(f"Ranked by {how}; overlays use OpenCV's jet colormap (red = most attention).")


def probability_caption(predicted: str):
    column = probability_columns([predicted])[0]
    return lambda row: f"p({predicted}) = {float(row[column]):.2f}" if column in row else ""


def caption(row) -> str:
    return f"predicted {row['predicted']} · {row['score']:.2f}"


best_count = min(EXAMPLES, (len(ranked) + 1) // 2)  # best and worst never show the same photo
show_gallery(ranked.head(best_count), caption)
st.subheader("Bad attention")
st.caption("The same ranking from the other end: attention spread out or off the figure (thesis figure 3.11).")
show_gallery(ranked.iloc[best_count:].tail(EXAMPLES).iloc[::-1], caption)

st.subheader("Most confused brand")
if other is None:
    st.write(f"`{run.name}` never confuses {brand} with another house on the test set.")
else:
    st.write(
        f"**{brand}** photos predicted as **{other}**: {brand_as_other}; **{other}** photos predicted as "
        f"**{brand}**: {other_as_brand}."
    )
    row = matrix.loc[brand]
    ui.show_figure(figures.confusion_row_figure(row, brand), row.rename("photos").rename_axis("predicted").reset_index(), f"{run.name}-{brand}-confusion-row", "row")
    indexed = predictions.reset_index(drop=True).assign(row=lambda f: range(len(f)))
    left, right = st.columns(2)
    with left:
        st.markdown(f"{brand} → {other}")
        show_gallery(tables.cell_rows(indexed, brand, other).head(EXAMPLES), probability_caption(other))
    with right:
        st.markdown(f"{other} → {brand}")
        show_gallery(tables.cell_rows(indexed, other, brand).head(EXAMPLES), probability_caption(brand))

st.subheader("Attention, measured")
sections.brand_attention(sel, chosen, brand)

brand_sections.identity_profile(run, brand)

analytics = brand_sections.read_analytics(chosen)
brand_sections.distinctiveness(sel, chosen, analytics, brand)
brand_sections.drift(sel, chosen, analytics, brand)
brand_sections.report_export(sel, run, brand)
st.caption(ui.PNG_HINT)
