"""Bad input gets one clear message: malformed manifests, missing photos, unknown variants, missing runs."""

from __future__ import annotations

import pandas as pd
import pytest

from core.contract import RunError, resolve_run
from model.__main__ import main
from model.data import DataError, read_manifest, resolve_manifest
from model.training import TrainError


def _cli_error(capsys, argv) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    return err


def test_unknown_variant_is_refused_by_api_and_cli(shapes_dataset, capsys, train_with):
    with pytest.raises(DataError, match="unknown variant 'rgb'; expected one of: raw, nobg"):
        train_with(variant="rgb", data=str(shapes_dataset))
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--variant", "rgb", "--data", str(shapes_dataset)])
    assert exit_info.value.code == 2
    assert "invalid choice: 'rgb'" in capsys.readouterr().err


def test_missing_nobg_manifest_says_what_to_run(shapes_dataset, capsys):
    (shapes_dataset / "nobg" / "manifest.csv").unlink()
    err = _cli_error(capsys, ["train", "--variant", "nobg", "--data", str(shapes_dataset)])
    assert "nobg/manifest.csv does not exist" in err and "remove-background" in err


def test_manifest_resolution_from_folder_file_or_name(shapes_dataset, workspace):
    assert resolve_manifest(shapes_dataset, "raw") == shapes_dataset / "manifest.csv"
    assert resolve_manifest(shapes_dataset / "manifest.csv", "nobg") == shapes_dataset / "nobg" / "manifest.csv"
    assert resolve_manifest("shapes", "nobg") == shapes_dataset / "nobg" / "manifest.csv"  # name under datasets/
    with pytest.raises(DataError, match="background-removed dataset"):
        resolve_manifest(shapes_dataset / "nobg", "raw")
    with pytest.raises(DataError, match="dataset not found: nowhere"):
        resolve_manifest("nowhere", "raw")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a readable CSV manifest"),
        (b"", "not a readable CSV manifest"),
        (b"path,brand\n/a.jpg,Chanel\n", "lacks the column(s) split"),
        (b"path,brand,split\n", "lists no images"),
        (b"path,brand,split\n/a.jpg,,train\n", "empty 'brand' in 1 row(s), first at data row 1"),
        (b"path,brand,split\n/a.jpg,Chanel,training\n", "unknown split value(s) ['training']"),
    ],
)
def test_malformed_manifest_gets_a_clear_error(tmp_path, content, message):
    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes(content)
    with pytest.raises(DataError) as error:
        read_manifest(manifest)
    assert message in str(error.value) and str(manifest) in str(error.value)


def test_malformed_manifest_through_the_cli(tmp_path, capsys):
    dataset = tmp_path / "broken"
    dataset.mkdir()
    (dataset / "manifest.csv").write_text("photo,label\nx.jpg,Chanel\n")
    err = _cli_error(capsys, ["train", "--variant", "raw", "--data", str(dataset)])
    assert "lacks the column(s) path, brand, split" in err


def test_missing_image_names_the_file_and_trains_nothing(shapes_dataset, workspace, capsys):
    frame = pd.read_csv(shapes_dataset / "manifest.csv")
    gone = frame["path"].iloc[3]
    (shapes_dataset.parent.parent / "images" / frame["image_path"].iloc[3]).unlink()
    err = _cli_error(capsys, ["train", "--variant", "raw", "--data", str(shapes_dataset), "--weights", "random"])
    assert "1 of 72 image(s) are missing" in err and gone in err
    assert not (workspace / "runs").exists()  # nothing written for a refused run


def test_unreadable_image_is_reported_with_its_path(shapes_dataset, workspace, train_with):
    frame = pd.read_csv(shapes_dataset / "manifest.csv")
    broken = frame["path"].iloc[0]
    with open(broken, "wb") as fh:
        fh.write(b"not an image at all")
    with pytest.raises(DataError, match="cannot read a training photo.*not an image"):
        train_with(variant="raw", data=str(shapes_dataset), epochs=1, image_size=64, weights="random",
                   fast_path="on")


def test_invalid_hyperparameters_are_refused_together(shapes_dataset, train_with):
    with pytest.raises(TrainError, match="epochs must be at least 1.*image size must be a multiple of 8"):
        train_with(variant="raw", data=str(shapes_dataset), epochs=0, image_size=100)


def test_missing_run_and_missing_artifacts(workspace, capsys):
    with pytest.raises(RunError, match="no run 'ghost'"):
        resolve_run("ghost")
    err = _cli_error(capsys, ["evaluate", "--run", "ghost"])
    assert "python -m model train" in err
    run = workspace / "runs" / "half"
    run.mkdir(parents=True)
    (run / "config.json").write_text('{"class_names": ["A", "B"], "variant": "raw"}')
    err = _cli_error(capsys, ["evaluate", "--run", "half"])
    assert "has no model.keras" in err
