"""Occlusion: replace one zone with an in-distribution fill and measure what the model loses.

For each photo and each of the five zones (head, torso, legs, feet, background), the zone is
replaced on the model's input and the model scored again; a zone's score is the drop in the
target's evidence (`context.evidence`) from the photo to the occluded photo, and its contrast the
drop in log p(target) − log p(rival). It needs no generator, only the zones, so it runs on real photos
(zones from rembg's mask, cut into bands: `analysis.identity.zones`).

A grey patch is a thing no training photo had, so its drop mixes "the evidence is gone" with "the
photo looks broken". The fills try to stay in distribution, and which one is most faithful is
measured on the demo (`analysis.identity.faithfulness`):

- `mean`: the mean of the run's training photos (at the model's input size) inside the zone:
  what is there "on average", without this photo's evidence;
- `inpaint`: the zone painted in from its surroundings (`cv2.inpaint`, Telea's method, radius
  `AttentionSettings.inpaint_radius`): the garment or background continued over it;
- `colour`: the background-removal fill (white by default), what a nobg photo shows off the figure.

The zone masks are soft (area-averaged to the input size) and the fill is blended by them, so
edges are not hard cut-outs. Scores are cached in `identity/occlusion.npz` (log-probabilities of
every class, so another rival costs no model pass), keyed by photo, fill, zone and model file.
"""

from __future__ import annotations

import hashlib
import json
import logging

import cv2
import numpy as np
import pandas as pd

from analysis.identity import ZONES
from analysis.identity.cache import ScoreCache, cache_key
from analysis.identity.context import IdentityContext, evidence, log_probabilities
from analysis.identity.passes import PassWorker, PhotoMasks, PhotoResult, run_cached_passes
from core.contract import DataError, read_manifest_table
from core.images import ImageError

log = logging.getLogger(__name__)
ORIGINAL = "original"
HOLE_THRESHOLD = 0.05  # a pixel at least this much inside the zone is repainted (soft edges included)


# --------------------------------------------------------------------------- pure


