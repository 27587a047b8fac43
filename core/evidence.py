"""How far an accuracy can be trusted: its 95% interval, and a warning when the test set can't support it.

Every accuracy the product shows (evaluate's line, the dashboard, the report) goes through here, so 9
photos can't pass for a result: the Wilson interval is honest on a handful of photos, where
`p ± 1.96·se` is not. A test set that leaves brands out (`prepare --allow-incomplete`) or scores a
brand on a few photos gets one warning, shown beside every number computed on it.
"""

from __future__ import annotations

import math

CONFIDENCE = 0.95
FEW_TEST_PHOTOS = 5  # below this, a brand's recall moves by 20 points or more with one photo


def accuracy_interval(correct: int, total: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of `correct` out of `total`; (nan, nan) when there is nothing to score."""
    from scipy.stats import binomtest

    if total <= 0:
        return math.nan, math.nan
    interval = binomtest(int(correct), int(total)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


def interval_of(accuracy: float | None, total: int | None) -> tuple[float, float]:
    """The interval of an accuracy measured on `total` photos (the count of right answers is implied)."""
    if accuracy is None or not total or math.isnan(accuracy):
        return math.nan, math.nan
    return accuracy_interval(round(accuracy * total), int(total))


def accuracy_text(accuracy: float | None, total: int | None, digits: int = 3) -> str:
    """`0.817 [0.737, 0.877]`: the accuracy with its 95% Wilson interval; "–" when unknown."""
    if accuracy is None or (isinstance(accuracy, float) and math.isnan(accuracy)):
        return "–"
    low, high = interval_of(accuracy, total)
    if math.isnan(low):
        return f"{accuracy:.{digits}f}"
    return f"{accuracy:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def interval_caption(accuracy: float | None, total: int | None) -> str:
    """`95% interval 0.737–0.877 on 120 photos`, for under a metric; "" when unknown."""
    low, high = interval_of(accuracy, total)
    if math.isnan(low):
        return ""
    return f"95% interval {low:.3f}–{high:.3f} on {int(total):,} photo{'s' if total != 1 else ''}"


def test_set_gaps(metrics: dict) -> tuple[list[str], dict[str, int]]:
    """(brands with no test photo, {brand: test photos} of those with fewer than `FEW_TEST_PHOTOS`),
    from the per-brand supports evaluate writes; nothing is known of a metrics.json without them."""
    per_class = metrics.get("per_class") if isinstance(metrics, dict) else None
    if not isinstance(per_class, dict):
        return [], {}
    supports = {}
    for brand, row in per_class.items():
        try:
            supports[str(brand)] = int(row["support"])
        except (KeyError, TypeError, ValueError):
            continue
    missing = sorted(brand for brand, n in supports.items() if n == 0)
    few = {brand: n for brand, n in sorted(supports.items()) if 0 < n < FEW_TEST_PHOTOS}
    return missing, few


def test_set_warning(metrics: dict) -> str | None:
    """One sentence for a test set that can't support its numbers, or None when it can."""
    missing, few = test_set_gaps(metrics)
    parts = []
    if missing:
        parts.append(f"no test photos of {', '.join(missing)}: {'its' if len(missing) == 1 else 'their'} "
                     "recognition is not measured, and the accuracy covers only the other brands")
    if few:
        listed = ", ".join(f"{brand} ({n})" for brand, n in few.items())
        parts.append(f"fewer than {FEW_TEST_PHOTOS} test photos of {listed}: their per-brand numbers rest on a handful "
                     "of photos")
    if not parts:
        return None
    return "Incomplete test set: " + "; ".join(parts) + ". Prepare with --split random, or add photos or shows."
