"""Thin data: a brand the split leaves without test photos stops `prepare`; one with too few shows for a
show-disjoint validation set borrows validation photos from its training shows, and the summary says so."""

from __future__ import annotations

import json

import pandas as pd

from data.__main__ import main


def _prepare(csv_path, images, *options) -> list[str]:
    return ["prepare", "--csv", str(csv_path), "--images", str(images), "--name", "thin", "--no-progress",
            "--split", "collection", *options]


def test_a_brand_without_test_photos_stops_prepare_with_what_to_do(workspace, runway_factory, capsys):
    csv_path, images = runway_factory({"Chanel": (3, 4), "Versace": (3, 4), "Prada": (1, 6)})
    assert main(_prepare(csv_path, images)) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "no test photos for Prada" in err and "one show" in err
    for remedy in ("--split random", "more photos or shows", "--allow-incomplete"):
        assert remedy in err
    assert "Chanel" not in err and not (workspace / "datasets" / "thin" / "manifest.csv").exists()


def test_allow_incomplete_prepares_it_anyway_and_notes_the_gap(workspace, runway_factory, capsys):
    csv_path, images = runway_factory({"Chanel": (3, 4), "Versace": (3, 4), "Prada": (1, 6)})
    assert main(_prepare(csv_path, images, "--allow-incomplete")) == 0
    assert "no test images for Prada" in capsys.readouterr().out
    manifest = pd.read_csv(workspace / "datasets" / "thin" / "manifest.csv")
    assert "Prada" not in set(manifest.loc[manifest["split"] == "test", "brand"])


def test_too_few_shows_for_validation_borrow_it_from_training_shows(workspace, runway_factory, capsys):
    csv_path, images = runway_factory({"Chanel": (6, 4), "Versace": (2, 6)})
    assert main(_prepare(csv_path, images)) == 0
    assert "Versace come from its training shows" in capsys.readouterr().out
    folder = workspace / "datasets" / "thin"
    manifest = pd.read_csv(folder / "manifest.csv")
    shows = {split: set(rows["collection"]) for split, rows in manifest.groupby("split")}
    versace = manifest[manifest["brand"] == "Versace"]
    assert set(versace["split"]) == {"train", "val", "test"}
    assert set(versace.loc[versace["split"] == "val", "collection"]) <= set(versace.loc[versace["split"] == "train",
                                                                                        "collection"])
    assert not shows["test"] & (shows["train"] | shows["val"])  # the test set stays show-disjoint
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["val_from_training_shows"] == ["Versace"]
    assert any("Versace come from its training shows" in note for note in summary["notes"])
    chanel = manifest[manifest["brand"] == "Chanel"]  # enough shows: a validation show of its own
    assert not set(chanel.loc[chanel["split"] == "val", "collection"]) & set(chanel.loc[chanel["split"] == "train",
                                                                                        "collection"])
