"""The network itself: the thesis's parameter counts, flatness, attention, preprocessing, save/load."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from model.layers import InputPreprocess, SpatialSoftmax
from model.network import (
    AUGMENT_ROTATION,
    AUGMENT_TRANSLATION,
    attention_model,
    build_model,
    load_saved_model,
    parameter_counts,
    vgg16_conv_names,
)


@pytest.fixture(scope="module")
def small_model():
    keras.utils.set_random_seed(3)
    return build_model(6, 64, weights=None)


def test_thesis_parameter_counts_at_224_and_six_classes():
    counts = parameter_counts(build_model(6, 224, weights=None))
    assert counts == {"total": 15_275_463, "trainable": 560_775, "non_trainable": 14_714_688}


def test_model_is_flat_with_keras_vgg16_names_all_frozen(small_model):
    assert not any(isinstance(layer, keras.Model) for layer in small_model.layers)
    names = [layer.name for layer in small_model.layers]
    for name in vgg16_conv_names():
        assert name in names and not small_model.get_layer(name).trainable
    # the attention branch sits between block4_conv3 and block4_pool, as in thesis figure 3.4
    assert names.index("block4_conv3") < names.index("attention_map") < names.index("block4_pool")
    assert small_model.get_layer("attention_conv").kernel.shape == (3, 3, 512, 64)
    assert small_model.get_layer("attention_score").get_config()["activation"] == "linear"


def test_augmentation_factors_follow_the_thesis(small_model):
    rotation = small_model.get_layer(AUGMENT_ROTATION).get_config()
    # Keras' factor is a fraction of a full turn, so 0.1 rad is 0.1 / 2π ≈ 0.0159 (both directions)
    assert rotation["factor"] == pytest.approx((-0.1 / (2 * math.pi), 0.1 / (2 * math.pi)))
    translation = small_model.get_layer(AUGMENT_TRANSLATION).get_config()
    assert translation["width_factor"] == pytest.approx(20 / 224)
    assert translation["height_factor"] == 0.0


def test_attention_map_sums_to_one_over_height_and_width(small_model):
    images = np.random.default_rng(0).uniform(0, 255, size=(3, 64, 64, 3)).astype(np.float32)
    out = attention_model(small_model).predict_on_batch(images)
    assert out["attention"].shape == (3, 8, 8)
    np.testing.assert_allclose(out["attention"].sum(axis=(1, 2)), 1.0, atol=1e-5)
    assert (out["attention"] > 0).all()
    np.testing.assert_allclose(out["probabilities"], small_model.predict_on_batch(images), atol=1e-6)
    assert out["embedding"].shape == (3, 512) and (out["embedding"] >= 0).all()


def test_spatial_softmax_matches_numpy_and_survives_huge_scores():
    scores = np.random.default_rng(1).normal(0, 50, size=(2, 5, 7, 1)).astype(np.float32)
    scores[0, 0, 0, 0] = 1e4  # exp would overflow without the max shift
    got = np.asarray(SpatialSoftmax()(scores))
    shifted = np.exp(scores - scores.max(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(got, shifted / shifted.sum(axis=(1, 2), keepdims=True), rtol=1e-5, atol=1e-7)
    assert got[0, 0, 0, 0] == pytest.approx(1.0)


def test_vgg_preprocessing_equals_keras_applications():
    pixels = np.random.default_rng(2).uniform(0, 255, size=(2, 4, 4, 3)).astype(np.float32)
    expected = keras.applications.vgg16.preprocess_input(pixels.copy())
    np.testing.assert_allclose(np.asarray(InputPreprocess("vgg")(pixels)), expected, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(np.asarray(InputPreprocess("thesis")(pixels)), pixels / 255.0, rtol=1e-6)
    with pytest.raises(ValueError, match="unknown preprocessing"):
        InputPreprocess("imagenet")


def test_augmentation_is_inactive_outside_training(small_model):
    image = np.random.default_rng(4).uniform(0, 255, size=(1, 64, 64, 3)).astype(np.float32)
    first = np.asarray(small_model(image, training=False))
    np.testing.assert_array_equal(first, np.asarray(small_model(image, training=False)))


def test_save_and_load_with_safe_mode_gives_identical_predictions(small_model, tmp_path):
    path = tmp_path / "model.keras"
    small_model.save(path)
    loaded = load_saved_model(path)  # keras.saving.load_model(..., safe_mode=True)
    assert loaded.get_layer("attention_map").__class__ is SpatialSoftmax
    assert loaded.get_layer("preprocess").mode == "thesis"
    images = np.random.default_rng(5).uniform(0, 255, size=(4, 64, 64, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict_on_batch(images), small_model.predict_on_batch(images))
    reloaded = attention_model(loaded).predict_on_batch(images)
    original = attention_model(small_model).predict_on_batch(images)
    np.testing.assert_array_equal(reloaded["attention"], original["attention"])


def test_too_small_input_is_refused():
    with pytest.raises(ValueError, match="at least 32 px"):
        build_model(6, 16, weights=None)


def test_imagenet_weights_are_copied_by_layer_name(provisioned_workspace):
    from core.config import get_settings
    from model.assets import build_vgg16_notop

    settings = get_settings(provisioned_workspace)
    model = build_model(6, 64, weights="imagenet", settings=settings)
    reference = build_vgg16_notop(settings.paths.vgg16_weights)
    for name in vgg16_conv_names():
        for ours, theirs in zip(model.get_layer(name).get_weights(), reference.get_layer(name).get_weights(), strict=True):
            np.testing.assert_array_equal(ours, theirs)
    # with ImageNet filters and VGG's own preprocessing, block4_conv3 matches keras.applications' VGG16
    vgg_model = build_model(6, 64, weights="imagenet", preprocess="vgg", settings=settings)
    pixels = np.random.default_rng(6).uniform(0, 255, size=(2, 64, 64, 3)).astype(np.float32)
    ours = keras.Model(vgg_model.input, vgg_model.get_layer("block4_conv3").output).predict_on_batch(pixels)
    theirs = keras.Model(reference.input, reference.get_layer("block4_conv3").output).predict_on_batch(
        keras.applications.vgg16.preprocess_input(pixels.copy()))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-3)
