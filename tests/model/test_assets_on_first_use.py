"""A fresh workspace needs no `python -m model.assets` first: training provisions the VGG16 weights itself."""

from __future__ import annotations

from core.config import get_settings
from model import assets
from model.network import build_model


def test_imagenet_weights_are_provisioned_on_first_use_and_then_reused(workspace, monkeypatch):
    settings = get_settings()
    calls = []

    def provision(settings, try_official=True):  # stands in for the download: random weights in the right format
        calls.append(try_official)
        target = settings.paths.vgg16_weights
        target.parent.mkdir(parents=True, exist_ok=True)
        assets.build_vgg16_notop().save_weights(str(target))
        return target

    monkeypatch.setattr(assets, "provision_vgg16", provision)
    first = build_model(3, 32, weights="imagenet", settings=settings)
    build_model(3, 32, weights="imagenet", settings=settings)
    assert calls == [True]  # once, official download first; the second model reuses the file
    saved = assets.build_vgg16_notop(settings.paths.vgg16_weights).get_layer("block1_conv1").get_weights()[0]
    assert (first.get_layer("block1_conv1").get_weights()[0] == saved).all()
