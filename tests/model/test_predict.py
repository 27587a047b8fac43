"""Prediction: the dashboard's code path agrees with evaluation; the CLI prints and draws overlays."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from core.images import load_rgb
from model.__main__ import main
from model.predict import load_analyser


@pytest.fixture(scope="module")
def analyser(evaluated_run):
    return load_analyser(evaluated_run.run.root)


@pytest.mark.slow
def test_analyser_agrees_with_the_evaluation(analyser, evaluated_run):
    predictions = evaluated_run.run.read_predictions()
    photos = predictions["path"].iloc[:3].tolist()
    results = analyser.analyse_batch([load_rgb(p) for p in photos])
    columns = [f"prob_{name}" for name in analyser.class_names]
    for index, result in enumerate(results):
        assert result.predicted == predictions["predicted"].iloc[index]
        got = [result.probabilities[name] for name in analyser.class_names]
        np.testing.assert_allclose(got, predictions[columns].iloc[index].to_numpy(dtype=float), atol=1e-5)
        assert result.attention.shape == (8, 8) and result.attention.sum() == pytest.approx(1.0, abs=1e-5)
        assert result.embedding.shape == (512,) and result.model_input.shape == (64, 64, 3)
        assert result.ranked()[0][0] == result.predicted


@pytest.mark.slow
def test_overlay_keeps_the_photo_size_and_blends_by_opacity(analyser, evaluated_run):
    photo = load_rgb(evaluated_run.run.read_predictions()["path"].iloc[0])
    result = analyser.analyse(photo)
    assert analyser.overlay(photo, result, opacity=0.4).size == photo.size  # 72×96, not the model's 64×64
    np.testing.assert_array_equal(np.asarray(analyser.overlay(photo, result, opacity=0.0)), np.asarray(photo))
    full = np.asarray(analyser.overlay(photo, result, opacity=1.0, colormap="viridis"))
    assert not np.array_equal(full, np.asarray(photo))
    with pytest.raises(ValueError, match="opacity"):
        analyser.overlay(photo, result, opacity=1.5)


@pytest.mark.slow
def test_cli_predict_prints_ranked_probabilities_and_writes_the_overlay(evaluated_run, tmp_path, capsys):
    photo = evaluated_run.run.read_predictions()["path"].iloc[0]
    overlay = tmp_path / "overlay.png"
    run_args = ["--workspace", str(evaluated_run.settings.paths.root), "predict", photo, "--run", "shapes-raw"]
    assert main([*run_args, "--overlay", str(overlay), "--opacity", "0.6"]) == 0
    lines = capsys.readouterr().out.splitlines()
    probabilities = [float(line.split()[-1]) for line in lines[1:4]]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) == pytest.approx(1, abs=2e-4)
    assert Image.open(overlay).size == (72, 96)
    assert main([*run_args, "--json"]) == 0
    parsed = json.loads(capsys.readouterr().out)
    assert parsed[0]["predicted"] == lines[0].split(": ")[1].rsplit(" (", 1)[0]
    assert 0 <= parsed[0]["attention_peak_row"] < 8

    not_a_photo = tmp_path / "notes.txt"
    not_a_photo.write_text("hello")
    assert main(["--workspace", str(evaluated_run.settings.paths.root), "predict", str(not_a_photo), "--run",
                 "shapes-raw"]) == 1
    assert capsys.readouterr().err.startswith("error: notes.txt: not an image")


@pytest.mark.slow
def test_nobg_variant_trains_evaluates_and_predicts_from_the_cli(shapes_dataset, workspace, capsys):
    base = ["train", "--variant", "nobg", "--data", str(shapes_dataset), "--epochs", "2", "--batch-size", "12",
            "--image-size", "64", "--weights", "random", "--quiet"]
    assert main(base) == 0
    run = workspace / "runs" / "shapes-nobg"
    assert main(["evaluate", "--run", "shapes-nobg", "--quiet"]) == 0
    predictions = pd.read_csv(run / "predictions.csv")
    assert len(predictions) == 18 and predictions["path"].str.contains("/nobg/").all()
    assert "original_path" in predictions.columns
    assert main(["predict", predictions["path"].iloc[0], "--run", str(run)]) == 0  # run given as a folder
    assert capsys.readouterr().out.count("\n") >= 4
