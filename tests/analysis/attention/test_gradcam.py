"""Grad-CAM on the saved, reloaded model; agreement scores; the randomisation sanity check."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from analysis.attention.gradcam import GradCam, agreement, map_similarity, sanity_check, top_k_cells
from model.network import attention_model

IMAGE_SIZE = 64  # the tiny model's input (tests/analysis/attention/conftest.py)


@pytest.fixture(scope="module")
def reloaded(tiny_model_file):
    import model.layers  # noqa: F401  (registers the custom layers, as every loader does)

    return keras.saving.load_model(str(tiny_model_file), safe_mode=True, compile=False)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(5, IMAGE_SIZE, IMAGE_SIZE, 3)).astype(np.uint8)


def test_gradcam_runs_on_the_saved_and_reloaded_model(reloaded, images):
    cam = GradCam(reloaded)
    maps, classes = cam(images)
    assert cam.layer == "block5_conv3"
    assert maps.shape == (5, IMAGE_SIZE // 16, IMAGE_SIZE // 16)
    assert np.isfinite(maps).all() and (maps >= 0).all() and maps.max() > 0
    assert classes.tolist() == reloaded.predict_on_batch(images.astype(np.float32)).argmax(axis=1).tolist()
    # Batching is exact: one image alone gives the same map.
    alone, _ = cam(images[2:3])
    assert np.allclose(alone[0], maps[2], rtol=1e-4, atol=1e-6)


def test_gradcam_follows_the_requested_class_and_layer(reloaded, images):
    cam = GradCam(reloaded)
    predicted, classes = cam(images)
    other = (classes + 1) % 3
    forced, used = cam(images, class_index=other)
    assert used.tolist() == other.tolist() and not np.allclose(forced, predicted)
    block4, _ = GradCam(reloaded, "block4_conv3")(images[:1])
    assert block4.shape == (1, IMAGE_SIZE // 8, IMAGE_SIZE // 8)
    with pytest.raises(ValueError, match="no layer 'nope'"):
        GradCam(reloaded, "nope")


def test_agreement_known_answers():
    rng = np.random.default_rng(1)
    heat = rng.random((4, 4))
    assert agreement(heat, heat) == pytest.approx((1.0, 1.0))
    rho, overlap = agreement(heat, heat.max() - heat, k_percent=25)
    assert rho == pytest.approx(-1.0) and overlap == 0.0
    # An 8×8 attention map that is the 4×4 Grad-CAM blown up: compared on the 4×4 grid, perfect agreement.
    assert agreement(np.kron(heat, np.ones((2, 2))), heat) == pytest.approx((1.0, 1.0))
    assert np.isnan(agreement(heat, np.zeros((4, 4)))[0])  # an all-zero Grad-CAM has no ranking
    assert sorted(top_k_cells(np.arange(16.0).reshape(4, 4), 10).tolist()) == [14, 15]  # 10% of 16 ≈ 2 cells


def test_sanity_check_changes_the_maps_and_restores_the_weights(reloaded, images):
    companion = attention_model(reloaded)
    before = np.asarray(companion.predict_on_batch(images.astype(np.float32))["attention"])
    result = sanity_check(reloaded, images, seed=7)
    assert np.allclose(result["before"], before)
    assert not np.allclose(result["after"], before)
    assert result["spearman"] < 0.99 and result["n"] == 5
    after_restore = np.asarray(companion.predict_on_batch(images.astype(np.float32))["attention"])
    assert np.array_equal(after_restore, before)
    again = sanity_check(reloaded, images, seed=7)
    assert np.allclose(again["after"], result["after"])  # seeded: the same randomisation


def test_map_similarity_of_identical_and_unrelated_maps():
    rng = np.random.default_rng(2)
    maps = rng.random((3, 8, 8))
    rho, ssim = map_similarity(maps, maps)
    assert np.allclose(rho, 1.0) and np.allclose(ssim, 1.0)
    rho, ssim = map_similarity(maps, rng.random((3, 8, 8)))
    assert np.abs(rho).max() < 0.5 and ssim.max() < 0.5


def test_explain_photo_for_the_dashboard(make_run):
    from PIL import Image

    from analysis.attention.gradcam import explain_photo
    from dashboard.figures.attention import attention_gradcam_figure
    from model.predict import load_analyser

    run = make_run()
    analyser = load_analyser(run)
    photo = Image.fromarray(np.random.default_rng(5).integers(0, 256, (90, 60, 3)).astype(np.uint8))
    result = explain_photo(analyser, photo)
    assert result["attention"].shape == (IMAGE_SIZE // 8, IMAGE_SIZE // 8)
    assert result["gradcam"].shape == (IMAGE_SIZE // 16, IMAGE_SIZE // 16) and result["layer"] == "block5_conv3"
    assert result["spearman"] == pytest.approx(agreement(result["attention"], result["gradcam"])[0], nan_ok=True)
    figure = attention_gradcam_figure(photo, result["attention"], result["gradcam"], result["spearman"],
                                      result["topk_overlap"])
    assert len(figure.data) == 3 and figure.data[1].z.shape == (90, 60, 3)
