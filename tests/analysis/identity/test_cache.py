"""The score cache: round trip, another model, and damaged files detected and recomputed."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.identity.cache import ScoreCache, cache_key
from analysis.identity.methods import occlusion


def filled(path, stamp="model-1", columns=("logp_A", "logp_B")) -> ScoreCache:
    cache = ScoreCache(path, stamp, columns)
    cache.put(cache_key("/photos/a.jpg", "original"), [-0.1, -2.3])
    cache.put(cache_key("/photos/a.jpg", "twin:feet"), [-0.7, -0.7])
    cache.save()
    return cache


def test_round_trip(tmp_path):
    path = tmp_path / "identity" / "scores.npz"
    filled(path)
    again = ScoreCache(path, "model-1", ("logp_A", "logp_B"))
    assert again.discarded is None and len(again) == 2
    assert again.get(cache_key("/photos/a.jpg", "original")) == pytest.approx([-0.1, -2.3])


def test_another_model_starts_empty(tmp_path):
    path = tmp_path / "scores.npz"
    filled(path)
    other = ScoreCache(path, "model-2", ("logp_A", "logp_B"))
    assert len(other) == 0 and "another model" in other.discarded


@pytest.mark.parametrize("damage", ["garbage", "truncated", "columns", "rows", "nan"])
def test_damaged_cache_is_detected(tmp_path, damage):
    path = tmp_path / "scores.npz"
    filled(path)
    if damage == "garbage":
        path.write_bytes(b"not a zip file at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    else:
        keys = np.array(["a\toriginal", "a\tvenue"])
        values = {"columns": np.zeros((2, 3)), "rows": np.zeros((3, 2)), "nan": np.array([[0.0, np.nan], [0, 0]])}[damage]
        with open(path, "wb") as fh:
            np.savez(fh, keys=keys, values=values, columns=np.array(["logp_A", "logp_B"]), stamp=np.array("model-1"))
    cache = ScoreCache(path, "model-1", ("logp_A", "logp_B"))
    assert len(cache) == 0 and cache.discarded


def test_a_cache_row_must_fit(tmp_path):
    cache = ScoreCache(tmp_path / "scores.npz", "m", ("a", "b"))
    with pytest.raises(ValueError):
        cache.put("k", [1.0])
    with pytest.raises(ValueError):
        cache.put("k", [1.0, np.inf])


def test_occlusion_resumes_from_its_cache_and_recomputes_a_damaged_one(zone_kit, tmp_path):
    context, scorer = zone_kit.context(tmp_path, "feet")
    rows = context.rows.assign(rival="")
    first = occlusion.zone_shares(context, rows, fill="inpaint")
    assert scorer.calls == 6 * len(rows)  # the photo and its five occluded copies
    assert context.run.occlusion_cache.is_file()

    scorer.calls = 0
    again = occlusion.zone_shares(context, rows, fill="inpaint")
    assert scorer.calls == 0  # everything came from the cache
    assert np.allclose(again["share"], first["share"])

    context.run.occlusion_cache.write_bytes(b"\x00" * 64)  # a damaged file, e.g. a disk full mid-write elsewhere
    recomputed = occlusion.zone_shares(context, rows, fill="inpaint")
    assert scorer.calls == 6 * len(rows)
    assert np.allclose(recomputed["share"], first["share"])
    assert ScoreCache(context.run.occlusion_cache, *_stamp_and_columns(context)).discarded is None  # rewritten whole


def _stamp_and_columns(context):
    import json

    scorer = context.scorer
    stamp = json.dumps({"model": scorer.stamp, "classes": context.class_names, "size": scorer.image_size,
                        "filter": scorer.resize_filter, "zones": context.zone_settings()}, sort_keys=True)
    return stamp, [f"logp_{name}" for name in context.class_names]
