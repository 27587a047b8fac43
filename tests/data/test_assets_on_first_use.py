"""A fresh workspace needs no `python -m model.assets` first: remove-background provisions u2netp itself."""

from __future__ import annotations

import os

from core.assets import AssetError
from core.config import get_settings
from data import rembg_assets
from data.__main__ import main
from data.background import ensure_model
from data.prepare import PrepareOptions, prepare_dataset


def _provision_offline(calls: list):
    """The provisioning route as it behaves without network: recorded, then refused."""
    def provision(settings, try_official=True):
        calls.append(settings.paths.root)
        raise AssetError("no network in this test")

    return provision


def test_remove_background_provisions_u2netp_instead_of_stopping(workspace, runway_factory, monkeypatch, capsys):
    csv_path, _ = runway_factory({"Chanel": (2, 3), "Versace": (2, 3)})
    prepare_dataset(PrepareOptions(csv=csv_path))
    calls = []
    monkeypatch.setattr(rembg_assets, "provision_u2netp", _provision_offline(calls))
    assert main(["remove-background", "--dataset", "src", "--no-progress"]) == 1
    assert calls == [get_settings().paths.root]
    err = capsys.readouterr().err
    assert "not provisioned" not in err and err.endswith("error: no network in this test\n")


def test_the_provisioned_u2netp_is_what_rembg_is_pointed_at(workspace, monkeypatch):
    settings = get_settings()
    calls = []

    def provision(settings, try_official=True):
        calls.append(try_official)
        target = rembg_assets.u2netp_path(settings)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"stands in for u2netp.onnx")
        return target

    monkeypatch.setattr(rembg_assets, "provision_u2netp", provision)
    path = ensure_model("u2netp", settings)
    assert calls == [True]  # the official download first, as `python -m model.assets` does
    assert path == settings.paths.u2net_home / "u2netp.onnx" and path.is_file()
    assert os.environ["U2NET_HOME"] == str(settings.paths.u2net_home)
