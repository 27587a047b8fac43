"""Per-brand means with percentile-bootstrap confidence intervals (scipy.stats.bootstrap).

A "stat" is {"mean", "ci_low", "ci_high", "n"}: the mean of the per-image values of one brand
and a `confidence_level` interval from `bootstrap_resamples` resamples of its images. The
percentile method is used rather than BCa because BCa is undefined for the constant samples a
pointing game often gives (every image a hit); there the interval collapses to the mean. Images
whose value is NaN (no usable mask, Grad-CAM not run) are left out and not counted in n.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

BATCH = 100  # resamples evaluated at once: memory stays at BATCH × n values


def bootstrap_stat(values, resamples: int = 1000, confidence: float = 0.95, seed: int = 42) -> dict | None:
    """{"mean", "ci_low", "ci_high", "n"} of the finite values; None when there are none."""
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    mean = float(values.mean())
    if len(values) == 1 or np.ptp(values) == 0:
        low = high = mean  # one image, or all alike: no spread to resample
    else:
        result = stats.bootstrap(
            (values,),
            np.mean,
            n_resamples=resamples,
            confidence_level=confidence,
            method="percentile",
            batch=BATCH,
            random_state=np.random.default_rng(seed),
        )
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    # Float rounding in the resampled means can put a bound a hair past the mean of a skewed sample.
    return {"mean": mean, "ci_low": min(low, mean), "ci_high": max(high, mean), "n": int(len(values))}


def per_brand_stats(
    frame: pd.DataFrame,
    column: str,
    brands: list[str] | None = None,
    *,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 42,
    brand_column: str = "brand",
) -> dict[str, dict]:
    """{brand: stat} of `column` for every brand (in `brands` order) with at least one finite value."""
    brands = brands if brands is not None else sorted(frame[brand_column].unique())
    result = {}
    for brand in brands:
        stat = bootstrap_stat(frame.loc[frame[brand_column] == brand, column], resamples, confidence, seed)
        if stat is not None:
            result[brand] = stat
    return result


def overall_mean(values) -> float | None:
    """Mean over all images with a finite value (None when none): images, not brands, are weighted equally."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else None


def finite_or_none(value) -> float | None:
    """JSON has no NaN: a missing number is written as null."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
