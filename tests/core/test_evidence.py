"""Every accuracy with its 95% interval, and the warning for a test set that can't support it."""

from __future__ import annotations

import math

import pytest

from core import evidence


def test_nine_photos_cannot_pass_for_a_result():
    low, high = evidence.accuracy_interval(9, 9)
    assert high == pytest.approx(1.0) and low < 0.71  # Wilson: about 0.70
    low, high = evidence.accuracy_interval(0, 9)
    assert low == pytest.approx(0.0, abs=1e-12) and high > 0.29  # "accuracy 0.000" on 9 photos says little
    assert evidence.accuracy_text(0.0, 9) == "0.000 [0.000, 0.299]"


def test_the_interval_narrows_with_photos_and_is_unknown_without_them():
    narrow, wide = evidence.interval_of(0.9, 1200), evidence.interval_of(0.9, 12)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]
    assert all(math.isnan(v) for v in evidence.interval_of(0.9, 0))
    assert evidence.accuracy_text(None, 10) == "–" and evidence.accuracy_text(0.5, None) == "0.500"
    assert evidence.interval_caption(0.9, 120).startswith("95% interval 0.83") and "120 photos" in evidence.interval_caption(0.9, 120)


def per_class(**supports: int) -> dict:
    return {"per_class": {brand: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": n} for brand, n in supports.items()}}


def test_a_test_set_that_leaves_brands_out_is_named():
    warning = evidence.test_set_warning(per_class(Chanel=5, Dior=0, Prada=0))
    assert warning.startswith("Incomplete test set: no test photos of Dior, Prada")
    assert "--split random" in warning


def test_a_brand_scored_on_a_handful_of_photos_is_named():
    warning = evidence.test_set_warning(per_class(Chanel=20, Dior=3))
    assert "Dior (3)" in warning and "Chanel" not in warning


def test_a_sound_test_set_gets_no_warning():
    assert evidence.test_set_warning(per_class(Chanel=20, Dior=5)) is None
    assert evidence.test_set_warning({}) is None  # an older metrics.json without supports
    assert evidence.test_set_warning({"per_class": {"Dior": {"support": "?"}}}) is None