def blend(image: np.ndarray, fill: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """alpha · fill + (1 − alpha) · image, as uint8; alpha (H, W) in [0, 1]."""
    alpha = np.clip(np.asarray(alpha, np.float32), 0.0, 1.0)[..., None]
    mixed = alpha * np.asarray(fill, np.float32) + (1.0 - alpha) * np.asarray(image, np.float32)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def fill_image(kind: str, image: np.ndarray, alpha: np.ndarray, *, mean_image: np.ndarray | None = None,
               colour: tuple[int, int, int] = (255, 255, 255), radius: int = 5) -> np.ndarray:
    """What replaces the zone `alpha` of `image` under fill `kind` (mean, inpaint, colour), full size."""
    if kind == "mean":
        if mean_image is None:
            raise ValueError("the mean fill needs the mean image")
        return np.asarray(mean_image, np.uint8)
    if kind == "colour":
        return np.broadcast_to(np.asarray(colour, np.uint8), image.shape).copy()
    if kind == "inpaint":
        hole = (np.asarray(alpha) > HOLE_THRESHOLD).astype(np.uint8) * 255
        return cv2.inpaint(np.ascontiguousarray(image), hole, max(1, int(radius)), cv2.INPAINT_TELEA)
    raise ValueError(f"unknown occlusion fill {kind!r}; expected mean, inpaint or colour")


def occluded_inputs(image: np.ndarray, zones: np.ndarray, kind: str, **fill_options) -> np.ndarray:
    """(5, S, S, 3): `image` with each zone of `zones` (5, S, S) replaced by the fill."""
    return np.stack([blend(image, fill_image(kind, image, alpha, **fill_options), alpha) for alpha in zones])


def zone_drops(original: np.ndarray, occluded: np.ndarray, target: int, rival: int) -> tuple[np.ndarray, np.ndarray]:
    """(drop in the target's evidence, drop in log p(target) − log p(rival)) per zone; `original` (C,), `occluded`
    (5, C) log-probabilities; the contrast is NaN without a rival (-1)."""
    drop = evidence(original, target) - evidence(occluded, target)
    if rival < 0:
        return drop, np.full(len(drop), np.nan)
    return drop, (original[target] - original[rival]) - (occluded[:, target] - occluded[:, rival])


# --------------------------------------------------------------------------- the mean image


def mean_image(context: IdentityContext) -> np.ndarray:
    """The mean model input of (a seeded sample of) the run's training photos; the scored photos' if none can be read."""
    size, count = context.scorer.image_size, context.settings.identity.mean_image_photos
    paths: list[str] = []
    try:
        manifest = read_manifest_table(context.config.manifest, required=("path", "split"))
        train = manifest.loc[manifest["split"] == "train", "path"].tolist()
        order = np.random.default_rng(context.settings.identity.seed).permutation(len(train))[:count]
        paths = [train[i] for i in sorted(order)]
    except (DataError, TypeError, ValueError):
        paths = []
    total, used = np.zeros((size, size, 3), np.float64), 0
    for path in paths or context.rows["path"].tolist()[:count]:
        try:
            total += context.model_input(path)
            used += 1
        except (ImageError, OSError):
            continue
    if not used:
        raise ValueError("no photo could be read for the mean-image fill")
    return np.clip(np.rint(total / used), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- the method


def _fill_options(context: IdentityContext, kind: str) -> tuple[dict, str]:
    """The fill's options and a tag that changes whenever they do (part of the cache key)."""
    if kind == "mean":
        if "mean_image" not in context.memo:  # one pass over the training photos per command, not per call
            context.memo["mean_image"] = mean_image(context)
        image = context.memo["mean_image"]
        return {"mean_image": image}, f"mean@{hashlib.sha256(image.tobytes()).hexdigest()[:12]}"
    if kind == "colour":
        colour = context.background_fill()
        return {"colour": colour}, f"colour@{','.join(map(str, colour))}"
    radius = context.settings.attention.inpaint_radius
    return {"radius": radius}, f"inpaint@r{radius}"


def occlude_photo(worker: PassWorker, task: PhotoMasks) -> PhotoResult:
    """(6, C) log-probabilities of the photo and of it with each zone filled; no value without usable zones."""
    size = worker.scorer.image_size
    zones = worker.zones(task.figure_mask, task.zones_mask, (size, size))
    if zones is None:
        return PhotoResult(task.path, None)
    image = worker.model_input(task.path)
    fill, options = worker.options["fill"], worker.options["fill_options"]
    inputs = np.concatenate([image[None], occluded_inputs(image, zones, fill, **options)])
    return PhotoResult(task.path, log_probabilities(worker.scorer.probabilities(inputs)))


def zone_shares(context: IdentityContext, rows: pd.DataFrame, fill: str = "inpaint") -> pd.DataFrame:
    scorer, class_names = context.scorer, context.class_names
    options, tag = _fill_options(context, fill)
    stamp = json.dumps({"model": scorer.stamp, "classes": class_names, "size": scorer.image_size,
                        "filter": scorer.resize_filter, "zones": context.zone_settings()}, sort_keys=True)
    cache = ScoreCache(context.run.occlusion_cache, stamp, [f"logp_{name}" for name in class_names])

    def keys_of(path: str) -> list[str]:
        return [cache_key(path, ORIGINAL), *(cache_key(path, tag, zone) for zone in ZONES)]

    todo = [PhotoMasks(str(row["path"]), str(row["figure_mask"]), str(row["zones_mask"]))
            for _, row in rows.iterrows()
            if context.has_zones(row) and not all(key in cache for key in keys_of(row["path"]))]
    run_cached_passes(context, cache, todo, occlude_photo, {"fill": fill, "fill_options": options},
                      lambda result: dict(zip(keys_of(result.path), result.value, strict=True)), f"occlusion ({fill})")
    targets, rivals = context.class_index(rows["target"]), context.class_index(rows["rival"])
    records = []
    for path, target, rival in zip(rows["path"], targets, rivals, strict=True):
        keys = keys_of(path)
        if not all(key in cache for key in keys):
            continue  # no usable zones
        logp = np.stack([cache.get(key) for key in keys])
        drops, contrasts = zone_drops(logp[0], logp[1:], int(target), int(rival))
        records.extend((path, zone, d, c) for zone, d, c in zip(ZONES, drops, contrasts, strict=True))
    return pd.DataFrame(records, columns=["path", "zone", "share", "contrast"])
