"""`python -m analysis attention`: end to end on a small run folder, merging, resuming, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.__main__ import main as analysis_main
from analysis.attention import METRICS, PER_IMAGE_COLUMNS, ZONES
from analysis.attention.analyse import mask_table, stratified_sample
from core.contract import RunConfig

BRANDS = ("Versace", "Chanel", "Giorgio Armani")  # the small run's classes (conftest.py)


def main(argv: list[str]) -> int:
    return analysis_main(["attention", *argv])


def read(run):
    return json.loads((run / "metrics.json").read_text())


def gradcam_maps(run) -> dict:
    """{photo: Grad-CAM map} from the run's attention/gradcam.npz."""
    with np.load(run / "attention" / "gradcam.npz") as stored:
        return dict(zip(stored["paths"].tolist(), stored["maps"], strict=True))


def run_photos(run, brand: str) -> list[str]:
    predictions = pd.read_csv(run / "predictions.csv")
    return predictions.loc[predictions["brand"] == brand, "path"].tolist()


def test_full_analysis_then_resume_and_skip(make_run, capsys, monkeypatch):
    run = make_run(metrics={"accuracy": 0.42, "per_class": {"Versace": {"f1": 0.1}}})
    assert main(["--run", "tiny", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "masks: generator" in out and "sanity check" in out and "background reliance" in out

    metrics = read(run)
    assert metrics["accuracy"] == 0.42 and metrics["per_class"] == {"Versace": {"f1": 0.1}}  # never clobbered
    attention = metrics["attention"]
    assert attention["mask_source"] == "generator"
    for metric in METRICS:
        assert set(attention[metric]["per_brand"]) == set(BRANDS)
        assert 0.0 <= attention[metric]["mean"] <= 1.0
    assert set(attention["body_zones"]["per_brand"]["Chanel"]) == set(ZONES)
    assert attention["gradcam_agreement"]["layer"] == "block5_conv3"
    # a map the ReLU leaves all zero (a random network's, now and then) has no agreement: it is not counted
    cams = gradcam_maps(run)
    versace_with_a_map = sum(cams[path].any() for path in run_photos(run, "Versace"))
    assert attention["gradcam_agreement"]["spearman"]["per_brand"]["Versace"]["n"] == versace_with_a_map
    assert isinstance(attention["sanity_check"]["maps_changed"], bool)

    reliance = metrics["background_reliance"]
    assert reliance["treatments"] == ["original", "removed", "swapped", "blurred"]
    assert reliance["n_images"] == 12 and reliance["fill"] == "white"
    assert set(reliance["per_brand"]) == set(BRANDS)
    for treatment in reliance["treatments"]:
        assert reliance["drop"][treatment] == pytest.approx(
            reliance["accuracy"]["original"] - reliance["accuracy"][treatment])

    per_image = pd.read_csv(run / "attention" / "per_image.csv")
    predictions = pd.read_csv(run / "predictions.csv")
    assert list(per_image.columns) == list(PER_IMAGE_COLUMNS)
    assert per_image["path"].tolist() == predictions["path"].tolist()
    assert sorted(cams) == sorted(predictions["path"])  # Grad-CAM ran on every photo
    has_map = per_image["path"].map(lambda path: bool(cams[path].any()))
    assert per_image.loc[has_map, "gradcam_spearman"].notna().all()
    zones = per_image[[f"zone_{z}" for z in ZONES]].sum(axis=1)
    assert np.allclose(zones, per_image["mass_on_figure"], atol=1e-5)
    # The section's means are the per-image table's means.
    assert attention["mass_on_figure"]["mean"] == pytest.approx(per_image["mass_on_figure"].mean())
    table = pd.read_csv(run / "attention" / "reliance.csv")
    assert table["predicted_original"].tolist() == predictions["predicted"].tolist()
    # "original" reuses predictions.csv; passing the untreated photos through the model agrees with it.
    from analysis.attention.background_reliance import TreatmentSettings, evaluate_reliance
    from core.config import AttentionSettings
    from model.network import load_saved_model

    rows = predictions[["path", "brand"]].assign(figure_mask=predictions["figure_mask_path"], venue_path=predictions["path"])
    fresh = evaluate_reliance(load_saved_model(run / "model.keras"), rows.iloc[::4], list(BRANDS), 64, "nearest",
                              TreatmentSettings.at_size(64, (255, 255, 255), AttentionSettings()))
    assert fresh["predicted_original"].tolist() == predictions["predicted"].iloc[::4].tolist()
    assert (table["donor_path"].map(lambda p: p.split("/")[-1][0]) != table["path"].map(lambda p: p.split("/")[-1][0])).all()

    # A rerun resumes from attention/gradcam.npz and reliance.csv; skipping keeps the earlier results.
    first = read(run)
    first_table = pd.read_csv(run / "attention" / "per_image.csv")

    import analysis.attention.background_reliance
    import analysis.attention.gradcam

    def refuse(*args, **kwargs):
        raise AssertionError("recomputed a cached result")

    monkeypatch.setattr(analysis.attention.gradcam.GradCam, "__call__", refuse)
    monkeypatch.setattr(analysis.attention.background_reliance, "treat", refuse)
    assert main(["--run", "tiny", "--quiet"]) == 0  # everything from attention/gradcam.npz and reliance.csv
    assert read(run)["background_reliance"] == first["background_reliance"]
    assert read(run)["attention"]["gradcam_agreement"] == first["attention"]["gradcam_agreement"]

    monkeypatch.setattr("model.predict.load_analyser", refuse)  # skipping both needs no model at all
    assert main(["--run", "tiny", "--quiet", "--skip-gradcam", "--skip-reliance"]) == 0
    again = read(run)
    assert again["attention"]["gradcam_agreement"] == first["attention"]["gradcam_agreement"]
    assert again["attention"]["sanity_check"] == first["attention"]["sanity_check"]
    assert again["background_reliance"] == first["background_reliance"]
    pd.testing.assert_frame_equal(pd.read_csv(run / "attention" / "per_image.csv"), first_table)


def test_max_images_limits_the_model_passes_to_a_stratified_sample(make_run):
    run = make_run()
    assert main(["--run", "tiny", "--quiet", "--max-images", "3", "--skip-reliance"]) == 0
    per_image = pd.read_csv(run / "attention" / "per_image.csv")
    assert per_image["mass_on_figure"].notna().all()  # the mask metrics always cover every photo
    brand_of = dict(zip(per_image["path"], per_image["brand"], strict=True))
    assert sorted(brand_of[path] for path in gradcam_maps(run)) == sorted(BRANDS)  # one photo per brand
    assert "background_reliance" not in read(run)


def test_stratified_sample_interleaves_brands():
    brands = pd.Series(["a"] * 10 + ["b"] * 3 + ["c"] * 1)
    sample = stratified_sample(brands, 6, seed=0)
    assert len(sample) == 6 and sorted(brands[sample].value_counts().tolist()) == [1, 2, 3]
    assert stratified_sample(brands, None, 0).tolist() == list(range(14))


def test_mask_table_finds_rembg_masks_for_real_photos(tmp_path):
    nobg = tmp_path / "datasets" / "real" / "nobg"
    nobg.mkdir(parents=True)
    pd.DataFrame({"path": ["/n/a.png", "/n/b.png"], "original_path": ["/r/a.jpg", "/r/b.jpg"],
                  "rembg_mask_path": ["/m/a.png", "/m/b.png"], "figure_mask_path": ["/m/a.png", "/m/b.png"]}
                 ).to_csv(nobg / "manifest.csv", index=False)
    raw = pd.DataFrame({"path": ["/r/a.jpg", "/r/b.jpg", "/r/c.jpg"], "brand": ["X", "Y", "Y"],
                        "figure_mask_path": ["", "/gt/b.png", ""], "zones_mask_path": ["", "/gt/b.zones.png", ""]})
    table = mask_table(raw, RunConfig(run="real-raw", variant="raw", class_names=["X", "Y"],
                                      manifest=str(tmp_path / "datasets" / "real" / "manifest.csv")))
    assert table["figure_mask"].tolist() == ["/m/a.png", "/gt/b.png", ""]
    assert table["mask_source"].tolist() == ["rembg", "generator", ""]
    assert table["zones_mask"].tolist() == ["", "/gt/b.zones.png", ""]
    assert table["venue_path"].tolist() == raw["path"].tolist()
    # A nobg run: the row names its rembg mask and its original photo, which donates the venue.
    nobg_rows = pd.DataFrame({"path": ["/n/a.png"], "brand": ["X"], "figure_mask_path": ["/m/a.png"],
                              "zones_mask_path": [""], "rembg_mask_path": ["/m/a.png"], "original_path": ["/r/a.jpg"]})
    table = mask_table(nobg_rows, RunConfig(run="real-nobg", variant="nobg", class_names=["X", "Y"],
                                            manifest=str(nobg / "manifest.csv")))
    assert table["mask_source"].tolist() == ["rembg"] and table["venue_path"].tolist() == ["/r/a.jpg"]


def test_user_errors_are_one_line(make_run, capsys, workspace):
    assert main(["--run", "no-such-run"]) == 1
    assert capsys.readouterr().err.startswith("error: no run 'no-such-run'")
    run = make_run()
    np.save(run / "attention" / "maps.npy", np.zeros((3, 8, 8), np.float16))
    assert main(["--run", "tiny", "--skip-gradcam", "--skip-reliance"]) == 1
    err = capsys.readouterr().err
    assert "3 maps but predictions.csv has 12 rows" in err and "Traceback" not in err
    assert main(["--run", "tiny", "--max-images", "0"]) == 1
    assert "--max-images must be at least 1" in capsys.readouterr().err


def test_run_without_masks_says_what_to_do(make_run, capsys):
    run = make_run()
    predictions = pd.read_csv(run / "predictions.csv", keep_default_na=False)
    predictions[["figure_mask_path", "zones_mask_path"]] = ""
    predictions.to_csv(run / "predictions.csv", index=False)
    assert main(["--run", "tiny", "--skip-gradcam", "--skip-reliance", "--quiet"]) == 1
    assert "remove-background" in capsys.readouterr().err
    assert "attention" not in read(run)  # nothing half-written


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["local", "ray"])
def test_gradcam_on_two_workers_gives_the_same_maps_as_this_process(make_run, engine):
    from analysis.attention.analyse import gradcam_pass
    from core.config import EngineSettings, get_settings
    from core.contract import RunFolder
    from model.predict import load_analyser

    run = RunFolder(make_run())
    settings = get_settings()
    settings = settings.with_overrides({"attention": {"gradcam_batch_size": 4}})
    paths = pd.read_csv(run.predictions)["path"].tolist()
    analyser = load_analyser(run.root, settings)
    here = gradcam_pass(analyser, run, paths, settings)
    run.gradcam_cache.unlink()
    there = gradcam_pass(analyser, run, paths, settings.replace(engine=EngineSettings(engine=engine, workers=2)))
    assert list(here) == paths and sorted(there) == sorted(here)
    assert [p for p in paths if here[p].tobytes() != there[p].tobytes()] == []


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["local", "ray"])
def test_background_reliance_on_two_workers_writes_the_same_table_as_this_process(make_run, engine):
    from analysis.attention.analyse import reliance_pass
    from core.config import EngineSettings, get_settings
    from core.contract import RunFolder
    from model.predict import load_analyser

    run = RunFolder(make_run())
    settings = get_settings().with_overrides({"attention": {"gradcam_batch_size": 4}})
    config = run.read_config()
    predictions = pd.read_csv(run.predictions, dtype=str, keep_default_na=False)
    rows = predictions[["path", "brand", "predicted"]].join(mask_table(predictions, config)[["figure_mask",
                                                                                              "venue_path"]])
    analyser = load_analyser(run.root, settings)
    reliance_pass(analyser, run, rows, settings)
    here = run.reliance_cache.read_bytes()
    run.reliance_cache.unlink()
    reliance_pass(analyser, run, rows, settings.replace(engine=EngineSettings(engine=engine, workers=2)))
    assert run.reliance_cache.read_bytes() == here
