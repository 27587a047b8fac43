"""Body-zone profile: the share of attention on the head, torso, legs and feet.

A zone stack is (4, H, W): for each zone, the figure fraction of every pixel that belongs to it.
The zones partition the figure, so the four shares of an image add up to its mass on the figure.

- Demo images carry the generator's exact zone labels (`zones_mask_path`: 0 bg, 1 head, 2 torso,
  3 legs, 4 feet); `stack_from_labels` turns them into a stack.
- Real photos only have a figure mask, so `stack_from_figure` cuts the figure's vertical extent
  (top of the hair to the sole of the shoe) into bands of fixed proportions,
  `AttentionSettings.zone_proportions` = head 13%, torso 32%, legs 45%, feet 10%. The head band is
  the anthropometric one: Drillis & Contini (1966) put the chin at 0.870 of stature. Their hip joint
  (0.530) and ankle (0.039) would give torso 34%, legs 49%, feet 4%; a runway figure's extent also
  holds the shoe (heels add 3–7% of stature) and a 4% band is under one cell of a 28-cell grid, so
  the feet band is widened to 10%, taken from the legs, and the torso ends a little above the hip
  where skirts and jackets typically do. Mask pixels above the extent (soft fringe below the
  threshold) count as head, those below as feet, so the stack still sums to the mask exactly.
  docs/ATTENTION.md compares these bands with the demo's exact zones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.attention import ZONES
from analysis.attention.localisation import as_mask_batch, normalise_maps
from analysis.attention.masks import area_weights, figure_extent


def check_proportions(proportions) -> np.ndarray:
    values = np.asarray(proportions, dtype=np.float64)
    if values.shape != (len(ZONES),) or (values <= 0).any() or not np.isclose(values.sum(), 1.0):
        raise ValueError(f"zone proportions must be {len(ZONES)} positive numbers summing to 1, got {list(proportions)}")
    return values


def stack_from_labels(labels: np.ndarray, shape: tuple[int, int] | None = None) -> np.ndarray:
    """(4, H, W) one-hot stack of head/torso/legs/feet from a label image (resized nearest to `shape`)."""
    labels = np.asarray(labels)
    if shape is not None and labels.shape != tuple(shape):
        import cv2

        labels = cv2.resize(labels.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    return np.stack([(labels == label).astype(np.float32) for label in range(1, len(ZONES) + 1)])


def band_of_rows(height: int, extent: tuple[int, int], proportions) -> np.ndarray:
    """Zone index (0 head … 3 feet) of every row, by where the row's centre falls in [top, bottom]."""
    top, bottom = extent
    bounds = np.cumsum(check_proportions(proportions))[:-1]
    position = (np.arange(height) + 0.5 - top) / (bottom - top + 1)
    return np.searchsorted(bounds, position, side="right")  # rows above top → 0 (head), below → 3 (feet)


def stack_from_figure(mask: np.ndarray, proportions, threshold: float = 0.5) -> np.ndarray | None:
    """(4, H, W) zone stack derived from a figure mask's vertical extent; None for an empty mask."""
    mask = np.asarray(mask, dtype=np.float32)
    extent = figure_extent(mask, threshold)
    if extent is None:
        return None
    band = band_of_rows(mask.shape[0], extent[:2], proportions)
    return np.stack([mask * (band == zone)[:, None] for zone in range(len(ZONES))]).astype(np.float32)


def grid_from_labels(labels: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """(4, h, w) zone fractions per grid cell straight from a label image (= to_grid(stack_from_labels(...)))."""
    labels = np.asarray(labels)
    rows, cols = area_weights(labels.shape[0], grid[0]), area_weights(labels.shape[1], grid[1])
    return np.stack([rows @ (labels == label).astype(np.float32) @ cols.T for label in range(1, len(ZONES) + 1)])


def grid_from_figure(mask: np.ndarray, grid: tuple[int, int], proportions, threshold: float = 0.5) -> np.ndarray | None:
    """(4, h, w) derived zone fractions per grid cell (= to_grid(stack_from_figure(...))), None for an empty mask.

    The bands depend on the row only, so area averaging factors: rows_k · (mask · Cᵀ) with the row
    weights of band k; no full-size zone stack is built (real photos' masks are megapixels).
    """
    mask = np.asarray(mask, dtype=np.float32)
    extent = figure_extent(mask, threshold)
    if extent is None:
        return None
    band = band_of_rows(mask.shape[0], extent[:2], proportions)
    rows, cols = area_weights(mask.shape[0], grid[0]), area_weights(mask.shape[1], grid[1])
    across = mask @ cols.T  # (H, w): every row already averaged into the grid's columns
    return np.stack([(rows * (band == zone)[None, :]) @ across for zone in range(len(ZONES))])


def zone_profile(maps: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """(n, 4) share of each map's attention per zone; `zones` is (n, 4, h, w) on the map's grid."""
    maps = normalise_maps(maps)
    zones = np.asarray(zones, dtype=np.float64)
    zones = zones[None] if zones.ndim == 3 else zones
    if zones.shape[1] != len(ZONES):
        raise ValueError(f"zones must be (n, {len(ZONES)}, h, w), got {zones.shape}")
    as_mask_batch(zones[:, 0], maps)  # same grid check
    return np.einsum("nhw,nkhw->nk", maps, zones)


# Below this share the other houses barely look at a zone, and a ratio to it would only magnify noise.
MIN_LIFT_BASE = 1e-3


def demo_signature_zones() -> dict[str, str]:
    """{house name: the zone whose cue separates it from its twin}, from the demo generator's houses."""
    from data.demo.houses import HOUSES

    return {house.name: house.signature_zone for house in HOUSES}


def demo_signature_check(attention: dict, signature_zones: dict[str, str] | None = None) -> pd.DataFrame:
    """How the body-zone profile relates to the demo's ground truth: one row per house in the section.

    For each house: its signature zone, its attention share there (with CI), the mean share the
    other houses give that zone, the ratio of the two (`lift` > 1: the house looks at its signature
    more than the others do; empty when the others give the zone under 0.1%) and its `rank` among
    all houses on that zone (1 = most). Empty when no brand of the run is a demo house.
    """
    signature_zones = demo_signature_zones() if signature_zones is None else signature_zones
    per_brand = attention.get("body_zones", {}).get("per_brand", {})
    rows = []
    for brand, zone in signature_zones.items():
        if brand not in per_brand or zone not in per_brand[brand]:
            continue
        stat = per_brand[brand][zone]
        shares = {b: zones[zone]["mean"] for b, zones in per_brand.items() if zone in zones}
        others = [share for b, share in shares.items() if b != brand]
        other_mean = float(np.mean(others)) if others else float("nan")
        rows.append({
            "brand": brand,
            "signature_zone": zone,
            "share": stat["mean"],
            "ci_low": stat["ci_low"],
            "ci_high": stat["ci_high"],
            "others_mean": other_mean,
            "lift": stat["mean"] / other_mean if other_mean >= MIN_LIFT_BASE else float("nan"),
            "rank": 1 + sum(share > stat["mean"] for share in shares.values()),
            "of": len(shares),
        })
    return pd.DataFrame(rows, columns=["brand", "signature_zone", "share", "ci_low", "ci_high", "others_mean", "lift",
                                       "rank", "of"])
