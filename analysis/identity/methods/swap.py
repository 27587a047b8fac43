"""Zone swap: put another house's version of one zone on the photo and measure what the model loses.

Occlusion asks "what if this zone were blank?", which no runway photo is. A swap asks what the
counterfactual truth asks: "what if this zone were another house's?". For each photo and each of
the five zones, the zone is replaced by the same zone of donor photos (real photos of the test
set, so the replacement is in distribution), and the model is scored again:

- `share`: the mean drop in the target's evidence (`context.evidence`, leaving out the donor's house,
  which the swap pushes up) over `IdentitySettings.swap_donors` donors of other houses (a seeded
  draw per photo): what the zone holds of the house that other houses do not have;
- `contrast`: the mean drop in log p(target) − log p(rival) over as many donors of the rival house:
  what the zone holds that tells the house from its rival (the demo's truth swaps in the twin's cue).

A figure zone of the donor (its head, torso, legs or feet, cut by the same masks as the photo's) is
scaled to the height of the photo's zone and centred on it, keeping its own outline (the twin's
skirt over this photo's trousers: a cut is a shape, and the truth's twin edits change it), over the
photo with that zone painted out (`transplant`); the background is the donor's venue with its
figure painted out (`analysis.attention.background_reliance.venue_plate`), behind the photo's
figure. Works wherever occlusion does: zones from the demo's masks or rembg's bands.

Scores are cached in `identity/swap.npz` (log-probabilities of every class), keyed by photo,
donor, zone and the model file, so another rival costs only its new donors.
"""

from __future__ import annotations

import json
import logging
from typing import NamedTuple

import cv2
import numpy as np
import pandas as pd

from analysis.attention.background_reliance import TreatmentSettings, venue_plate
from analysis.identity import FIGURE_ZONES, ZONES
from analysis.identity.cache import ScoreCache, cache_key
from analysis.identity.context import IdentityContext, evidence, log_probabilities
from analysis.identity.methods.occlusion import blend
from analysis.identity.passes import PassWorker, PhotoMasks, PhotoResult, run_cached_passes

log = logging.getLogger(__name__)
ORIGINAL = "original"
DONE = "done"  # a (photo, donor) pair whose swaps are all stored (a zone empty on either photo has none)
INSIDE = 0.5  # a pixel at least this much inside a zone belongs to its box
TRANSPLANT = "outline"  # part of the cache stamp: another way of swapping rescores everything


# --------------------------------------------------------------------------- pure


