"""Performance: confusion matrices (tables 3.1/3.3), classification reports (3.2/3.4), top-2 accuracy, thesis numbers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import evidence
from core.contract import probability_columns
from dashboard import artifacts, figures, tables, thesis, ui

CELL_PHOTOS = 12

sel = ui.page_header(
    "Performance", "How often each model names the right house, brand by brand, beside the thesis's published numbers."
)
chosen = ui.require_runs(sel)

normalised = st.toggle("Row-normalised (share of each true brand)", value=False, key="perf_normalised")

# ---- this run's numbers
columns = st.columns(len(chosen))
reports: dict[str, pd.DataFrame] = {}
matrices: dict[str, pd.DataFrame | None] = {}
for col, (variant, run) in zip(columns, chosen.items(), strict=True):
    with col:
        st.subheader(sel.label(variant))
        metrics = ui.read_or_warn(artifacts.run_metrics, run) or {}
        matrix = matrices[variant] = ui.read_or_warn(artifacts.run_confusion, run)
        ui.warn_if_test_set_is_thin(run, metrics)
        m1, m2, m3 = st.columns(3)
        accuracy = tables.metric_value(metrics, "accuracy")
        top2 = tables.metric_value(metrics, "top_2_accuracy", "top2_accuracy", "top-2 accuracy", "top_k_accuracy")
        tested = tables.metric_value(metrics, "n_images")
        tested = int(tested) if tested else int(matrix.to_numpy().sum()) if matrix is not None else None
        m1.metric("Accuracy", f"{accuracy:.3f}" if accuracy is not None else "–")
        m1.caption(evidence.interval_caption(accuracy, tested))
        m2.metric("Top-2 accuracy", f"{top2:.3f}" if top2 is not None else "–")
        m2.caption(evidence.interval_caption(top2, tested))
        m3.metric("Test photos", tested if tested is not None else "–")
        if matrix is None:  # read_or_warn said which file and what to rerun
            continue
        event = ui.show_figure(
            figures.confusion_figure(matrix, f"Confusion matrix: {run.name}", normalised),
            (figures.normalise_rows(matrix) if normalised else matrix).reset_index(names="true brand"),
            f"{run.name}-confusion", f"confusion_{variant}", on_select="rerun", selection_mode="points",
        )
        points = (event.selection.points if event and event.selection else None) or []
        clicked = (variant, str(points[0]["y"]), str(points[0]["x"])) if points else None
        if clicked and clicked != st.session_state.get("perf_cell_clicked"):
            # A newly clicked cell drives the pickers below (set before they are drawn in this run).
            st.session_state["perf_cell_clicked"] = clicked
            st.session_state.update(perf_cell_variant=clicked[0], perf_cell_true=clicked[1], perf_cell_pred=clicked[2])
        report = tables.report_frame(metrics, list(matrix.index))
        if report.empty:  # an older metrics.json: recompute from the confusion matrix
            report = tables.report_from_confusion(matrix)
        reports[sel.label(variant)] = report
        report = tables.with_recall_intervals(report)
        st.dataframe(report.style.format({"precision": "{:.2f}", "recall": "{:.2f}", "f1": "{:.2f}", "support": "{:.0f}",
                                          "recall_low": "{:.2f}", "recall_high": "{:.2f}"}, na_rep=""))
        st.caption("recall_low–recall_high: 95% Wilson interval of each brand's recall (its own accuracy).")
        st.download_button(
            "Download report (CSV)", ui.csv_bytes(report.reset_index()), f"{run.name}-report.csv",
            "text/csv", key=f"report_csv_{variant}", on_click="ignore",
        )

if len(reports) > 0:
    per_class = pd.concat([r.assign(run=label) for label, r in reports.items()]).reset_index()
    ui.show_figure(figures.per_class_figure(reports, "f1"), per_class, "per-class-f1", "per_class")
st.caption(ui.PNG_HINT)

# ---- every model of this dataset beside the plain baseline
st.subheader("Models side by side")
st.caption("Every evaluated run of this dataset: the recommended attention-pool network, the thesis's network and the "
           "plain baseline (frozen VGG16, average pooling, logistic regression: `python -m model baseline`). "
           "Brackets: 95% Wilson interval of the test accuracy, which is wide on few photos.")
same_data = [r for r in sel.all_runs if r.dataset == sel.dataset and r.evaluated and not r.damaged]
side_by_side = tables.models_table(same_data, lambda run: ui.read_or_warn(artifacts.run_metrics, run))
if side_by_side.empty:
    st.info("No evaluated run of this dataset yet.")
else:
    side_by_side["label"] = side_by_side["run"] + " (" + side_by_side["architecture"] + ")"
    for _, row in side_by_side[side_by_side["warning"] != ""].iterrows():
        st.warning(f"`{row['run']}`: {row['warning']}", icon=":material/warning:")
    ui.show_figure(figures.accuracy_intervals_figure(side_by_side, "label", "Test accuracy per run", "variant"),
                   side_by_side.drop(columns="label"), f"{sel.dataset}-models", "models_side_by_side")

# ---- several seeds per architecture
comparisons = {name: tables.comparison_rows(summary, sel.dataset)
               for name, summary in (ui.read_or_warn(artifacts.comparisons) or {}).items()}
comparisons = {name: rows for name, rows in comparisons.items() if not rows.empty}
st.subheader("Seeds and architectures")
if not comparisons:
    st.info(f"One training run is one draw: `python -m model compare --data {sel.dataset or '<dataset>'} --seeds 3` "
            "trains each architecture and the baseline on several seeds and shows the mean with its 95% interval here.")
for name, rows in comparisons.items():
    rows = rows.assign(split=rows["dataset"] + " " + rows["variant"])
    shown = rows.assign(accuracies=rows["accuracies"].astype(str))
    ui.show_figure(figures.accuracy_intervals_figure(rows, "split", f"Mean test accuracy over seeds ({name})",
                                                     "architecture"),
                   shown, f"comparison-{name}", f"comparison_{name}")
    st.caption("Mean over seeds with a 95% Student-t interval (the spread training randomness gives); "
               "attention maps' median peak and normalised entropy in the table.")

# ---- photos in a confusion cell
st.subheader("Photos in a confusion cell")
st.caption("Click a cell in a confusion matrix above, or pick one here.")
variant_names = list(chosen)
if st.session_state.get("perf_cell_variant") not in variant_names:
    st.session_state["perf_cell_variant"] = variant_names[0]
c1, c2, c3 = st.columns(3)
variant = c1.selectbox("Run", variant_names, format_func=sel.label, key="perf_cell_variant")
run = chosen[variant]
matrix = matrices[variant]  # read (and any problem reported) above
predictions = ui.read_or_warn(artifacts.run_predictions, run) if matrix is not None else None
if predictions is not None and matrix is not None:
    names = list(matrix.index)
    if st.session_state.get("perf_cell_true") not in names or st.session_state.get("perf_cell_pred") not in names:
        true_index, pred_index = tables.largest_confusion(matrix)  # start on the largest confusion
        st.session_state.update(perf_cell_true=names[true_index], perf_cell_pred=names[pred_index])
    true_brand = c2.selectbox("True brand", names, key="perf_cell_true")
    predicted_brand = c3.selectbox("Predicted brand", names, key="perf_cell_pred")
    rows = tables.cell_rows(predictions, true_brand, predicted_brand)
    st.write(f"{len(rows)} test photos of **{true_brand}** predicted as **{predicted_brand}** by `{run.name}`.")
    prob_column = probability_columns([predicted_brand])[0]
    images, captions = [], []
    for _, row in rows.head(CELL_PHOTOS).iterrows():
        thumb = artifacts.thumbnail(row["path"], 200)
        if thumb is not None:
            images.append(thumb)
            p = row.get(prob_column, "")
            captions.append(f"p={float(p):.2f}" if p not in ("", None) else "")
    if images:
        st.image(images, caption=captions, width=120)

# ---- the thesis's numbers
st.divider()
st.subheader("The thesis's published numbers")
st.markdown(
    f"Source: {thesis.citation_text()} "
    "Tables 3.1 and 3.3 are the confusion matrices (1,027 test photos each)."
)
st.warning(f"**Captions corrected.** {thesis.reference()['caption_correction']}", icon=":material/edit_note:")
columns = st.columns(2)
for col, variant in zip(columns, ("raw", "nobg"), strict=True):
    with col:
        ref_matrix = thesis.confusion(variant)
        ui.show_figure(
            figures.confusion_figure(ref_matrix, thesis.confusion_title(variant), normalised),
            (figures.normalise_rows(ref_matrix) if normalised else ref_matrix).reset_index(names="true brand"),
            f"thesis-confusion-{variant}", f"thesis_confusion_{variant}",
        )
        st.markdown(f"**{thesis.report_title(variant)}**")
        st.dataframe(thesis.report(variant).style.format({"precision": "{:.2f}", "recall": "{:.2f}", "f1": "{:.2f}"}))
        st.caption("Accuracy recomputed from its confusion matrix: "
                   f"{evidence.accuracy_text(tables.accuracy_from_confusion(ref_matrix), int(ref_matrix.to_numpy().sum()))}"
                   " (95% Wilson interval)")
