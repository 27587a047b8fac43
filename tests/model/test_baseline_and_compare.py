"""The built-in baseline, the attention-pool architecture's probe start, and `compare`'s seeds and intervals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.config import get_settings
from core.contract import RunFolder, architecture_of
from model.__main__ import main

QUICK = dict(batch_size=8, image_size=64, fast_path="on")


def quick_settings(workspace, **model):
    return get_settings(workspace).with_overrides({"model": {**QUICK, **model}})


@pytest.mark.slow
def test_baseline_writes_a_run_folder_the_dashboard_reads(shapes_dataset, workspace):
    from model.baseline import train_baseline

    metrics = train_baseline(str(shapes_dataset), "raw", settings=quick_settings(workspace), weights="random")
    run = RunFolder(workspace / "runs" / "shapes-raw-baseline")
    config = run.read_config()
    assert architecture_of(config) == "baseline" and config.variant == "raw"
    predictions = run.read_predictions()
    assert len(predictions) == 18 and {"prob_Chanel", "prob_Versace"} <= set(predictions.columns)
    assert np.allclose(predictions.filter(like="prob_").astype(float).sum(axis=1), 1.0)
    assert run.read_confusion().to_numpy().sum() == 18
    assert run.read_embeddings(rows=18).shape == (18, 512)
    assert 0.0 <= metrics["accuracy"] <= 1.0 and metrics["n_images"] == 18


def test_baseline_of_one_brand_is_one_line_and_writes_nothing(shapes_dataset, workspace, capsys):
    manifest = pd.read_csv(shapes_dataset / "manifest.csv")
    manifest[manifest["brand"] == "Chanel"].to_csv(shapes_dataset / "manifest.csv", index=False)
    assert main(["baseline", "--data", str(shapes_dataset)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "at least two brands" in err and len(err.strip().splitlines()) == 1
    assert not (workspace / "runs").exists()


def test_unknown_architecture_is_refused_by_train_and_compare(shapes_dataset, workspace, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--variant", "raw", "--data", str(shapes_dataset), "--architecture", "transformer"])
    assert "invalid choice: 'transformer'" in capsys.readouterr().err
    assert main(["compare", "--data", str(shapes_dataset), "--architectures", "transformer"]) == 1
    assert "unknown architecture(s) transformer" in capsys.readouterr().err


def test_compare_refuses_a_split_that_leaves_a_brand_without_test_photos(shapes_dataset, capsys):
    manifest = pd.read_csv(shapes_dataset / "manifest.csv")
    manifest.loc[(manifest["brand"] == "Versace") & (manifest["split"] == "test"), "split"] = "train"
    manifest.to_csv(shapes_dataset / "manifest.csv", index=False)
    assert main(["compare", "--data", str(shapes_dataset), "--seeds", "2", "--variants", "raw"]) == 1
    err = capsys.readouterr().err
    assert "Versace without test photos" in err and "--split random" in err


@pytest.mark.slow
def test_attention_pool_starts_from_the_probe_and_maps_are_distributions(shapes_dataset, workspace, train_with):
    from model.baseline import fit_probe
    from model.network import embedding_model, feature_model

    result = train_with(quick_settings(workspace, architecture="attention-pool"), variant="raw",
                        data=str(shapes_dataset), epochs=1, weights="random", learning_rate=1e-9)
    config = json.loads(result.run.config.read_text())
    assert config["architecture"] == "attention-pool"
    # With a vanishing learning rate the trained model is still the probe it started from.
    from model.data import labels_for, read_manifest, split_rows
    from model.network import load_saved_model
    from model.preprocess import load_model_input

    model = load_saved_model(result.run.model)
    rows = read_manifest(shapes_dataset / "manifest.csv")
    train_rows, test_rows = split_rows(rows, "train"), split_rows(rows, "test")
    classes = config["class_names"]
    images = lambda frame: np.stack([load_model_input(p, 64, "nearest") for p in frame["path"]]).astype(np.float32)  # noqa: E731
    embed = lambda x: np.asarray(embedding_model(model).predict_on_batch(feature_model(model).predict_on_batch(x)))  # noqa: E731
    probe = fit_probe(embed(images(train_rows)), labels_for(train_rows, classes), 42)
    x_test = images(test_rows)
    np.testing.assert_allclose(model.predict_on_batch(x_test), probe.predict_proba(embed(x_test)), atol=2e-3)


@pytest.mark.slow
def test_compare_gives_a_mean_and_interval_per_architecture_and_split(shapes_dataset, workspace, capsys):
    argv = ["compare", "--data", str(shapes_dataset), "--seeds", "2", "--architectures", "thesis,baseline",
            "--epochs", "1", "--batch-size", "8", "--image-size", "64", "--name", "tiny", "--weights", "random"]
    assert main(argv) == 0
    summary = json.loads((workspace / "comparisons" / "tiny.json").read_text())
    rows = pd.DataFrame(summary["rows"])
    assert set(zip(rows["variant"], rows["architecture"], strict=True)) == {
        (v, a) for v in ("raw", "nobg") for a in ("thesis", "baseline")}
    assert (rows["seeds"] == 2).all() and summary["seeds"] == [42, 43]
    assert ((rows["ci_low"] <= rows["mean_accuracy"]) & (rows["mean_accuracy"] <= rows["ci_high"])).all()
    seeds = pd.read_csv(workspace / "comparisons" / "tiny-seeds.csv")
    assert len(seeds) == 8
    thesis_runs = workspace / "comparisons" / "tiny" / "runs"
    assert not any(thesis_runs.glob("*/model.keras"))  # evaluated models are dropped, tables kept
    assert "mean_accuracy" in capsys.readouterr().out
    assert main(argv) == 0  # a rerun reuses every seed
