"""Splits: stratified within one image per brand, whole collections, seeded."""

import numpy as np
import pytest

from data import DataError
from data.splits import collection_split, random_split, shared_groups


def _labels(sizes: dict[str, int]) -> np.ndarray:
    return np.array([brand for brand, n in sizes.items() for _ in range(n)])


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_random_split_is_stratified_within_one_image_per_brand(seed):
    sizes = {"chanel": 53, "versace": 37, "rick-owens": 20, "armani": 11}
    labels = _labels(sizes)
    split = random_split(labels, test_fraction=0.2, val_fraction=0.1, seed=seed)
    assert set(split) == {"train", "val", "test"}
    for brand, n in sizes.items():
        in_test = int(((labels == brand) & (split == "test")).sum())
        in_val = int(((labels == brand) & (split == "val")).sum())
        assert abs(in_test - 0.2 * n) <= 1, (brand, in_test)
        assert abs(in_val - 0.1 * (n - in_test)) <= 1, (brand, in_val)


def test_random_split_is_deterministic_per_seed():
    labels = _labels({"a": 30, "b": 30, "c": 30})
    first = random_split(labels, 0.2, 0.1, seed=7)
    assert (first == random_split(labels, 0.2, 0.1, seed=7)).all()
    assert (first != random_split(labels, 0.2, 0.1, seed=8)).any()


def test_too_small_brand_gives_a_clear_error():
    with pytest.raises(DataError, match="smallest brand: b with 1 images"):
        random_split(_labels({"a": 20, "b": 1}), 0.2, 0.1, seed=0)


def test_collection_split_shares_no_collection_and_keeps_brands_on_both_sides():
    rng = np.random.default_rng(0)
    labels, groups = [], []
    collections = {"chanel": 8, "versace": 5, "rick-owens": 3, "armani": 2, "dries": 1}
    for brand, n_collections in collections.items():
        for c in range(n_collections):
            size = int(rng.integers(20, 45))  # shows differ in size
            labels += [brand] * size
            groups += [f"fall-{2010 + c}/{brand}"] * size
    labels, groups = np.array(labels), np.array(groups)
    for seed in (0, 1, 2, 3):
        split = collection_split(labels, groups, test_fraction=0.2, val_fraction=0.1, seed=seed)
        assert shared_groups(split, groups) == []
        for brand, n_collections in collections.items():
            sides = set(split[labels == brand])
            assert ("test" in sides) == (n_collections >= 2), (brand, sides)
            assert ("val" in sides) == (n_collections >= 4), (brand, sides)
            assert "train" in sides
        assert (collection_split(labels, groups, 0.2, 0.1, seed) == split).all()
    # the random split on the same rows does put one show on both sides
    assert shared_groups(random_split(labels, 0.2, 0.1, seed=0), groups) != []


def test_collection_listed_under_two_brands_never_straddles():
    labels = np.array(["a"] * 6 + ["b"] * 6)
    groups = np.array(["s1", "s1", "s2", "s2", "s3", "shared"] + ["shared", "t1", "t1", "t2", "t2", "t3"])
    for seed in range(10):
        assert shared_groups(collection_split(labels, groups, 0.3, 0.0, seed), groups) == []


def test_collection_split_needs_two_collections():
    with pytest.raises(DataError, match="at least 2 collections"):
        collection_split(np.array(["a", "b"]), np.array(["x", "x"]), 0.2, 0.1, 0)
