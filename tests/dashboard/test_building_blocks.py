"""The dashboard's pure parts: the thesis's numbers, log-scale colour bars, tables and run discovery."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import classification_report

from core import evidence
from core.config import get_settings
from core.contract import ContractError, DatasetFolder, RunFolder
from core.images import ImageError
from dashboard import artifacts, figures, photo, tables, thesis, ui
from dashboard.navigation import PAGES, PAGES_DIR

# --------------------------------------------------------------------------- the thesis reference file


@pytest.mark.parametrize("variant, accuracy, diagonal", [("raw", 0.86, 882), ("nobg", 0.68, 694)])
def test_thesis_confusion_matrices_give_the_corrected_accuracies(variant, accuracy, diagonal):
    matrix = thesis.confusion(variant)
    assert matrix.to_numpy().sum() == 1027 and np.trace(matrix.to_numpy()) == diagonal
    assert round(tables.accuracy_from_confusion(matrix), 2) == accuracy
    assert thesis.reference()["variants"][variant]["report"]["accuracy"] == accuracy


@pytest.mark.parametrize("variant", ["raw", "nobg"])
def test_each_thesis_report_belongs_to_its_confusion_matrix(variant):
    """The swap the app corrects: the report printed as 3.4 matches table 3.1 (with background), 3.2 matches 3.3."""
    recomputed = tables.report_from_confusion(thesis.confusion(variant))
    published = thesis.report(variant)
    assert (published.loc[thesis.reference()["labels"], "support"].to_numpy()
            == recomputed.loc[thesis.reference()["labels"], "support"].to_numpy()).all()
    np.testing.assert_allclose(published["recall"], recomputed["recall"], atol=0.006)
    other = "nobg" if variant == "raw" else "raw"
    assert np.abs(thesis.report(other)["recall"] - recomputed["recall"]).max() > 0.1


def test_thesis_printed_tables_and_citation():
    ref = thesis.reference()
    assert ref["variants"]["raw"]["report"]["printed_as"] == "Table 3.4"
    assert ref["variants"]["nobg"]["report"]["printed_as"] == "Table 3.2"
    assert "Martarello" in thesis.citation_text() and "Ca' Foscari" in thesis.citation_text()
    counts = ref["brand_counts"]["counts"]
    assert counts["Valentino"] == 1140 and counts["Chanel"] == 840 and len(counts) == 10
    assert set(ref["brand_counts"]["selected"]) == set(ref["labels"])


# --------------------------------------------------------------------------- log-scale heatmaps


def test_log_ticks_span_whole_decades_and_label_real_values():
    positions, labels = figures.log_ticks(-4.3, -1.2)
    assert positions == [-4.0, -3.0, -2.0]
    assert labels == ["0.0001", "0.001", "0.01"]


def test_log_ticks_inside_one_decade_label_values_in_range():
    positions, labels = figures.log_ticks(math.log10(0.02), math.log10(0.05))
    values = [float(label) for label in labels]
    assert len(values) >= 3 and all(0.02 <= v <= 0.05 for v in values)
    np.testing.assert_allclose([10**p for p in positions], values, rtol=1e-9)


def test_brand_heatmaps_plot_log10_values_with_real_tick_labels():
    maps = {"A": np.array([[0.0, 1e-3], [1e-2, 1e-1]]), "B": np.full((2, 2), 1e-2)}
    fig = figures.brand_heatmaps_figure(maps, "t", log_scale=True)
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 2
    np.testing.assert_allclose(heat[0].z[0][1], -3.0)
    np.testing.assert_allclose(heat[0].z[0][0], -4.0)  # a zero sits one decade below the smallest value
    np.testing.assert_allclose(np.asarray(heat[0].customdata), maps["A"])  # hover shows the real value
    ticks = heat[0].colorbar
    assert [float(t) for t in ticks.ticktext] == pytest.approx([10**v for v in ticks.tickvals])
    assert heat[0].zmin == heat[1].zmin == -4.0 and heat[0].zmax == heat[1].zmax == -1.0  # one shared scale


def test_heatmap_table_has_one_row_per_cell():
    table = figures.heatmap_table({"A": np.arange(6).reshape(2, 3)})
    assert len(table) == 6 and table.loc[(table["row"] == 1) & (table["col"] == 2), "value"].item() == 5


# --------------------------------------------------------------------------- tables


def test_row_normalisation_keeps_empty_rows_at_zero():
    matrix = pd.DataFrame([[3, 1], [0, 0]], index=["a", "b"], columns=["a", "b"])
    shares = figures.normalise_rows(matrix)
    assert shares.loc["a"].tolist() == [0.75, 0.25] and shares.loc["b"].tolist() == [0.0, 0.0]


def test_best_epoch_is_the_lowest_validation_loss():
    history = pd.DataFrame({"epoch": [1, 2, 3, 4], "val_loss": [1.0, 0.4, 0.5, 0.45], "val_accuracy": [0.1, 0.5, 0.9, 0.6]})
    assert figures.best_epoch(history) == 2
    assert figures.best_epoch(history.drop(columns="val_loss")) == 3


def test_report_frame_reads_the_evaluation_metrics_layout():
    y_true, y_pred = [0, 0, 1, 1, 2, 2, 2], [0, 1, 1, 1, 2, 0, 2]
    names = ["x", "y", "z"]
    report = classification_report(y_true, y_pred, target_names=names, output_dict=True)

    def row(entry):
        return {"precision": entry["precision"], "recall": entry["recall"], "f1": entry["f1-score"], "support": entry["support"]}

    metrics = {"accuracy": report["accuracy"], "per_class": {n: row(report[n]) for n in names},
               "macro_avg": row(report["macro avg"]), "weighted_avg": row(report["weighted avg"])}
    frame = tables.report_frame(metrics, names)
    assert list(frame.index) == ["x", "y", "z", "macro avg", "weighted avg"]
    assert frame.loc["z", "recall"] == pytest.approx(2 / 3)
    assert frame.loc["weighted avg", "f1"] == pytest.approx(report["weighted avg"]["f1-score"])
    # The same numbers come back from the confusion matrix.
    matrix = pd.DataFrame([[1, 1, 0], [0, 2, 0], [1, 0, 2]], index=names, columns=names)
    np.testing.assert_allclose(tables.report_from_confusion(matrix)[["precision", "recall", "f1"]], frame[["precision", "recall", "f1"]])


def test_most_confused_counts_both_directions():
    matrix = pd.DataFrame([[5, 2, 0], [1, 4, 0], [0, 3, 6]], index=list("abc"), columns=list("abc"))
    assert tables.most_confused_with(matrix, "a") == ("b", 2, 1)
    assert tables.most_confused_with(matrix, "c") == ("b", 3, 0)  # c photos called b: 3, b called c: 0
    diagonal = pd.DataFrame(np.eye(2, dtype=int), index=list("ab"), columns=list("ab"))
    assert tables.most_confused_with(diagonal, "a") == (None, 0, 0)


def test_attention_ranking_prefers_mass_on_figure_then_entropy():
    predictions = pd.DataFrame({"brand": ["a", "a", "b", "a"], "predicted": ["a"] * 4,
                                "attention_entropy": [2.0, 1.0, 0.5, 3.0]})
    rows, how = tables.attention_ranking(predictions, None, "a")
    assert rows["row"].tolist() == [1, 0, 3] and "entropy" in how
    per_image = pd.DataFrame({"mass_on_figure": [0.9, 0.1, 0.5, 0.95]})
    rows, how = tables.attention_ranking(predictions, per_image, "a")
    assert rows["row"].tolist() == [3, 0, 1] and "figure" in how


def test_cell_rows_are_most_confident_first():
    predictions = pd.DataFrame({"brand": ["a", "a", "a"], "predicted": ["b", "b", "a"], "prob_b": [0.4, 0.9, 0.1]})
    assert tables.cell_rows(predictions, "a", "b")["prob_b"].tolist() == [0.9, 0.4]


# --------------------------------------------------------------------------- run and dataset discovery


def write_run(settings, name: str, config: dict | str) -> RunFolder:
    """A run folder holding only config.json (a dict as JSON, a string verbatim)."""
    folder = RunFolder(settings.paths.run_dir(name))
    folder.root.mkdir(parents=True)
    folder.config.write_text(config if isinstance(config, str) else json.dumps(config))
    return folder


def write_dataset(root, summary: dict) -> str:
    folder = DatasetFolder(root)
    folder.root.mkdir(parents=True)
    folder.summary.write_text(json.dumps(summary))
    return str(folder.root)


def test_variant_and_dataset_come_from_the_run_config(tmp_path):
    settings = get_settings(tmp_path / "ws")
    demo = DatasetFolder(settings.paths.datasets / "demo")
    write_run(settings, "nobg", {"variant": "nobg", "class_names": ["A", "B"], "manifest": str(demo.nobg_manifest)})
    write_run(settings, "unsaid", {"class_names": ["A", "B"], "manifest": str(demo.manifest)})
    write_run(settings, "ensemble", {"variant": "ensemble", "class_names": ["A", "B"], "manifest": str(demo.manifest)})
    write_run(settings, "by-name", {"variant": "raw", "class_names": ["A", "B"], "dataset": "other"})
    runs = {run.name: run for run in artifacts.list_run_infos(settings)}
    assert runs["nobg"].variant == "nobg"
    assert runs["nobg"].dataset_dir == str(demo.root) and runs["nobg"].dataset == "demo"
    assert runs["unsaid"].variant == ""  # not guessed from the manifest's folder
    assert runs["ensemble"].variant == "ensemble"
    assert runs["by-name"].dataset_dir == ""  # only config.json's manifest names the dataset
    assert not any(run.damaged for run in runs.values())


def test_a_run_with_a_damaged_config_is_listed_with_its_problem(tmp_path):
    settings = get_settings(tmp_path / "ws")
    write_run(settings, "good", {"variant": "raw", "class_names": ["A", "B"]})
    write_run(settings, "truncated", '{"variant": "raw", "class_na')
    write_run(settings, "no-classes", {"variant": "raw", "classes": ["A", "B"]})
    runs = {run.name: run for run in artifacts.list_run_infos(settings)}
    assert set(runs) == {"good", "truncated", "no-classes"}  # none silently dropped
    assert not runs["good"].damaged and runs["good"].problem == ""
    assert runs["truncated"].damaged and "config.json is not readable JSON" in runs["truncated"].problem
    assert "no class_names list; retrain the run" in runs["no-classes"].problem  # the file and what to rerun
    # The pages go on with the readable run of a selection and report the other.
    selection = ui.Selection(workspace=str(settings.paths.root), raw=runs["good"], nobg=runs["truncated"])
    assert list(selection.readable) == ["raw"] and list(selection.runs) == ["raw", "nobg"]


def test_demo_is_what_the_summary_records_not_what_the_csv_says(tmp_path):
    csv_dir = tmp_path / "demo"
    csv_dir.mkdir()
    csv = csv_dir / "runway.csv"
    csv.write_text("image_alt,show_type,collection_url\nDemo atelier look,demo,demo://house/show\n")
    (csv_dir / "demo.json").write_text("{}")
    real = write_dataset(tmp_path / "datasets" / "real", {"csv": str(csv), "source": {"kind": "real", "csv": str(csv)}})
    assert not artifacts.dataset_is_demo(real)  # the CSV's text and demo.json are not read
    demo = write_dataset(tmp_path / "datasets" / "demo", {"source": {"kind": "demo"}})
    assert artifacts.dataset_is_demo(demo) and artifacts.dataset_source_kind(demo) == "demo"


def test_a_dataset_prepared_before_the_source_was_recorded_is_unknown(tmp_path):
    older = write_dataset(tmp_path / "datasets" / "older", {"csv": "runway.csv", "demo": True})
    assert artifacts.dataset_source_kind(older) == "unknown" and not artifacts.dataset_is_demo(older)
    assert ui.Selection(workspace=str(tmp_path), dataset="older", dataset_dir=older).source_kind == "unknown"
    assert ui.Selection(workspace=str(tmp_path)).source_kind == ""  # no dataset: no note


def test_class_names_come_only_from_config_json(tmp_path):
    settings = get_settings(tmp_path / "ws")
    config = {"variant": "raw", "class_names": ["Zeta", "Alpha"], "classes": ["X"], "brands": ["Y"]}
    folder = write_run(settings, "named", config)
    pd.DataFrame([[1, 0, 0], [0, 1, 0], [0, 0, 1]], index=list("ABC"), columns=list("ABC")).to_csv(folder.confusion)
    unnamed = write_run(settings, "unnamed", {"variant": "raw", "classes": ["A", "B", "C"]})
    pd.read_csv(folder.confusion).to_csv(unnamed.confusion, index=False)
    runs = {run.name: run for run in artifacts.list_run_infos(settings)}
    assert artifacts.run_class_names(runs["named"]) == ["Zeta", "Alpha"]  # not "classes", "brands", the matrix
    with pytest.raises(ContractError, match="no class_names list"):
        artifacts.run_class_names(runs["unnamed"])  # no fallback to other keys or confusion.csv


def test_every_page_file_exists_and_has_a_title():
    for file, title, _ in PAGES:
        source = (PAGES_DIR / file).read_text()
        assert f'"{title}"' in source, file
    assert PAGES_DIR.name != "pages"  # that name would switch Streamlit to its legacy multipage mode


def test_upload_limits_and_messages():
    settings = get_settings()
    photo.check_size(settings.upload.max_bytes, settings)
    with pytest.raises(ImageError, match="over the 25 MB limit"):
        photo.check_size(settings.upload.max_bytes + 1, settings)
    assert photo.reason(ImageError("the upload: not an image")) == "not an image"


def test_csv_downloads_never_hand_a_spreadsheet_a_formula():
    table = pd.DataFrame({"brand": ["@SUM(1+1)*cmd|' /C calc'!A0", "Chanel"], "f1": [-0.25, 0.5]})
    lines = ui.csv_bytes(table).decode("utf-8").splitlines()
    assert lines == ["brand,f1", "'@SUM(1+1)*cmd|' /C calc'!A0,-0.25", "Chanel,0.5"]


def test_confusion_cells_are_clickable_markers_and_the_default_is_the_largest_confusion():
    matrix = pd.DataFrame([[5, 1, 0], [4, 2, 0], [0, 3, 6]], index=list("abc"), columns=list("abc"))
    fig = figures.confusion_figure(matrix, "m", normalised=True)
    markers = next(t for t in fig.data if t.type == "scatter")
    assert len(markers.x) == 9 and (markers.y[3], markers.x[3]) == ("b", "a")
    assert markers.text[3] == "0.67" and fig.layout.clickmode == "event+select"
    assert tables.largest_confusion(matrix) == (1, 0)


def test_a_running_demo_build_is_recognised_by_its_pid(tmp_path):
    import os

    pid_file = tmp_path / "dashboard-demo.pid"
    assert not ui.demo_build_running(pid_file)  # no file
    pid_file.write_text(f"{os.getpid()}\n")
    assert ui.demo_build_running(pid_file)
    pid_file.write_text("not a pid\n")
    assert not ui.demo_build_running(pid_file)


def test_models_table_gives_every_accuracy_its_wilson_interval():
    from types import SimpleNamespace

    runs = [SimpleNamespace(name="demo-raw", architecture="attention-pool", variant="raw"),
            SimpleNamespace(name="demo-raw-baseline", architecture="baseline", variant="raw")]
    metrics = {"demo-raw": {"accuracy": 0.9, "n_images": 120, "top2_accuracy": 0.97},
               "demo-raw-baseline": {"accuracy": 1.0, "n_images": 9}}
    table = tables.models_table(runs, lambda run: metrics[run.name])
    first, second = table.iloc[0], table.iloc[1]
    assert first["ci_low"] < 0.9 < first["ci_high"] and first["ci_high"] - first["ci_low"] < 0.12
    # 9 of 9 right is no proof: the interval reaches far below 1 (Wilson: about 0.70)
    assert second["ci_high"] == pytest.approx(1.0) and second["ci_low"] < 0.71
    assert evidence.accuracy_text(0.9, 120).startswith("0.900 [0.83")
    assert list(table["architecture"]) == ["attention-pool", "baseline"]


def test_comparison_rows_keep_the_dataset_and_its_split_twins():
    summary = {"rows": [{"dataset": "demo", "variant": "raw"}, {"dataset": "demo-collection", "variant": "raw"},
                        {"dataset": "import", "variant": "raw"}]}
    assert list(tables.comparison_rows(summary, "demo")["dataset"]) == ["demo", "demo-collection"]
    assert tables.comparison_rows({}, "demo").empty
