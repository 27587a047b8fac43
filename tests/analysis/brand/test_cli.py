"""`python -m analysis`: each command writes its section of brand_analytics.json; errors are one line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.__main__ import main as analysis_main
from analysis.brand.runfolder import current_section
from model.__main__ import main as model_main
from model.ensemble import default_ensemble_name

BRANDS = ["Atelier", "Bravo", "Copia"]


def main(argv: list[str]) -> int:
    """The analyse stage's CLI; `ensemble` belongs to the model stage's."""
    return (model_main if argv[0] == "ensemble" else analysis_main)(argv)


@pytest.fixture
def runs(run_kit, workspace):
    looks = run_kit.make_looks(BRANDS, 8, years=(2019, 2020))
    truth = np.array([BRANDS.index(b) for b in looks["brand"]])
    embeddings = 3 * np.eye(6)[truth] + np.random.default_rng(0).normal(size=(len(truth), 6))
    worse = truth.copy()
    worse[:4] = 1
    run_kit.write_run(workspace, "cli-raw", looks, BRANDS, truth, embeddings)
    run_kit.write_run(workspace, "cli-nobg", looks, BRANDS, worse, embeddings, variant="nobg")
    run_kit.write_run(workspace, "cli-coll", looks, BRANDS, worse, embeddings, split="collection")
    return workspace


def analytics(workspace, run):
    return json.loads((workspace / "runs" / run / "brand_analytics.json").read_text())


def test_index_with_collection_comparison(runs, capsys):
    assert main(["index", "--run", "cli-raw", "--collection-run", "cli-coll", "--resamples", "50"]) == 0
    out = capsys.readouterr().out
    assert "flattery" in out and "wrote" in out
    document = analytics(runs, "cli-raw")
    assert document["index"]["bootstrap"]["resamples"] == 50
    assert {b["brand"] for b in document["index"]["brands"]} == set(BRANDS)
    flattery = {b["brand"]: b["flattery"] for b in document["split_comparison"]["brands"]}
    assert flattery["Atelier"] > 0 and flattery["Copia"] == pytest.approx(0.0)
    assert analytics(runs, "cli-coll")["index"]["split"] == "collection"
    assert current_section(runs / "runs" / "cli-raw", "index") is not None

    # Re-evaluating the run (new predictions.csv) makes the stored index stale, not silently wrong.
    predictions = runs / "runs" / "cli-raw" / "predictions.csv"
    predictions.write_text(predictions.read_text() + "\n")
    assert current_section(runs / "runs" / "cli-raw", "index") is None


def test_drift_then_index_keep_each_others_sections(runs):
    assert main(["drift", "--run", "cli-raw"]) == 0
    assert main(["index", "--run", "cli-raw", "--resamples", "20"]) == 0
    document = analytics(runs, "cli-raw")
    assert {"drift", "index", "run"} <= set(document)
    assert {row["period"] for row in document["drift"]["table"]} == {"2019", "2020"}


def test_ensemble_command_writes_a_run_folder(runs, capsys):
    assert main(["ensemble", "--raw", "cli-raw", "--nobg", "cli-nobg"]) == 0
    out = capsys.readouterr().out
    assert "beats both single models" in out
    run_dir = runs / "runs" / "cli-ensemble"
    for name in ("config.json", "metrics.json", "confusion.csv", "predictions.csv", "embeddings.npy", "brand_analytics.json"):
        assert (run_dir / name).is_file(), name
    assert analytics(runs, "cli-ensemble")["ensemble"]["looks"] == 24
    # the ensemble is a run like any other: the index runs on it
    assert main(["index", "--run", "cli-ensemble", "--resamples", "20"]) == 0
    # a trained run is never overwritten by an ensemble
    assert main(["ensemble", "--raw", "cli-raw", "--nobg", "cli-nobg", "--name", "cli-coll"]) == 1
    assert "holds a 'raw' run" in capsys.readouterr().err


def test_similar_command_uses_the_cached_index(runs, capsys):
    assert main(["similar", "--run", "cli-raw", "--look", "atelier/2019/look-000.png", "-k", "3"]) == 0
    first = capsys.readouterr().out
    assert "built" in first and "look-000.png" not in first.split("\n", 2)[2]  # the look itself is left out
    assert main(["similar", "--run", "cli-raw", "--look", "atelier/2019/look-000.png", "-k", "3"]) == 0
    assert "cached" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["index", "--run", "missing-run"], "no run 'missing-run'"),
        (["drift", "--run", "cli-raw", "--by", "season"], None),
        (["similar", "--run", "cli-raw", "--look", "nowhere.png"], "matches 0"),
        (["similar", "--run", "cli-raw", "--look", "x", "-k", "0"], "-k must be at least 1"),
        (["index", "--run", "cli-raw", "--resamples", "0"], "--resamples must be at least 1"),
        (["ensemble", "--raw", "cli-raw", "--nobg", "cli-nobg", "--learn-weight"], "val_predictions.csv nor a model.keras"),
    ],
)
def test_user_errors_are_one_line(runs, capsys, argv, message):
    code = main(argv)
    err = capsys.readouterr().err
    if message is None:
        assert code == 0
    else:
        assert code == 1 and err.startswith("error: ") and message in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["index"], ["drift"], ["similar", "--look", "atelier/2019/look-000.png"]])
@pytest.mark.parametrize(
    "damage, message",
    [
        ("no predicted column", "predictions.csv: the predictions lacks the column(s) predicted"),
        ("an embedding short", "embeddings.npy has shape (23, 6); expected one row per predictions.csv row (24)"),
    ],
)
def test_a_damaged_run_is_one_error_line(runs, capsys, argv, damage, message):
    run_dir = runs / "runs" / "cli-raw"
    if damage == "no predicted column":
        predictions = pd.read_csv(run_dir / "predictions.csv")
        predictions.drop(columns="predicted").to_csv(run_dir / "predictions.csv", index=False)
    else:
        np.save(run_dir / "embeddings.npy", np.load(run_dir / "embeddings.npy")[:-1])
    assert analysis_main([argv[0], "--run", "cli-raw", *argv[1:]]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert not (run_dir / "brand_analytics.json").exists()  # nothing written from a damaged run


def test_default_ensemble_names():
    assert default_ensemble_name("demo-raw", "demo-nobg") == "demo-ensemble"
    assert default_ensemble_name("a", "b") == "ensemble-a-b"
