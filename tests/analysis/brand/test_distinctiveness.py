"""The distinctiveness index on hand-made predictions and embeddings with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_recall_fscore_support

from analysis.brand import AnalyticsError
from analysis.brand.distinctiveness import (
    INDEX_FORMULA,
    bootstrap_weights,
    classification_parts,
    compare_splits,
    compute_for_run,
    distinctiveness_table,
    index_value,
)
from analysis.brand.runfolder import load_run

BRANDS = ["Atelier", "Bravo", "Copia"]


def three_brands(n: int = 20):
    """Atelier: perfect and far away. Copia: always predicted as Bravo, and looks exactly like Bravo."""
    y_true = np.repeat([0, 1, 2], n)
    y_pred = np.array([0] * n + [1] * n + [1] * n)
    embeddings = np.array([[1.0, 0.0]] * n + [[0.0, 1.0]] * n + [[0.0, 2.0]] * n)  # length must not matter
    return y_true, y_pred, embeddings


def test_known_answers_perfect_brand_100_confused_brand_10():
    y_true, y_pred, embeddings = three_brands()
    table = distinctiveness_table(y_true, y_pred, embeddings, BRANDS, resamples=100).set_index("brand")
    # Atelier: R = F1 = 1, silhouette 1 (own looks at distance 0, others at 1), margin d/(d+r) = 1/(1+0).
    assert table.loc["Atelier", "index"] == pytest.approx(100.0)
    assert table.loc["Atelier", "silhouette"] == pytest.approx(1.0)
    assert table.loc["Atelier", "margin"] == pytest.approx(1.0)
    # Bravo: R = 1, precision 1/2 → F1 2/3; silhouette 0 and margin 0 (Copia sits on top of it).
    assert table.loc["Bravo", "f1"] == pytest.approx(2 / 3)
    assert table.loc["Bravo", "index"] == pytest.approx(100 * (0.3 + 0.3 * 2 / 3 + 0.2 * 0.5))
    # Copia: never recognised, indistinguishable from Bravo: only the silhouette's midpoint is left.
    assert table.loc["Copia", "index"] == pytest.approx(10.0)
    assert table.loc["Copia", "recall"] == 0.0
    assert table.loc["Copia", "most_confused_with"] == "Bravo"
    assert table.loc["Copia", "confused_share"] == pytest.approx(1.0)
    assert pd.isna(table.loc["Atelier", "most_confused_with"])
    assert table.loc["Copia", "nearest_brand"] == "Bravo"
    # Deterministic inputs: every resample gives the same index, so the CI collapses on the value.
    assert table.loc["Copia", ["index_low", "index_high"]].tolist() == pytest.approx([10.0, 10.0])


def test_half_recalled_brand_matches_the_formula():
    n = 20
    y_true = np.repeat([0, 1], n)
    y_pred = np.array([0] * (n // 2) + [1] * (n // 2) + [1] * n)
    embeddings = np.array([[1.0, 0.0]] * n + [[0.0, 1.0]] * n)
    table = distinctiveness_table(y_true, y_pred, embeddings, BRANDS[:2], resamples=50).set_index("brand")
    # Atelier: R = 0.5, precision 1 → F1 2/3; Bravo: R = 1, precision 2/3 → F1 0.8; embeddings perfect.
    assert table.loc["Atelier", "index"] == pytest.approx(100 * (0.3 * 0.5 + 0.3 * 2 / 3 + 0.2 + 0.2))
    assert table.loc["Bravo", "index"] == pytest.approx(100 * (0.3 + 0.3 * 0.8 + 0.2 + 0.2))


def test_index_stays_within_bounds_and_cis_hold_the_value():
    rng = np.random.default_rng(3)
    for trial in range(15):
        n_classes = int(rng.integers(2, 6))
        y_true = np.repeat(np.arange(n_classes), rng.integers(3, 25))[: 60]
        y_true = np.concatenate([y_true, np.arange(n_classes)])  # every brand present
        y_pred = np.where(rng.random(len(y_true)) < trial / 15, rng.integers(0, n_classes, len(y_true)), y_true)
        embeddings = rng.normal(size=(len(y_true), 16)) + (trial % 4) * np.eye(16)[y_true]
        table = distinctiveness_table(y_true, y_pred, embeddings, [f"b{i}" for i in range(n_classes)], resamples=60)
        assert table["index"].between(0, 100).all()
        assert (table["index_low"] >= 0).all() and (table["index_high"] <= 100).all()
        assert (table["index_low"] <= table["index"] + 1e-9).all() and (table["index"] <= table["index_high"] + 1e-9).all()
        recomputed = index_value(table["recall"], table["f1"], table["silhouette"], table["margin"])
        assert np.allclose(recomputed, table["index"])


def test_vectorised_parts_match_scikit_learn():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    recall, precision, f1 = classification_parts(np.ones((1, 200)), y_true, y_pred, 4)
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=range(4), zero_division=0)
    assert np.allclose(recall[0], r) and np.allclose(precision[0], p) and np.allclose(f1[0], f)


def test_bootstrap_is_stratified_by_brand():
    labels = np.array([0] * 7 + [1] * 3)
    weights = bootstrap_weights(labels, 40, np.random.default_rng(0))
    assert weights.shape == (40, 10)
    assert np.all(weights[:, :7].sum(axis=1) == 7) and np.all(weights[:, 7:].sum(axis=1) == 3)
    assert weights.std(axis=0).min() > 0  # the looks really are resampled


def test_one_brand_is_refused():
    with pytest.raises(AnalyticsError, match="at least two brands"):
        distinctiveness_table(np.zeros(5, int), np.zeros(5, int), np.ones((5, 3)), ["Solo"])


def test_as_many_brands_as_looks_is_refused_with_a_clear_error():
    y = np.arange(6)
    with pytest.raises(AnalyticsError, match="more test looks than brands"):
        distinctiveness_table(y, y, np.eye(6), [f"b{i}" for i in range(6)], resamples=10)


def test_formula_text_states_the_weights():
    for fragment in ("0.30·R", "0.30·F1", "0.20·(S + 1)/2", "0.20·M", "0 to 100", "silhouette_samples"):
        assert fragment in INDEX_FORMULA


def test_run_folder_and_split_comparison(run_kit, settings, workspace):
    y_true, y_pred, embeddings = three_brands(12)
    looks = run_kit.make_looks(BRANDS, 12)
    run_kit.write_run(workspace, "r-random", looks, BRANDS, y_pred, embeddings)
    # On the by-collection split Atelier is recognised half the time only.
    worse = y_pred.copy()
    worse[:6] = 1
    run_kit.write_run(workspace, "r-collection", looks, BRANDS, worse, embeddings, split="collection")
    random_section = compute_for_run(load_run("r-random", settings, need_embeddings=True), settings)
    collection_section = compute_for_run(load_run("r-collection", settings, need_embeddings=True), settings)
    assert random_section["split"] == "random" and collection_section["split"] == "collection"
    assert random_section["bootstrap"]["resamples"] == 200
    comparison = compare_splits(pd.DataFrame(random_section["brands"]), pd.DataFrame(collection_section["brands"]))
    atelier = comparison.set_index("brand").loc["Atelier"]
    assert atelier["index_random"] == pytest.approx(100.0)
    assert atelier["flattery"] == pytest.approx(100 - atelier["index_collection"]) and atelier["flattery"] > 10
