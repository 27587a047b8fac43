"""Grad-CAM's share of each zone, for the target brand and for the target rather than its rival.

`analysis.attention.gradcam.GradCam` on the run's model (`AttentionSettings.gradcam_layer`,
block5_conv3 by default): the map of the target class's logit, and the contrastive map of the
target logit minus the rival's. Each photo's five zones are area-averaged to the map's grid and a
zone's share is the map's mass on it. A map that the ReLU leaves all zero has no shares (NaN).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis.identity import ZONES
from analysis.identity.context import IdentityContext
from analysis.identity.passes import PassWorker, PhotoResult, WholeBatch, batches_of, run_photo_passes
from analysis.identity.zones import heat_shares


class CamPhoto(NamedTuple):
    path: str
    figure_mask: str
    zones_mask: str
    target: int  # class index
    rival: int  # class index, -1 for none


def gradcam_batch(worker: PassWorker, batch: tuple[CamPhoto, ...]) -> list[PhotoResult]:
    """Per photo: (2, 5) zone shares of the target's map and of the target-rather-than-rival map (NaN without a rival)."""
    from analysis.attention.gradcam import GradCam

    if "cam" not in worker.memo:  # built once per worker: it wraps the loaded model
        worker.memo["cam"] = GradCam(worker.scorer.model, worker.options["layer"])
    cam = worker.memo["cam"]
    images = np.stack([worker.model_input(photo.path) for photo in batch])
    targets = np.array([photo.target for photo in batch], dtype=np.int64)
    rivals = np.array([photo.rival for photo in batch], dtype=np.int64)
    maps, _ = cam(images, class_index=targets)
    contrast_maps, _ = cam(images, class_index=targets, contrast_index=rivals)
    results = []
    for photo, heat, contrast_heat in zip(batch, maps, contrast_maps, strict=True):
        zones = worker.zones(photo.figure_mask, photo.zones_mask, heat.shape)
        if zones is None:
            results.append(PhotoResult(photo.path, None))
            continue
        contrast = heat_shares(contrast_heat, zones) if photo.rival >= 0 else np.full(len(ZONES), np.nan)
        results.append(PhotoResult(photo.path, np.stack([heat_shares(heat, zones), contrast])))
    return results


def zone_shares(context: IdentityContext, rows: pd.DataFrame) -> pd.DataFrame:
    usable = rows[rows.apply(context.has_zones, axis=1)]
    photos = [CamPhoto(str(path), str(figure), str(zones), int(target), int(rival))
              for path, figure, zones, target, rival in zip(usable["path"], usable["figure_mask"], usable["zones_mask"],
                                                            context.class_index(usable["target"]),
                                                            context.class_index(usable["rival"]), strict=True)]
    layer = context.settings.attention.gradcam_layer
    shares: dict[str, np.ndarray] = {}
    run_photo_passes(context, batches_of(photos, context.settings.attention.gradcam_batch_size), WholeBatch(gradcam_batch),
                     {"layer": layer}, lambda result: shares.__setitem__(result.path, result.value), "Grad-CAM zones")
    records = []
    for photo in photos:  # in the order asked for, whichever order the batches came back in
        if photo.path in shares:
            share, contrast = shares[photo.path]
            records.extend((photo.path, zone, s, c) for zone, s, c in zip(ZONES, share, contrast, strict=True))
    return pd.DataFrame(records, columns=["path", "zone", "share", "contrast"])
