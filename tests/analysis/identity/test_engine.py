"""The identity analysis's model passes on the engines: two workers give the same identity.json and caches as
this process, and a photo that cannot be read is named while the others are kept."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.identity import IdentityError
from analysis.identity.identify import IdentityOptions, identify
from core.config import EngineSettings, get_settings
from core.contract import RunFolder

# Every kind of pass: the truth, Grad-CAM, occlusion with the mean fill (whose image travels to the workers), swap
PASSES = {"identity": {"methods": ("gradcam", "occlusion", "swap"), "occlusion_fills": ("mean",),
                        "bootstrap_resamples": 50}}


def outputs(run: RunFolder) -> dict[str, bytes]:
    """identity.json without its timestamp, and the score caches, as bytes."""
    document = json.loads(run.identity.read_text(encoding="utf-8"))
    document.pop("created_at")
    return {"identity.json": json.dumps(document, sort_keys=True).encode(),
            **{cache.name: cache.read_bytes() for cache in score_caches(run)}}


def score_caches(run: RunFolder) -> tuple:
    return run.counterfactual_cache, run.occlusion_cache, run.swap_cache


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["local", "ray"])
def test_two_workers_write_the_same_identity_and_caches_as_this_process(demo_copy, engine):
    settings = get_settings(demo_copy).with_overrides(PASSES)
    run = RunFolder(demo_copy / "runs" / "tiny-raw")
    identify(IdentityOptions(run="tiny-raw"), settings)
    here = outputs(run)
    for path in (run.identity, *score_caches(run)):
        path.unlink()
    there = identify(IdentityOptions(run="tiny-raw"), settings.replace(engine=EngineSettings(engine=engine, workers=2)))
    assert there["skipped"] == {} and "gradcam" in there["faithfulness"]
    assert outputs(run) == here


def test_an_unreadable_photo_is_named_and_the_other_scores_are_kept(demo_copy):
    settings = get_settings(demo_copy).with_overrides(
        {"identity": {"methods": ("occlusion",), "occlusion_fills": ("inpaint",), "bootstrap_resamples": 50}})
    run = RunFolder(demo_copy / "runs" / "tiny-raw")
    predictions = run.read_predictions()
    broken = str(predictions["path"].iloc[0])
    original = open(broken, "rb").read()
    with open(broken, "wb") as fh:  # the look still renders (the truth), but the photo no longer reads (occlusion)
        fh.write(b"not a jpeg")
    with pytest.raises(IdentityError, match="occlusion .inpaint. failed on 1 photo") as error:
        identify(IdentityOptions(run="tiny-raw"), settings)
    assert broken in str(error.value) and "rerun resumes" in str(error.value)
    assert not run.identity.exists()  # nothing half-written
    photos = predictions["path"].nunique()
    assert len(np.load(run.occlusion_cache)["keys"]) == 6 * (photos - 1)  # the others' scores were saved
    with open(broken, "wb") as fh:
        fh.write(original)
    assert identify(IdentityOptions(run="tiny-raw"), settings)["skipped"] == {}
    assert len(np.load(run.occlusion_cache)["keys"]) == 6 * photos
