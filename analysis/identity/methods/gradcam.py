"""Grad-CAM's share of each zone, for the target brand and for the target rather than its rival.

`analysis.attention.gradcam.GradCam` on the run's model (`AttentionSettings.gradcam_layer`,
block5_conv3 by default): the map of the target class's logit, and the contrastive map of the
target logit minus the rival's. Each photo's five zones are area-averaged to the map's grid and a
zone's share is the map's mass on it. A map that the ReLU leaves all zero has no shares (NaN).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from analysis.identity import ZONES
from analysis.identity.context import IdentityContext
from analysis.identity.zones import heat_shares
from core.logs import progress_bar

log = logging.getLogger(__name__)


def zone_shares(context: IdentityContext, rows: pd.DataFrame) -> pd.DataFrame:
    from analysis.attention.gradcam import GradCam

    cam = GradCam(context.scorer.model, context.settings.attention.gradcam_layer)
    usable = rows[rows.apply(context.has_zones, axis=1)]
    batch = context.settings.attention.gradcam_batch_size
    records = []
    for start in progress_bar(range(0, len(usable), batch), logger=log, desc="Grad-CAM zones", unit="batch"):
        chunk = usable.iloc[start:start + batch]
        images = np.stack([context.model_input(path) for path in chunk["path"]])
        targets = context.class_index(chunk["target"])
        rivals = context.class_index(chunk["rival"])
        maps, _ = cam(images, class_index=targets)
        contrast_maps, _ = cam(images, class_index=targets, contrast_index=rivals)
        for (_, row), heat, contrast_heat, rival in zip(chunk.iterrows(), maps, contrast_maps, rivals, strict=True):
            zones = context.zones_at(row, heat.shape)
            if zones is None:
                continue
            shares = heat_shares(heat, zones)
            contrast = heat_shares(contrast_heat, zones) if rival >= 0 else np.full(len(ZONES), np.nan)
            records.extend((row["path"], zone, s, c) for zone, s, c in zip(ZONES, shares, contrast, strict=True))
    return pd.DataFrame(records, columns=["path", "zone", "share", "contrast"])
