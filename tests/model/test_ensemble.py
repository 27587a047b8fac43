"""The raw + nobg ensemble: identical members give the member back; joins follow the original photo."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.contract import AnalyticsError
from core.rundata import load_run
from model.ensemble import (
    aligned_rows,
    build_ensemble,
    learn_weight,
    weight_grid,
    write_ensemble_run,
)

BRANDS = ["Atelier", "Bravo", "Copia"]


def member(run_kit, workspace, name, looks, predicted, seed, variant="raw", **changes):
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.ones(3), size=len(looks))
    probabilities[np.arange(len(looks)), predicted] += 1.0  # the predicted brand is the argmax
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    embeddings = rng.normal(size=(len(looks), 8))
    return run_kit.write_run(workspace, name, looks.assign(**changes), BRANDS, predicted, embeddings, probabilities, variant)


@pytest.fixture
def looks(run_kit):
    return run_kit.make_looks(BRANDS, 10, years=(2019, 2020))


def test_ensemble_of_identical_runs_equals_the_run(run_kit, workspace, settings, looks):
    from model.evaluation import classification_metrics

    predicted = np.array([BRANDS.index(b) for b in looks["brand"]])
    predicted[[1, 12, 25]] = [2, 0, 1]  # three mistakes
    member(run_kit, workspace, "same-raw", looks, predicted, seed=1)
    member(run_kit, workspace, "same-nobg", looks, predicted, seed=1, variant="nobg")
    raw, nobg = load_run("same-raw", settings), load_run("same-nobg", settings)
    result = build_ensemble(raw, nobg, settings)
    run_dir = write_ensemble_run(workspace / "runs" / "same-ensemble", result)

    ensemble = load_run(run_dir, settings, need_probabilities=True, need_embeddings=True)
    assert list(ensemble.predictions["path"]) == list(raw.predictions["path"])
    assert list(ensemble.predictions["predicted"]) == list(raw.predictions["predicted"])
    assert np.allclose(ensemble.probabilities, raw.probabilities)
    member_metrics = classification_metrics(raw.true_indices(), raw.probabilities, BRANDS)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("accuracy", "top2_accuracy", "per_class", "macro_avg", "weighted_avg"):
        assert metrics[key] == member_metrics[key], key  # exact: 0.5·p + 0.5·p is p
    assert metrics["accuracy"] == pytest.approx(27 / 30)
    comparison = metrics["ensemble"]
    assert comparison["raw"] == comparison["nobg"] == comparison["ensemble"]
    assert comparison["beats_both"] is False
    confusion = pd.read_csv(run_dir / "confusion.csv", index_col=0)
    assert confusion.loc["Atelier", "Copia"] == 1 and np.trace(confusion.to_numpy()) == 27
    config = json.loads((run_dir / "config.json").read_text())
    assert config["variant"] == "ensemble" and config["weight_raw"] == 0.5 and config["join_key"] == "sha256"
    # Its embeddings keep the member's geometry: cosine similarities are the member's.
    unit = raw.embeddings / np.linalg.norm(raw.embeddings, axis=1, keepdims=True)
    assert np.allclose(ensemble.embeddings @ ensemble.embeddings.T, unit @ unit.T, atol=1e-5)


def test_members_join_on_the_original_photo_in_any_order(run_kit, workspace, settings, looks):
    truth = np.array([BRANDS.index(b) for b in looks["brand"]])
    member(run_kit, workspace, "j-raw", looks.drop(columns=["sha256", "image_path"]), truth, seed=2)
    order = np.random.default_rng(0).permutation(len(looks))[:-3]  # shuffled, three looks missing
    nobg_looks = looks.iloc[order].drop(columns=["sha256", "image_path"]).reset_index(drop=True)
    nobg_looks = nobg_looks.assign(original_path=nobg_looks["path"], path=nobg_looks["path"].str.replace(".png", ".nobg.png"))
    member(run_kit, workspace, "j-nobg", nobg_looks, truth[order], seed=3, variant="nobg")
    raw, nobg = load_run("j-raw", settings), load_run("j-nobg", settings)
    key, raw_rows, nobg_rows = aligned_rows(raw, nobg)
    assert key == "original_path" and len(raw_rows) == len(looks) - 3
    assert (raw.predictions["path"].to_numpy()[raw_rows] == nobg.predictions["original_path"].to_numpy()[nobg_rows]).all()
    result = build_ensemble(raw, nobg, settings)
    expected = 0.5 * raw.probabilities[raw_rows] + 0.5 * nobg.probabilities[nobg_rows]
    got = result["predictions"][[f"prob_{b}" for b in BRANDS]].to_numpy()
    assert np.allclose(got, expected)
    assert result["config"]["unmatched_looks"] == {"raw": 3, "nobg": 0}


def test_learned_weight_prefers_the_better_member():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 300)
    good = np.full((300, 3), 0.1)
    good[np.arange(300), y] = 0.8
    noise = rng.dirichlet(np.ones(3), size=300)
    weight, grid = learn_weight(good, noise, y, step=0.1)
    assert weight == pytest.approx(1.0) or weight >= 0.8
    assert grid["log_loss"].idxmin() == grid.index[grid["weight_raw"] == weight][0]
    weight, _ = learn_weight(noise, good, y, step=0.1)
    assert weight <= 0.2
    same, _ = learn_weight(good, good, y, step=0.05)
    assert same == 0.5  # no difference to learn: the tie goes to the plain average
    assert list(weight_grid(0.25)) == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_learn_weight_reads_validation_predictions(run_kit, workspace, settings, looks):
    truth = np.array([BRANDS.index(b) for b in looks["brand"]])
    member(run_kit, workspace, "v-raw", looks, truth, seed=5)
    member(run_kit, workspace, "v-nobg", looks, (truth + 1) % 3, seed=6, variant="nobg")
    raw, nobg = load_run("v-raw", settings), load_run("v-nobg", settings)
    # validation: raw is right with confidence, nobg always names the next brand
    for run, guess in ((raw, truth), (nobg, (truth + 1) % 3)):
        frame = looks[["path", "brand", "sha256"]].copy()
        probabilities = run_kit.probabilities_for(guess, 3, confidence=0.9)
        for i, brand in enumerate(BRANDS):
            frame[f"prob_{brand}"] = probabilities[:, i]
        frame.to_csv(run.directory / "val_predictions.csv", index=False)
    from model.ensemble import validation_source

    result = build_ensemble(raw, nobg, settings, learn=True, validation=validation_source(workspace / "cache", settings))
    assert result["config"]["weight_raw"] == 1.0 and result["config"]["weight_learned"]
    assert result["comparison"]["ensemble"]["accuracy"] == 1.0
    assert result["weight_grid"]["weight_raw"].tolist()[0] == 0.0


def test_mismatched_members_are_refused(run_kit, workspace, settings, looks):
    truth = np.array([BRANDS.index(b) for b in looks["brand"]])
    member(run_kit, workspace, "m-raw", looks, truth, seed=1)
    other = looks.assign(sha256="x" + looks["sha256"], image_path="other/" + looks["image_path"], path="/elsewhere/" + looks.index.astype(str))
    member(run_kit, workspace, "m-nobg", other, truth, seed=1, variant="nobg")
    with pytest.raises(AnalyticsError, match="share no test photo"):
        build_ensemble(load_run("m-raw", settings), load_run("m-nobg", settings), settings)
    with pytest.raises(AnalyticsError, match="validation predictions"):
        build_ensemble(load_run("m-raw", settings), load_run("m-raw", settings), settings, learn=True)
