"""The artifact contract: every artifact round-trips, damaged or older ones give one clear message."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.contract import (
    CONFIG_VERSION,
    MANIFEST_COLUMNS,
    DataError,
    DatasetFolder,
    RunConfig,
    RunError,
    RunFolder,
    read_manifest_table,
    write_manifest,
)
from core.fileio import write_dataframe_atomic


@pytest.fixture
def run(tmp_path) -> RunFolder:
    folder = RunFolder(tmp_path / "runs" / "demo-raw")
    folder.root.mkdir(parents=True)
    return folder


def test_run_config_round_trips_through_json(run, tmp_path):
    config = RunConfig(run="demo-raw", variant="raw", class_names=["A", "B"],
                       manifest=str(tmp_path / "datasets" / "demo" / "nobg" / "manifest.csv"), image_size=96,
                       details={"seed": 7, "hyperparameters": {"dropout": 0.2}})
    run.write_config(config)
    assert json.loads(run.config.read_text())["config_version"] == CONFIG_VERSION
    assert run.read_config() == config
    assert config.dataset == DatasetFolder(tmp_path / "datasets" / "demo")  # nobg/ belongs to its dataset
    assert config.get("seed") == 7 and config.get("variant") == "raw"


def test_a_config_of_the_previous_version_loads(run):
    old = {"run": "demo-raw", "variant": "nobg", "manifest": "/w/datasets/demo/nobg/manifest.csv",
           "class_names": ["A", "B"], "image_size": 96, "resize_filter": "nearest", "seed": 42}
    run.config.write_text(json.dumps(old))
    config = run.read_config()
    assert (config.variant, config.dataset_name, config.get("seed")) == ("nobg", "demo", 42)
    assert {k: v for k, v in config.to_dict().items() if k != "config_version"} == old


@pytest.mark.parametrize("text, expected", [
    ("{not json", "not readable JSON"),
    ("[1, 2]", "should hold a JSON object"),
    (json.dumps({"variant": "raw"}), "no class_names"),
    (json.dumps({"config_version": 99, "class_names": ["A"]}), "config version 99"),
])
def test_damaged_or_unknown_configs_say_what_to_do(run, text, expected):
    run.config.write_text(text)
    with pytest.raises(RunError, match=expected):
        run.read_config()


def test_predictions_and_confusion_are_validated(run):
    pd.DataFrame({"path": ["a.jpg"], "brand": ["A"], "predicted": ["B"], "prob_A": [0.4]}).to_csv(run.predictions, index=False)
    assert run.read_predictions()["predicted"].tolist() == ["B"]
    pd.DataFrame({"path": ["a.jpg"], "brand": ["A"]}).to_csv(run.predictions, index=False)
    with pytest.raises(RunError, match="predicted"):
        run.read_predictions()
    pd.DataFrame([[3, 1], [0, 4]], index=["A", "B"], columns=["A", "B"]).to_csv(run.confusion)
    assert run.read_confusion().to_numpy().tolist() == [[3, 1], [0, 4]]
    run.confusion.write_text("")
    with pytest.raises(RunError, match="confusion.csv"):
        run.read_confusion()


def test_confusion_labels_a_spreadsheet_would_run_are_read_back_as_written(run):
    brands = ["=cmd|' /C calc'!A0", "Chanel"]
    matrix = pd.DataFrame([[3, 1], [0, 4]], index=pd.Index(brands, name="brand"), columns=brands).reset_index()
    write_dataframe_atomic(run.confusion, matrix)
    assert "'=cmd" in run.confusion.read_text()
    confusion = run.read_confusion()
    assert confusion.index.tolist() == brands and confusion.columns.tolist() == brands


def test_attention_arrays_are_validated(run):
    run.attention_dir.mkdir()
    np.save(run.attention_maps, np.zeros((2, 3, 3), np.float16))
    assert run.read_attention_maps(rows=2).shape == (2, 3, 3)
    with pytest.raises(RunError, match="one per prediction"):
        run.read_attention_maps(rows=5)
    np.save(run.attention_maps, np.zeros((2, 9), np.float16))
    with pytest.raises(RunError, match="expected \\(photos, height, width\\)"):
        run.read_attention_maps()
    run.attention_maps.write_bytes(run.attention_maps.read_bytes()[:100])
    with pytest.raises(RunError, match="damaged"):
        run.read_attention_maps()
    np.savez(run.attention_sums, by_true_native=np.ones((2, 3, 3)))
    assert run.read_attention_sums()["by_true_native"].shape == (2, 3, 3)
    with pytest.raises(RunError, match="lacks by_pred_native"):
        run.read_attention_sums(required=("by_true_native", "by_pred_native"))
    run.attention_sums.write_bytes(run.attention_sums.read_bytes()[:50])
    with pytest.raises(RunError, match="damaged"):
        run.read_attention_sums()


def test_manifest_round_trips_and_names_a_missing_column(tmp_path):
    dataset = DatasetFolder(tmp_path / "demo")
    frame = pd.DataFrame([{column: f"{column}-1" for column in MANIFEST_COLUMNS}])
    write_manifest(dataset.manifest, frame)
    assert read_manifest_table(dataset.manifest).equals(frame)
    frame.drop(columns="split").to_csv(dataset.manifest, index=False)
    with pytest.raises(DataError, match="split"):
        read_manifest_table(dataset.manifest)


def test_dataset_source_is_recorded_not_guessed(tmp_path):
    dataset = DatasetFolder(tmp_path / "demo")
    dataset.root.mkdir()
    assert dataset.source() == {"kind": "unknown"} and not dataset.is_demo()
    dataset.summary.write_text(json.dumps({"source": {"kind": "demo", "csv": "runway.csv"}}))
    assert dataset.is_demo()
    assert DatasetFolder.of_manifest(dataset.nobg_manifest) == dataset


def test_metrics_history_embeddings_and_comparisons_round_trip(run, tmp_path):
    from core.config import get_settings
    from core.contract import comparison_files, list_comparisons
    from core.fileio import write_dataframe_atomic, write_json_atomic

    assert run.read_metrics() == {}  # not evaluated yet
    write_json_atomic(run.metrics, {"accuracy": 0.9, "attention": {"mass_on_figure": 0.5}})
    assert run.read_metrics()["attention"] == {"mass_on_figure": 0.5}
    history = pd.DataFrame({"epoch": [1, 2], "accuracy": [0.5, 0.75], "loss": [1.2, 0.8]})
    write_dataframe_atomic(run.history, history)
    pd.testing.assert_frame_equal(run.read_history(), history.astype({"accuracy": float, "loss": float}))
    np.save(run.embeddings, np.arange(6, dtype=np.float32).reshape(3, 2))
    assert run.read_embeddings(rows=3).tolist() == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(RunError, match="one row per predictions.csv row"):
        run.read_embeddings(rows=4)
    run.metrics.write_text("{truncated")
    with pytest.raises(RunError, match="metrics.json is not readable JSON"):
        run.read_metrics()

    settings = get_settings(tmp_path / "workspace")
    files = comparison_files(settings, "demo")
    write_json_atomic(files.summary_json, {"rows": [{"architecture": "thesis", "mean_accuracy": 0.8}]})
    assert [c.name for c in list_comparisons(settings)] == ["demo"]
    assert files.read_summary()["rows"][0]["architecture"] == "thesis"
    assert files.runs_dir == tmp_path / "workspace" / "comparisons" / "demo" / "runs"


def test_architecture_is_recorded_and_older_runs_are_the_thesis_network(run):
    from core.contract import architecture_of

    run.write_config(RunConfig(run="r", variant="raw", class_names=["A", "B"], details={"architecture": "attention-pool"}))
    assert architecture_of(run.read_config()) == "attention-pool"
    run.config.write_text(json.dumps({"variant": "raw", "class_names": ["A", "B"]}))  # written before it was recorded
    assert architecture_of(run.read_config()) == "thesis"
