"""Evaluation artifacts: metrics against known answers, aligned predictions/maps/embeddings, streamed sums."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from model.evaluation import classification_metrics, evaluate, merged_metrics
from model.maps import upsample


def test_classification_metrics_match_hand_computed_values():
    names = ["A", "B", "C"]
    y_true = np.array([0, 0, 1, 1, 2, 2])
    probabilities = np.array([
        [0.7, 0.2, 0.1],  # A, right
        [0.3, 0.6, 0.1],  # predicted B, A second: top-2 hit
        [0.1, 0.8, 0.1],  # B, right
        [0.1, 0.2, 0.7],  # predicted C, B second: top-2 hit
        [0.2, 0.1, 0.7],  # C, right
        [0.5, 0.4, 0.1],  # predicted A, C last: top-2 miss
    ])
    metrics = classification_metrics(y_true, probabilities, names)
    assert metrics["accuracy"] == pytest.approx(3 / 6)
    assert metrics["top2_accuracy"] == pytest.approx(5 / 6)
    # A: predicted for rows 0 and 5 (one right): precision 1/2, recall 1/2
    assert metrics["per_class"]["A"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    # C: predicted for rows 3 and 4 (one right)
    assert metrics["per_class"]["C"]["precision"] == pytest.approx(0.5)
    assert metrics["macro_avg"]["f1"] == pytest.approx(0.5) and metrics["weighted_avg"]["support"] == 6


def test_two_classes_are_always_right_in_their_top_two():
    metrics = classification_metrics(np.array([0, 1, 1]), np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]), ["A", "B"])
    assert metrics["accuracy"] == pytest.approx(2 / 3) and metrics["top2_accuracy"] == 1.0


def test_merge_keeps_sections_written_by_other_modules(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"accuracy": 0.1, "attention": {"inside_share": 0.7}, "background_reliance": {"x": 1}}))
    merged = merged_metrics(path, {"accuracy": 0.9, "split": "test"})
    assert merged == {"accuracy": 0.9, "split": "test", "attention": {"inside_share": 0.7}, "background_reliance": {"x": 1}}


@pytest.mark.slow
def test_evaluation_writes_the_run_folder_contract(evaluated_run):
    run, config = evaluated_run.run, json.loads(evaluated_run.run.config.read_text())
    names = config["class_names"]
    predictions = run.read_predictions()
    metrics = json.loads(run.metrics.read_text())
    n = len(predictions)
    assert n == 18 and metrics["n_images"] == 18 and metrics["split"] == "test"
    assert list(predictions.columns[:4]) == ["path", "brand", "predicted", "correct"]
    probs = predictions[[f"prob_{name}" for name in names]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (predictions["predicted"] == np.asarray(names)[probs.argmax(axis=1)]).all()
    assert metrics["accuracy"] == pytest.approx(predictions["correct"].mean())
    assert metrics["accuracy"] >= 2 / 3  # the learned run carries over to unseen photos (chance: 1/3)
    for column in ("collection", "year", "figure_mask_path", "zones_mask_path", "sha256", "split"):
        assert column in predictions.columns  # for the analytics joins

    confusion = run.read_confusion()
    assert list(confusion.columns) == names and list(confusion.index) == names
    assert confusion.to_numpy().sum() == n
    assert np.trace(confusion.to_numpy()) == predictions["correct"].sum()
    assert (confusion.sum(axis=1).to_numpy() == [m["support"] for m in metrics["per_class"].values()]).all()

    maps = run.read_attention_maps()
    assert maps.dtype == np.float16 and maps.shape == (n, 8, 8)
    np.testing.assert_allclose(maps.astype(np.float64).sum(axis=(1, 2)), 1.0, atol=5e-3)
    stats_peak = np.unravel_index(maps.reshape(n, -1).astype(np.float32).argmax(axis=1), (8, 8))
    assert (predictions["attention_peak_row"].to_numpy() == stats_peak[0]).mean() > 0.9  # float16 ties aside
    assert np.all(predictions["attention_entropy"] <= np.log(64) + 1e-6)
    assert run.read_embeddings().shape == (n, 512)

    sums = run.read_attention_sums()
    assert list(sums["class_names"]) == names
    true_index = predictions["brand"].map(names.index).to_numpy()
    pred_index = predictions["predicted"].map(names.index).to_numpy()
    for c in range(len(names)):
        np.testing.assert_allclose(sums["by_true_native"][c], maps[true_index == c].astype(np.float64).sum(axis=0),
                                   atol=5e-3)
        np.testing.assert_allclose(sums["by_pred_native"][c], maps[pred_index == c].astype(np.float64).sum(axis=0),
                                   atol=5e-3)
    assert list(sums["count_by_true"]) == [6, 6, 6]
    assert sums["count_by_pred"].sum() == n and list(sums["count_by_pred"]) == list(np.bincount(pred_index, minlength=3))
    assert sums["by_true_upsampled"].shape == (3, 64, 64)
    # upsampling the sum is upsampling every map and summing (bilinear is linear)
    one_brand = maps[true_index == 0].astype(np.float32)
    np.testing.assert_allclose(sums["by_true_upsampled"][0], upsample(one_brand, (64, 64)).sum(axis=0), atol=5e-3)


@pytest.mark.slow
def test_re_evaluation_keeps_other_sections_and_leaves_no_temporaries(evaluated_run):
    run = evaluated_run.run
    metrics = json.loads(run.metrics.read_text())
    metrics["background_reliance"] = {"written_by": "another module"}
    run.metrics.write_text(json.dumps(metrics))
    again = evaluate(run, evaluated_run.settings)
    stored = json.loads(run.metrics.read_text())
    assert stored["background_reliance"] == {"written_by": "another module"}
    assert stored["accuracy"] == again["accuracy"] == metrics["accuracy"]
    assert not [p for p in run.root.rglob("*") if ".tmp" in p.name]
    assert pd.read_csv(run.history)["epoch"].tolist() == list(range(1, evaluated_run.options["epochs"] + 1))


def test_metrics_carry_intervals_and_the_warning_of_a_test_set_without_a_brand():
    probabilities = np.array([[0.8, 0.1, 0.1]] * 6 + [[0.1, 0.8, 0.1]] * 3)
    y_true = np.array([0] * 6 + [1] * 3)  # no photo of the third brand
    metrics = classification_metrics(y_true, probabilities, ["Atelier", "Bravo", "Copia"])
    low, high = metrics["accuracy_interval"]
    assert metrics["accuracy"] == 1.0 and low < 0.71 and high == pytest.approx(1.0)
    assert "no test photos of Copia" in metrics["test_set_warning"] and "Bravo (3)" in metrics["test_set_warning"]
    complete = classification_metrics(np.array([0, 1, 2] * 5), np.eye(3)[[0, 1, 2] * 5], ["A", "B", "C"])
    assert complete["test_set_warning"] is None
