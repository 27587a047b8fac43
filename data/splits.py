"""Seeded train/val/test splits: stratified at random, or by collection so no show is on two sides.

Photos from one show share a backdrop, lighting and palette; if a show sits in train and in test
the classifier can recognise the show rather than the house, and the test accuracy is overstated.
`collection_split` keeps every collection whole, drawing each brand's collections separately
(scikit-learn's GroupShuffleSplit) so the split stays stratified by brand.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from data import DataError

TRAIN, VAL, TEST = "train", "val", "test"
SPLITS = (TRAIN, VAL, TEST)
SPLIT_METHODS = ("random", "collection")


def _check_fractions(test_fraction: float, val_fraction: float) -> None:
    if not 0 < test_fraction < 1:
        raise DataError(f"the test fraction must lie between 0 and 1, got {test_fraction}")
    if not 0 <= val_fraction < 1:
        raise DataError(f"the validation fraction must lie in [0, 1), got {val_fraction}")


def _stratified_holdout(indices: np.ndarray, labels: np.ndarray, fraction: float, seed: int, what: str) -> np.ndarray:
    """The held-out subset of `indices`, stratified by `labels`.

    At least one image per brand is held out, so a small dataset (the demo) still gets a slice.
    """
    size = max(math.ceil(fraction * len(indices)), len(np.unique(labels)))
    try:
        _, held_out = train_test_split(indices, test_size=size, stratify=labels, random_state=seed)
    except ValueError as exc:
        counts = {label: int(n) for label, n in zip(*np.unique(labels, return_counts=True), strict=True)}
        smallest = min(counts, key=counts.get)
        raise DataError(
            f"cannot draw a stratified {what} slice of {fraction:.0%}: {exc} "
            f"(smallest brand: {smallest} with {counts[smallest]} images; use fewer brands or more photos)"
        ) from None
    return held_out


def random_split(labels, test_fraction: float, val_fraction: float, seed: int) -> np.ndarray:
    """Split names per row: stratified test slice, then a stratified validation slice of train."""
    _check_fractions(test_fraction, val_fraction)
    labels = np.asarray(labels)
    split = np.full(len(labels), TRAIN, dtype=object)
    all_rows = np.arange(len(labels))
    test_rows = _stratified_holdout(all_rows, labels, test_fraction, seed, "test")
    split[test_rows] = TEST
    if val_fraction > 0:
        train_rows = all_rows[split == TRAIN]
        split[_stratified_holdout(train_rows, labels[train_rows], val_fraction, seed, "validation")] = VAL
    return split


def _group_holdout(labels: np.ndarray, groups: np.ndarray, fraction: float, seed: int, min_groups: int) -> np.ndarray:
    """A boolean mask of whole groups held out: about `fraction` of each label's groups.

    Each brand's collections are drawn separately (scikit-learn's GroupShuffleSplit, at least one
    collection), so every brand with `min_groups` collections or more lands on both sides. A
    collection listed under two brands is decided once, by the first brand, so it never straddles.
    """
    decided: dict = {}
    # One generator across brands: each brand draws different positions, so sorted names (often
    # chronological) do not put the same season of every brand in the test set.
    random_state = np.random.RandomState(seed)
    for label in sorted(np.unique(labels)):
        undecided = np.unique([g for g in groups[labels == label] if g not in decided])
        if len(undecided) < min_groups:
            decided.update({group: False for group in undecided})
            continue
        splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=random_state)
        _, held = next(splitter.split(undecided, groups=undecided))
        held_groups = set(undecided[held])
        decided.update({group: group in held_groups for group in undecided})
    return np.array([decided[group] for group in groups], dtype=bool)


def collection_split(labels, groups, test_fraction: float, val_fraction: float, seed: int) -> np.ndarray:
    """Split names per row with every group (collection) wholly in one split.

    A brand needs 2 collections to appear in test, and 4 to appear in validation too; the prepare
    summary notes the brands missing from a split.
    """
    _check_fractions(test_fraction, val_fraction)
    labels, groups = np.asarray(labels), np.asarray(groups)
    if len(np.unique(groups)) < 2:
        raise DataError("the collection split needs at least 2 collections; use --split random")
    split = np.full(len(labels), TRAIN, dtype=object)
    split[_group_holdout(labels, groups, test_fraction, seed, min_groups=2)] = TEST
    if val_fraction > 0:
        train_rows = np.flatnonzero(split == TRAIN)
        # A validation collection only where training keeps two: one show is too narrow to learn a house from.
        held = _group_holdout(labels[train_rows], groups[train_rows], val_fraction, seed, min_groups=3)
        split[train_rows[held]] = VAL
    return split


def validation_from_training_shows(split, labels, val_fraction: float, seed: int) -> tuple[np.ndarray, list]:
    """(the split, the brands it changed): brands left without validation photos get a random slice of
    their training photos as validation.

    A brand with too few shows to hold one out for validation would otherwise be invisible to early
    stopping and the learning-rate schedule. Those validation photos share shows with training, so
    validation flatters that brand a little; the test split is untouched and stays show-disjoint.
    """
    split, labels = np.asarray(split, dtype=object).copy(), np.asarray(labels)
    changed = []
    if val_fraction <= 0:
        return split, changed
    random_state = np.random.RandomState(seed)
    for label in sorted(np.unique(labels)):
        rows = np.flatnonzero(labels == label)
        train_rows = rows[split[rows] == TRAIN]
        if (split[rows] == VAL).any() or len(train_rows) < 2:  # keep at least one photo to train on
            continue
        size = min(max(1, math.ceil(val_fraction * len(train_rows))), len(train_rows) - 1)
        split[random_state.choice(train_rows, size=size, replace=False)] = VAL
        changed.append(label)
    return split, changed


def make_split(method: str, labels, groups, test_fraction: float, val_fraction: float, seed: int) -> np.ndarray:
    if method == "random":
        return random_split(labels, test_fraction, val_fraction, seed)
    if method == "collection":
        return collection_split(labels, groups, test_fraction, val_fraction, seed)
    raise DataError(f"unknown split {method!r}; use one of {', '.join(SPLIT_METHODS)}")


def shared_groups(split, groups) -> list[str]:
    """Groups that appear in more than one split (empty for a collection split)."""
    per_group = pd.Series(np.asarray(split)).groupby(np.asarray(groups)).nunique()
    return sorted(str(group) for group in per_group.index[per_group > 1])
