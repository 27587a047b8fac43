"""The `attention` and `background_reliance` sections of a run's metrics.json (docs/ATTENTION.md).

Pure functions from per-image tables to the JSON-ready dicts; `analysis.attention.analyse` merges them into
metrics.json. Brands are aggregated over their true label; every overall `mean` weights images
equally (not brands). Missing numbers are null, never NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.attention import METRICS, ZONE_COLUMNS, ZONES, AttentionError
from analysis.attention.bootstrap import finite_or_none, overall_mean, per_brand_stats
from core.config import AttentionSettings

TREATMENTS: tuple[str, ...] = ("original", "removed", "swapped", "blurred")
MASK_SOURCES = ("generator", "rembg")
SANITY_METHOD = "randomised attention branch (Adebayo et al. 2018)"


def mask_source(sources) -> str:
    """"generator", "rembg" or "mixed" from the sources of the masks actually used."""
    present = {str(s) for s in sources if str(s) in MASK_SOURCES}
    if not present:
        raise AttentionError("no image has a usable figure mask")
    return present.pop() if len(present) == 1 else "mixed"


def _metric(frame: pd.DataFrame, column: str, brands: list[str], settings: AttentionSettings) -> dict:
    return {
        "per_brand": per_brand_stats(frame, column, brands, resamples=settings.bootstrap_resamples,
                                     confidence=settings.confidence_level, seed=settings.seed),
        "mean": overall_mean(frame[column]),
    }


def attention_section(
    per_image: pd.DataFrame,
    brands: list[str],
    source: str,
    settings: AttentionSettings | None = None,
    *,
    gradcam: dict | None = None,
    sanity: dict | None = None,
) -> dict:
    """The `attention` section from the per-image table (columns of `attention_metrics.PER_IMAGE_COLUMNS`).

    gradcam: {"layer", "k_percent"} when the Grad-CAM columns were computed; sanity: the
    randomisation check's result (`analysis.attention.gradcam.sanity_check`).
    """
    settings = settings or AttentionSettings()
    if not np.isfinite(per_image["mass_on_figure"].to_numpy(dtype=float)).any():
        raise AttentionError("no image has a usable figure mask, so there is nothing to measure")
    section: dict = {"mask_source": source}
    for column in METRICS:
        section[column] = _metric(per_image, column, brands, settings)
    zones = {zone: _metric(per_image, column, brands, settings) for zone, column in zip(ZONES, ZONE_COLUMNS, strict=True)}
    present = [b for b in brands if any(b in zones[z]["per_brand"] for z in ZONES)]
    section["body_zones"] = {
        "zones": list(ZONES),
        "per_brand": {b: {z: zones[z]["per_brand"][b] for z in ZONES if b in zones[z]["per_brand"]} for b in present},
        "mean": {z: zones[z]["mean"] for z in ZONES},
    }
    if gradcam is not None:
        section["gradcam_agreement"] = {
            "layer": gradcam["layer"],
            "k_percent": _plain_number(gradcam["k_percent"]),
            "spearman": _metric(per_image, "gradcam_spearman", brands, settings),
            "topk_overlap": _metric(per_image, "gradcam_topk_overlap", brands, settings),
        }
    if sanity is not None:
        section["sanity_check"] = sanity
    return section


def _plain_number(value) -> int | float:
    """10.0 -> 10: a whole percentage reads as one."""
    return int(value) if float(value).is_integer() else float(value)


def _accuracy(correct: pd.Series) -> float | None:
    values = correct.dropna()
    return float(values.astype(float).mean()) if len(values) else None


def _paired_drop(frame: pd.DataFrame, treatment: str) -> float | None:
    """Original minus treatment accuracy over the images the treatment applies to (a paired comparison)."""
    applied = frame[f"correct_{treatment}"].notna() & frame["correct_original"].notna()
    if not applied.any():
        return None
    rows = frame[applied]
    return float(rows["correct_original"].astype(float).mean() - rows[f"correct_{treatment}"].astype(float).mean())


def reliance_section(per_image: pd.DataFrame, brands: list[str], fill: str) -> dict:
    """The `background_reliance` section from a table with `brand` and `correct_<treatment>` (NaN: not applied)."""
    missing = [f"correct_{t}" for t in TREATMENTS if f"correct_{t}" not in per_image.columns]
    if missing:
        raise AttentionError(f"background reliance table lacks {', '.join(missing)}")
    treatments = [t for t in TREATMENTS if per_image[f"correct_{t}"].notna().any()]
    if "original" not in treatments:
        raise AttentionError("no image was evaluated for background reliance")
    per_brand, per_brand_drop, per_brand_photos = {}, {}, {}
    for brand in brands:
        rows = per_image[per_image["brand"] == brand]
        if rows["correct_original"].notna().any():
            per_brand[brand] = {t: _accuracy(rows[f"correct_{t}"]) for t in treatments}
            per_brand_drop[brand] = {t: _paired_drop(rows, t) for t in treatments}
            per_brand_photos[brand] = {t: int(rows[f"correct_{t}"].notna().sum()) for t in treatments}
    return {
        "treatments": treatments,
        "accuracy": {t: _accuracy(per_image[f"correct_{t}"]) for t in treatments},
        "drop": {t: _paired_drop(per_image, t) for t in treatments},
        "per_brand": per_brand,
        "per_brand_drop": per_brand_drop,
        # the photos behind each accuracy: the dashboard's 95% intervals
        "photos": {t: int(per_image[f"correct_{t}"].notna().sum()) for t in treatments},
        "per_brand_photos": per_brand_photos,
        "n_images": int(per_image["correct_original"].notna().sum()),
        "fill": fill,
    }


def sanity_section(spearman: float, similarity: float, threshold: float) -> dict:
    """The `sanity_check` entry: maps count as changed when their mean rank correlation falls below `threshold`."""
    return {
        "method": SANITY_METHOD,
        "spearman_original_vs_randomised": finite_or_none(spearman),
        "ssim_or_pearson": finite_or_none(similarity),
        "maps_changed": bool(np.isfinite(spearman) and spearman < threshold),
    }