def zone_box(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the pixels at least half inside the zone; None for an empty zone."""
    rows, cols = np.nonzero(np.asarray(alpha) >= INSIDE)
    if not len(rows):
        return None
    return int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1


def placed_zone(shape: tuple[int, int], box: tuple[int, int, int, int], donor: np.ndarray, donor_alpha: np.ndarray,
                donor_box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(image, alpha) of the donor's zone scaled to this zone's height, tops aligned and centred on its box."""
    top, bottom, left, right = box
    d_top, d_bottom, d_left, d_right = donor_box
    height = bottom - top
    width = max(1, round((d_right - d_left) * height / (d_bottom - d_top)))  # the donor's outline kept
    patch = cv2.resize(np.ascontiguousarray(donor[d_top:d_bottom, d_left:d_right]), (width, height),
                       interpolation=cv2.INTER_AREA)
    patch_alpha = cv2.resize(np.ascontiguousarray(donor_alpha[d_top:d_bottom, d_left:d_right], np.float32),
                             (width, height), interpolation=cv2.INTER_AREA)
    image, alpha = np.zeros((*shape, 3), patch.dtype), np.zeros(shape, np.float32)
    start = round((left + right) / 2 - width / 2)
    lo, hi = max(start, 0), min(start + width, shape[1])
    image[top:bottom, lo:hi] = patch[:, lo - start:hi - start]
    alpha[top:bottom, lo:hi] = patch_alpha[:, lo - start:hi - start]
    return image, alpha


def transplant(image: np.ndarray, alpha: np.ndarray, donor: np.ndarray, donor_alpha: np.ndarray,
               plate: np.ndarray) -> np.ndarray | None:
    """`image` with its zone `alpha` (H, W) replaced by the donor's zone `donor_alpha`; None when either is empty.

    The donor's zone keeps its outline (a skirt stays wider than trousers: a cut is a shape), scaled to
    this zone's height; where this photo's zone was and the donor's is not, `plate` (this photo's venue
    with the figure painted out) shows, as behind a narrower garment.
    """
    box, donor_box = zone_box(alpha), zone_box(donor_alpha)
    if box is None or donor_box is None:
        return None
    patch, patch_alpha = placed_zone(alpha.shape, box, donor, donor_alpha, donor_box)
    return blend(blend(image, plate, alpha), patch, patch_alpha)


def swap_background(image: np.ndarray, background: np.ndarray, donor: np.ndarray, donor_background: np.ndarray,
                    dilation_px: int, radius: int) -> np.ndarray:
    """`image`'s figure on the donor's venue, its figure painted out; both backgrounds are soft (H, W) masks."""
    plate = venue_plate(donor, 1.0 - np.asarray(donor_background, np.float32), dilation_px, radius)
    return blend(image, plate, background)


def figure_erased(image: np.ndarray, zones: np.ndarray, params: TreatmentSettings) -> np.ndarray:
    """The photo's venue with its figure painted out: what shows where a swapped-in zone does not cover."""
    background = ZONES.index("background")
    return venue_plate(image, 1.0 - np.asarray(zones[background], np.float32), params.dilation_px, params.radius)


def swapped_inputs(image: np.ndarray, zones: np.ndarray, plate: np.ndarray, donor: np.ndarray, donor_zones: np.ndarray,
                   params: TreatmentSettings) -> dict[str, np.ndarray]:
    """{zone: the photo with that zone from the donor}; a zone empty on either photo is left out; `plate` is
    `figure_erased(image, zones, params)`, made once per photo."""
    out = {}
    for k, zone in enumerate(ZONES):
        if zone in FIGURE_ZONES:
            swapped = transplant(image, zones[k], donor, donor_zones[k], plate)
        else:
            swapped = swap_background(image, zones[k], donor, donor_zones[k], params.dilation_px, params.radius)
        if swapped is not None:
            out[zone] = swapped
    return out


def pick_donors(brands: np.ndarray, has_zones: np.ndarray, index: int, brand_wanted, count: int,
                seed: int, stream: int) -> list[int]:
    """Up to `count` row positions of photos with zones whose brand passes `brand_wanted`, other than `index`:
    a seeded draw per photo and stream (other houses, rival), the same whatever else is asked."""
    pool = [j for j in range(len(brands)) if j != index and has_zones[j] and brand_wanted(brands[j])]
    if not pool:
        return []
    rng = np.random.default_rng([seed, stream, index])
    return sorted(int(j) for j in rng.choice(pool, size=min(count, len(pool)), replace=False))


# --------------------------------------------------------------------------- the pass


class SwapTask(NamedTuple):
    path: str
    photo: PhotoMasks
    donors: tuple[PhotoMasks, ...]


def swap_photo(worker: PassWorker, task: SwapTask) -> PhotoResult:
    """{key: log-probabilities} of the photo and of every (donor, zone) swap; no value without the photo's zones."""
    size = worker.scorer.image_size
    zones = worker.zones(task.photo.figure_mask, task.photo.zones_mask, (size, size))
    if zones is None:
        return PhotoResult(task.path, None)
    image = worker.model_input(task.path)
    params = worker.options["treatment"]
    plate = figure_erased(image, zones, params)
    keys, inputs = [cache_key(task.path, ORIGINAL)], [image]
    for donor in task.donors:
        donor_zones = worker.zones(donor.figure_mask, donor.zones_mask, (size, size))
        if donor_zones is not None:
            for zone, swapped in swapped_inputs(image, zones, plate, worker.model_input(donor.path), donor_zones,
                                                params).items():
                keys.append(cache_key(task.path, donor.path, zone))
                inputs.append(swapped)
    logp = dict(zip(keys, log_probabilities(worker.scorer.probabilities(np.stack(inputs))), strict=True))
    done = {cache_key(task.path, donor.path, DONE): logp[keys[0]] for donor in task.donors}
    return PhotoResult(task.path, {**logp, **done})


def zone_shares(context: IdentityContext, rows: pd.DataFrame) -> pd.DataFrame:
    scorer, class_names, identity = context.scorer, context.class_names, context.settings.identity
    params = TreatmentSettings.at_size(scorer.image_size, (0, 0, 0), context.settings.attention)
    stamp = json.dumps({"model": scorer.stamp, "classes": class_names, "size": scorer.image_size,
                        "filter": scorer.resize_filter, "zones": context.zone_settings(),
                        "dilation": params.dilation_px, "radius": params.radius, "transplant": TRANSPLANT},
                       sort_keys=True)
    cache = ScoreCache(context.run.swap_cache, stamp, [f"logp_{name}" for name in class_names])
    pool = context.rows  # donors: the sampled test photos of every house
    brands = pool["brand"].astype(str).to_numpy()
    has_zones = pool.apply(context.has_zones, axis=1).to_numpy()
    position = {path: i for i, path in enumerate(pool["path"])}
    photos = [PhotoMasks(str(p), str(f), str(z)) for p, f, z in zip(pool["path"], pool["figure_mask"], pool["zones_mask"],
                                                                  strict=True)]

    plans = []
    for path, brand, rival in zip(rows["path"], rows["target"], rows["rival"], strict=True):
        i = position[path]
        others = pick_donors(brands, has_zones, i, lambda b, brand=brand: b != brand, identity.swap_donors,
                             identity.seed, 0)
        rivals = (pick_donors(brands, has_zones, i, lambda b, rival=rival: b == rival, identity.swap_donors,
                              identity.seed, 1) if rival else [])
        plans.append((path, i, others, rivals))

    def keys_of(path: str, donors: list[int]) -> list[str]:
        return [cache_key(path, ORIGINAL), *(cache_key(path, photos[d].path, DONE) for d in donors)]

    def missing(path: str, donors: list[int]) -> tuple[PhotoMasks, ...]:
        """The donors not swapped in yet (another rival's pass reuses the ones it shares)."""
        return tuple(photos[d] for d in sorted(set(donors)) if cache_key(path, photos[d].path, DONE) not in cache)

    todo = [SwapTask(path, photos[i], missing(path, others + rivals)) for path, i, others, rivals in plans
            if has_zones[i] and not all(key in cache for key in keys_of(path, others + rivals))]
    # a stored score is never replaced: the original scored again beside other donors keeps its first value
    run_cached_passes(context, cache, todo, swap_photo, {"treatment": params},
                      lambda result: {key: value for key, value in result.value.items() if key not in cache},
                      "zone swap")
    targets, rival_index = context.class_index(rows["target"]), context.class_index(rows["rival"])
    donor_class = context.class_index(brands)
    records = []
    for (path, _, others, rivals), target, rival in zip(plans, targets, rival_index, strict=True):
        original = cache_key(path, ORIGINAL)
        if original not in cache:
            continue  # no usable zones
        base = cache.get(original)
        share = _mean_drop(cache, path, others, photos, base,
                           lambda logp, donor, t=target: evidence(logp, t, pushed=donor_class[donor]))
        contrast = (_mean_drop(cache, path, rivals, photos, base, lambda logp, donor, t=target, r=rival: logp[t] - logp[r])
                    if rival >= 0 else np.full(len(ZONES), np.nan))
        records.extend((path, zone, s, c) for zone, s, c in zip(ZONES, share, contrast, strict=True))
    return pd.DataFrame(records, columns=["path", "zone", "share", "contrast"])


def _mean_drop(cache: ScoreCache, path: str, donors: list[int], photos: list[PhotoMasks], base: np.ndarray,
               measure) -> np.ndarray:
    """Per zone: the mean over donors of the drop in `measure(log-probabilities, donor)`; NaN where no donor had
    the zone."""
    out = np.full(len(ZONES), np.nan)
    for k, zone in enumerate(ZONES):
        keys = {d: cache_key(path, photos[d].path, zone) for d in donors}
        drops = [float(measure(base, d) - measure(cache.get(key), d)) for d, key in keys.items() if key in cache]
        if drops:
            out[k] = float(np.mean(drops))
    return out
