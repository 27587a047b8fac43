"""The demo generator's files: determinism, exact masks, the runway CSV schema, resume and errors."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from core.config import RUNWAY_CSV_COLUMNS, RUNWAY_CSV_EXTRA_COLUMNS, get_settings
from core.images import load_rgb
from data.demo import cli
from data.demo.generate import DemoError, DemoParams, compose, generate, plan_looks
from data.demo.houses import HOUSES, ZONE_LABELS

SMALL = dict(houses=6, per_house=3, width=96, height=144, background_informativeness=0.7, seasonal_drift=0.3, seed=7)


def small(**changes) -> DemoParams:
    return DemoParams(**{**SMALL, **changes})


def file_digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".jpg", ".png")
    }


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(small(), out)
    return out


def test_same_seed_same_bytes_other_seed_other_bytes(demo_dir, tmp_path):
    again = tmp_path / "again"
    generate(small(), again, workers=2)  # two processes draw the same bytes as one
    assert file_digests(again) == file_digests(demo_dir)
    other = tmp_path / "other"
    generate(small(seed=8), other)
    photos = {k: v for k, v in file_digests(demo_dir).items() if k.endswith(".jpg")}
    other_photos = {k: v for k, v in file_digests(other).items() if k.endswith(".jpg")}
    assert len(other_photos) == len(photos) == 18
    assert not set(other_photos.values()) & set(photos.values())


def test_runway_csv_has_exactly_the_scraper_columns_read_from_the_files(demo_dir):
    frame = pd.read_csv(demo_dir / "runway.csv")
    assert tuple(frame.columns) == RUNWAY_CSV_COLUMNS + RUNWAY_CSV_EXTRA_COLUMNS + ("figure_mask_path", "zones_mask_path")
    assert len(frame) == 6 * 3
    assert set(frame["brand"]) == {h.name for h in HOUSES}
    assert frame["image_alt"].str.startswith("DEMO DATA").all()
    assert frame["collection_url"].str.startswith("demo://").all()
    assert set(frame["season"]) <= {"spring-summer", "fall-winter"} and frame["year"].between(2015, 2020).all()
    for row in frame.itertuples():
        photo = demo_dir / row.image_path
        assert photo.is_file() and (demo_dir / row.figure_mask_path).is_file() and (demo_dir / row.zones_mask_path).is_file()
        assert row.image_size == photo.stat().st_size
        assert row.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
        assert (row.image_format, row.image_mode) == ("JPEG", "RGB")
        assert row.collection_url.endswith(row.image_path.split("/")[2])  # the collection folder
        width, height = load_rgb(photo).size
        assert (row.image_width, row.image_height) == (width, height) == (96, 144)
        assert height > width  # portrait


def test_masks_are_a_partition_with_feet_at_the_bottom(demo_dir):
    frame = pd.read_csv(demo_dir / "runway.csv")
    for row in frame.itertuples():
        figure = np.asarray(Image.open(demo_dir / row.figure_mask_path))
        zones_image = Image.open(demo_dir / row.zones_mask_path)
        assert zones_image.mode == "L"
        zones = np.asarray(zones_image)
        assert set(np.unique(figure)) == {0, 255}
        assert set(np.unique(zones)) == {0, 1, 2, 3, 4}  # every zone present
        np.testing.assert_array_equal(figure == 255, zones > 0)  # zones partition the figure mask
        rows = {name: np.nonzero(zones == label)[0] for name, label in ZONE_LABELS.items() if label}
        means = [rows[name].mean() for name in ("head", "torso", "legs", "feet")]
        assert means == sorted(means)  # head above torso above legs above feet
        assert rows["feet"].max() == np.nonzero(figure)[0].max()  # the lowest figure row is a foot
        assert 0.03 < figure.mean() / 255 < 0.5


def test_masks_cover_exactly_what_the_figure_changes():
    params = small(width=192, height=288)
    for spec in plan_looks(params)[::3]:
        with_figure, zones, _ = compose(spec, params)
        empty, no_zones, _ = compose(spec, params, with_figure=False)
        assert not no_zones.any()
        changed = np.any(with_figure != empty, axis=2)
        assert not changed[zones == 0].any()  # outside the mask: the venue, pixel for pixel
        assert changed[zones > 0].mean() > 0.9  # inside: the figure


def test_rerun_is_a_no_op_and_a_lost_photo_is_redrawn_identically(demo_dir, tmp_path):
    out = tmp_path / "demo"
    generate(small(), out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    report = generate(small(), out)
    assert (report.generated, report.present, report.csv_written) == (0, 18, False)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamps

    lost = out / plan_looks(small())[4].image_path
    lost.unlink()
    report = generate(small(), out)
    assert report.generated == 1
    assert file_digests(out) == file_digests(demo_dir)


def test_more_looks_per_house_keeps_the_old_ones(tmp_path):
    out = tmp_path / "demo"
    generate(small(per_house=2), out)
    before = file_digests(out)
    report = generate(small(per_house=3), out)
    assert (report.generated, report.present) == (6, 12)
    after = file_digests(out)
    assert {k: after[k] for k in before} == before
    assert len(pd.read_csv(out / "runway.csv")) == 18


def test_other_parameters_in_the_same_folder_are_refused_unless_overwrite(tmp_path):
    out = tmp_path / "demo"
    generate(small(per_house=1), out)
    with pytest.raises(DemoError, match="seed 7 -> 9"):
        generate(small(per_house=1, seed=9), out)
    generate(small(per_house=1, seed=9), out, overwrite=True)
    frame = pd.read_csv(out / "runway.csv")
    assert len(frame) == 6


def test_a_foreign_folder_is_refused(tmp_path):
    (tmp_path / "images").mkdir()
    with pytest.raises(DemoError, match="not a demo folder"):
        generate(small(per_house=1), tmp_path)


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(width=300, height=200), "not portrait"),
        (dict(width=20, height=30), "out of range"),
        (dict(houses=7), "--houses"),
        (dict(per_house=0), "--per-house"),
        (dict(background_informativeness=1.5), "between 0 and 1"),
        (dict(seasonal_drift=-0.1), "between 0 and 1"),
    ],
)
def test_bad_parameters_get_one_clear_message(changes, message, tmp_path):
    with pytest.raises(DemoError, match=message):
        generate(small(**changes), tmp_path / "demo")
    assert not (tmp_path / "demo").exists()


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m data demo")
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_writes_to_the_workspace_demo_folder(workspace, capsys):
    args = _parse(["--houses", "2", "--per-house", "2", "--size", "96x144", "--seed", "3", "--no-progress"])
    assert cli.run(args) == 0
    out = get_settings().paths.demo
    assert out == workspace / "demo"
    assert len(pd.read_csv(out / "runway.csv")) == 4
    assert "DEMO DATA" in capsys.readouterr().out
    assert cli.run(args) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_cli_user_errors_print_one_error_line(workspace, capsys):
    assert cli.run(_parse(["--size", "288x192", "--no-progress"])) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "portrait" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        _parse(["--size", "wide"])
    assert "expected WIDTHxHEIGHT" in capsys.readouterr().err
