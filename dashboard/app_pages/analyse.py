"""Analyse a photo: upload one, optionally remove its background, see both models' answers and attention.

TensorFlow is imported when a model first loads (after an upload), not at the top: the page paints first."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st
from PIL import Image

from analysis.attention import GRADCAM_DEFAULT_LAYER
from analysis.identity import ZONES
from core.config import get_settings
from core.contract import MODEL_FILE
from core.images import ImageError
from dashboard import artifacts, figures, photo, ui
from dashboard.figures import attention as attention_figures
from dashboard.figures import brand as brand_figures

settings = get_settings()
limits = settings.upload
sel = ui.page_header(
    "Analyse a photo",
    "Upload a runway photo: both models say which house it looks like, and where they looked.",
)
chosen = ui.require_runs(sel, evaluated=False)
chosen = {v: r for v, r in chosen.items() if r.trained}
if not chosen:
    st.warning(f"The selected runs have no {MODEL_FILE} yet: `python -m model train` writes it.")
    st.stop()

max_mb = limits.max_bytes / 2**20
upload = st.file_uploader(
    f"Photo (JPEG, PNG or WEBP, up to {max_mb:.0f} MB and {limits.max_pixels / 1e6:.0f} megapixels)",
    type=["jpg", "jpeg", "png", "webp"], key="analyse_upload", max_upload_size=max(1, round(max_mb)),
)
st.caption(
    f"Limits: {max_mb:.0f} MB per file, at most {limits.max_pixels:,} pixels, at least {limits.min_side} px a side. "
    "The photo's EXIF orientation is applied; CMYK, grayscale, 16-bit and transparent images are converted to RGB."
)

c1, c2, c3 = st.columns([2, 2, 1])
remove_bg = c1.toggle(
    "Remove the background first (rembg)", value="nobg" in chosen, key="analyse_remove_bg",
    help="The background-removed model was trained on photos without background; it sees the cut-out.",
)
opacity = c2.slider("Attention overlay opacity", 0.0, 1.0, 0.5, 0.05, key="analyse_opacity")
colormap = c3.selectbox("Colormap", ["jet", "inferno", "viridis", "turbo"], key="analyse_colormap")

if upload is None:
    st.info("Upload a photo to analyse it.")
    st.stop()

timings: list[tuple[str, float]] = []
data = upload.getvalue()
sha = photo.digest(data)
try:
    photo.check_size(len(data), settings)
    decoded = photo.decode(sha, data, limits.max_pixels, limits.min_side)
except ImageError as exc:
    st.error(f"Cannot analyse {upload.name}: {photo.reason(exc)}. Try another JPEG, PNG or WEBP photo.")
    st.stop()
except Exception as exc:  # a decoder bug must not take the page down either
    st.error(f"Cannot analyse {upload.name}: it could not be decoded ({type(exc).__name__}).")
    st.stop()
timings.append(("decode", decoded.seconds))
original = decoded.image
st.caption(f"Uploaded: {upload.name}, {decoded.original}; analysed as {original.size[0]}×{original.size[1]} RGB.")

inputs = {"raw": original, "nobg": original}
if remove_bg:
    try:
        cutout, mask, seconds = photo.remove_background(
            sha, original, settings.data.rembg_model, settings.data.background_fill, str(settings.paths.root)
        )
        timings.append(("background removal", seconds))
        inputs["nobg"] = cutout
        before, after = st.columns(2)
        before.image(photo.display_copy(original), caption="Before", width=photo.SHOWN_WIDTH)
        after.image(photo.display_copy(cutout), caption="After background removal", width=photo.SHOWN_WIDTH)
    except (ValueError, OSError) as exc:  # the model is not provisioned, or rembg failed on this photo
        st.warning(f"Background removal is unavailable ({exc}); both models see the original photo.")
        remove_bg = False
if not remove_bg and "nobg" in chosen:
    st.caption("Background removal is off: the background-removed model sees the original photo.")

results = {}
for variant, run in chosen.items():
    try:
        _, load_seconds = photo.load_model(run)
    except Exception as exc:  # a broken or incompatible model.keras: say so, keep the page
        st.error(f"The model of `{run.name}` could not be loaded ({type(exc).__name__}: {exc}).")
        continue
    if load_seconds > 0.05:
        timings.append((f"load model {run.name}", load_seconds))
    which = "no background" if variant == "nobg" and remove_bg else "original"
    result, seconds = photo.analyse(sha, which, run.path, artifacts.model_stamp(run), run, inputs[variant])
    timings.append((f"predict {run.name}", seconds))
    results[variant] = result

if not results:
    st.stop()

st.subheader("Which house?")
columns = st.columns(len(results))
for col, (variant, result) in zip(columns, results.items(), strict=True):
    with col:
        probabilities = pd.Series(result.probabilities).rename("probability")
        best, p = result.ranked()[0]
        st.metric(sel.label(variant), best)
        st.caption(f"probability {p:.0%}; runner-up {result.ranked()[1][0]}" if len(result.ranked()) > 1 else "")
        ui.show_figure(
            figures.probability_figure(probabilities, f"Probabilities: {chosen[variant].name}",
                                       figures.VARIANT_COLOURS[variant]),
            probabilities.rename_axis("brand").reset_index(), f"{chosen[variant].name}-probabilities", f"probs_{variant}",
        )

st.subheader("Where the models looked")
started = time.perf_counter()
columns = st.columns(len(results))
for col, (variant, result) in zip(columns, results.items(), strict=True):
    shown = photo.display_copy(inputs[variant])
    col.image(
        photo.blend(shown, result.attention, opacity, colormap), width=photo.SHOWN_WIDTH,
        caption=f"{sel.label(variant)}: attention ({result.attention.shape[0]}×{result.attention.shape[1]} grid)",
    )
timings.append(("attention overlays", time.perf_counter() - started))

if st.toggle(f"Compare with Grad-CAM ({GRADCAM_DEFAULT_LAYER}, predicted class)", key="analyse_gradcam"):
    started = time.perf_counter()
    for variant, result in results.items():
        run = chosen[variant]
        cam, rho, overlap = photo.gradcam(photo.input_digest(result), run.path, artifacts.model_stamp(run), run, result)
        fig = attention_figures.attention_gradcam_figure(
            photo.display_copy(inputs[variant]), result.attention, cam, rho, overlap, opacity, colormap
        )
        fig.update_layout(title=f"{sel.label(variant)}: {fig.layout.title.text}")
        ui.show_figure(fig, figures.heatmap_table({"attention": result.attention, "grad-cam": cam}, key="map"),
                       f"{run.name}-attention-vs-gradcam", f"gradcam_{variant}")
    st.caption("Agreement on the coarser grid: Spearman's rank correlation and the top-10% overlap (chance: 10%).")
    timings.append(("Grad-CAM", time.perf_counter() - started))

if st.toggle("What if a zone were hidden? (head, torso, legs, feet or background)", key="analyse_what_if",
             help="Each zone of the photo, cut into bands of rembg's figure mask, is repainted from its surroundings "
                  "(occlusion with inpainting, docs/IDENTITY.md) and both models answer again."):
    started = time.perf_counter()
    try:
        mask = photo.figure_mask(sha, original, settings)
        hidden = {variant: photo.hidden_zone_answers(
            photo.input_digest(result), sha, chosen[variant].path, artifacts.model_stamp(chosen[variant]),
            chosen[variant], result, mask, settings.attention) for variant, result in results.items()}
    except (ValueError, OSError) as exc:  # no figure in the photo, or rembg unavailable
        st.warning(f"No \"what if\" for this photo: {exc}.")
    else:
        zone = st.segmented_control("Hide", ZONES, default="head", key="analyse_hide") or "head"
        columns = st.columns(len(hidden))
        for col, (variant, (rows, inputs_hidden, _)) in zip(columns, hidden.items(), strict=True):
            row = rows[ZONES.index(zone)]
            col.metric(f"{sel.label(variant)} without the {zone}", row["top_house"],
                       delta=f"{row['change']:+.0%} for {row['predicted']}", delta_color="off" if not row["change"]
                       else "normal")
            col.image(Image.fromarray(inputs_hidden[ZONES.index(zone)]).resize((photo.SHOWN_WIDTH, photo.SHOWN_WIDTH)),
                      caption=f"What {chosen[variant].name} sees with the {zone} repainted", width=photo.SHOWN_WIDTH)
        table = pd.DataFrame([{"model": chosen[variant].name, "hidden": row["zone"], "answer": row["top_house"],
                               "p(first answer)": row["predicted_probability"], "change": row["change"],
                               "answer changes": row["flipped"]}
                              for variant, (rows, _, _) in hidden.items() for row in rows])
        # A plain table: ten rows need no interactive grid, and the grid is the slowest element to draw.
        st.table(table.style.format({"p(first answer)": "{:.2f}", "change": "{:+.2f}"}).hide(axis="index"))
        st.caption("Zones are bands of the figure's height (head 13%, torso 32%, legs 45%, feet 10%); on the demo "
                   "this kind of occlusion found the house's signature zone more often than attention or Grad-CAM "
                   "(docs/IDENTITY.md), and it says what this model relies on, not what the designer intended.")
        timings.append(("what if (5 zones × models)", time.perf_counter() - started))

st.subheader("Nearest runway looks")
evaluated = {v: r for v, r in chosen.items() if r.evaluated and v in results}
if not evaluated:
    st.info("Similar looks need an evaluated run (its test-set embeddings): run `python -m model evaluate`.")
else:
    k = st.slider("k (looks to show)", 1, 20, 6, key="analyse_k")
    variant = st.radio("Embeddings of", list(evaluated), format_func=sel.label, horizontal=True, key="analyse_knn_run")
    started = time.perf_counter()
    try:
        neighbours, distances = photo.nearest_looks(chosen[variant], results[variant].embedding, k)
    except ValueError as exc:
        st.warning(str(exc))
    else:
        timings.append(("nearest looks", time.perf_counter() - started))
        left, right = st.columns(2)
        with left:
            ui.show_figure(brand_figures.knn_distance_figure(neighbours), neighbours, "nearest-looks", "knn")
        with right:
            ui.show_figure(brand_figures.brand_distance_histogram(distances), distances, "distances-per-brand", "knn_hist")
        thumbs = [(artifacts.thumbnail(p, 200), f"{r}. {b} · {d:.3f}") for p, b, r, d in
                  zip(neighbours["path"], neighbours["brand"], neighbours["rank"], neighbours["distance"], strict=True)]
        st.image([t for t, _ in thumbs if t is not None], caption=[c for t, c in thumbs if t is not None], width=120)

st.subheader("Time per step")
timing_table = pd.DataFrame(timings, columns=["step", "seconds"])
ui.show_figure(figures.timings_figure(timing_table), timing_table, "analyse-timings", "timings")
st.caption("Steps answered from the cache (same photo, new slider value) keep the time of their first run. " + ui.PNG_HINT)
