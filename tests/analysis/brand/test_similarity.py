"""Similar looks: cosine kNN finds a planted neighbour, and the per-run index is cached on disk."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.brand import AnalyticsError
from analysis.brand.similarity import (
    brand_distance_summary,
    distances_to_all,
    load_or_build_index,
    nearest_looks,
)

BRANDS = ["Atelier", "Bravo", "Copia", "Dorato"]


@pytest.fixture
def run_with_plant(run_kit, workspace):
    """200 random looks; look 137 points exactly where the query will, but 40× longer (cosine ignores length)."""
    rng = np.random.default_rng(7)
    looks = run_kit.make_looks(BRANDS, 50)
    embeddings = rng.normal(size=(200, 64))
    query = rng.normal(size=64)
    embeddings[137] = 40.0 * query
    embeddings[12] = query + 0.9 * rng.normal(size=64)  # second nearest: close, but not as close
    predicted = np.array([BRANDS.index(b) for b in looks["brand"]])
    run_kit.write_run(workspace, "looks", looks, BRANDS, predicted, embeddings)
    return looks, query


def test_knn_returns_the_planted_nearest_neighbour(run_with_plant, settings):
    looks, query = run_with_plant
    index = load_or_build_index("looks", settings)
    found = nearest_looks(index, query, k=5)
    assert found["path"].iloc[0] == looks["path"].iloc[137]
    assert found["brand"].iloc[0] == looks["brand"].iloc[137]
    assert found["distance"].iloc[0] == pytest.approx(0.0, abs=1e-6)
    assert found["path"].iloc[1] == looks["path"].iloc[12]
    assert list(found["rank"]) == [1, 2, 3, 4, 5]
    assert found["distance"].is_monotonic_increasing
    assert np.allclose(found["similarity"], 1 - found["distance"])
    # Cosine distance: a scaled query finds the same looks at the same distances.
    again = nearest_looks(index, 0.01 * query, k=5)
    assert list(again["path"]) == list(found["path"])
    assert np.allclose(again["distance"], found["distance"], atol=1e-6)


def test_distances_to_every_brand(run_with_plant, settings):
    looks, query = run_with_plant
    index = load_or_build_index("looks", settings)
    distances = distances_to_all(index, query)
    assert len(distances) == 200 and distances["distance"].between(0, 2).all()
    summary = brand_distance_summary(distances).set_index("brand")
    assert summary["looks"].sum() == 200
    assert summary.loc[looks["brand"].iloc[137], "nearest"] == pytest.approx(0.0, abs=1e-6)
    assert summary.index[0] == looks["brand"].iloc[137]  # closest brand first


def test_k_is_clipped_and_bad_queries_are_refused(run_with_plant, settings):
    _, query = run_with_plant
    index = load_or_build_index("looks", settings)
    assert len(nearest_looks(index, query, k=10_000)) == 200
    with pytest.raises(AnalyticsError, match="k must be at least 1"):
        nearest_looks(index, query, k=0)
    with pytest.raises(AnalyticsError, match="has 3 values"):
        nearest_looks(index, [1.0, 2.0, 3.0], k=3)
    with pytest.raises(AnalyticsError, match="empty"):
        nearest_looks(index, np.zeros(64), k=3)


def test_index_is_cached_on_disk_and_rebuilt_when_the_run_changes(run_with_plant, settings, workspace):
    run_dir = workspace / "runs" / "looks"
    first = load_or_build_index("looks", settings)
    assert not first.from_cache
    meta = run_dir / "index" / "index.json"
    vectors = run_dir / "index" / "vectors.npy"
    stamps = (meta.stat().st_mtime_ns, vectors.stat().st_mtime_ns)
    second = load_or_build_index("looks", settings)
    assert second.from_cache
    assert (meta.stat().st_mtime_ns, vectors.stat().st_mtime_ns) == stamps  # nothing rewritten
    assert np.array_equal(first.vectors, second.vectors)
    assert np.allclose(np.linalg.norm(second.vectors, axis=1), 1.0, atol=1e-6)

    # A re-evaluated run (new embeddings) invalidates the cache.
    embeddings = np.load(run_dir / "embeddings.npy")
    np.save(run_dir / "embeddings.npy", embeddings[::-1].copy())
    third = load_or_build_index("looks", settings)
    assert not third.from_cache
    assert np.allclose(third.vectors[0], second.vectors[-1], atol=1e-6)

    # A half-written cache (no index.json, the commit mark) is rebuilt, not trusted.
    meta.unlink()
    assert not load_or_build_index("looks", settings).from_cache
    assert load_or_build_index("looks", settings).from_cache


def test_missing_embeddings_say_so(run_kit, workspace, settings):
    looks = run_kit.make_looks(BRANDS[:2], 3)
    run_dir = run_kit.write_run(workspace, "bare", looks, BRANDS[:2], np.zeros(6, int), np.ones((6, 4)))
    (run_dir / "embeddings.npy").unlink()
    with pytest.raises(AnalyticsError, match="embeddings.npy is missing"):
        load_or_build_index("bare", settings)
