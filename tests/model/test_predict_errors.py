"""`python -m model predict` says what is wrong with each input and still answers for the good ones."""

from __future__ import annotations

import shutil

import pytest

from model.__main__ import main


def _predict(evaluated_run, *arguments) -> int:
    return main(["--workspace", str(evaluated_run.settings.paths.root), "predict", *arguments])


@pytest.mark.slow
def test_a_damaged_model_file_is_one_error_line_that_names_it_and_says_to_retrain(evaluated_run, tmp_path, capsys):
    run = tmp_path / "damaged-run"
    shutil.copytree(evaluated_run.run.root, run)
    (run / "model.keras").write_bytes(b"PK\x03\x04 not really a zip archive")
    photo = evaluated_run.run.read_predictions()["path"].iloc[0]
    assert _predict(evaluated_run, photo, "--run", str(run)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "model.keras" in err and "damaged" in err and "--restart" in err
    assert "not found" not in err.lower()


@pytest.mark.slow
def test_a_folder_given_as_a_photo_is_named_as_a_folder(evaluated_run, tmp_path, capsys):
    folder = tmp_path / "looks"
    folder.mkdir()
    assert _predict(evaluated_run, str(folder), "--run", "shapes-raw") == 1
    assert capsys.readouterr().err == "error: looks: is a folder, not a photo\n"


@pytest.mark.slow
def test_one_bad_photo_does_not_hide_the_results_for_the_good_ones(evaluated_run, tmp_path, capsys):
    good = evaluated_run.run.read_predictions()["path"].iloc[:2].tolist()
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    assert _predict(evaluated_run, good[0], str(bad), good[1], "--run", "shapes-raw") == 1
    captured = capsys.readouterr()
    assert captured.out.count(f"{good[0]}: ") == 1 and captured.out.count(f"{good[1]}: ") == 1
    assert captured.err.splitlines() == ["error: notes.txt: not an image (JPEG, PNG or WEBP expected)"]


@pytest.mark.slow
def test_json_output_keeps_the_good_photos_when_one_is_bad(evaluated_run, tmp_path, capsys):
    import json

    good = evaluated_run.run.read_predictions()["path"].iloc[0]
    missing = tmp_path / "gone.jpg"
    assert _predict(evaluated_run, str(missing), good, "--run", "shapes-raw", "--json") == 1
    captured = capsys.readouterr()
    assert [entry["photo"] for entry in json.loads(captured.out)] == [good]
    assert captured.err.splitlines() == ["error: gone.jpg: file not found"]
