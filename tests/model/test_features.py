"""The fast path: cached block4 features give the same answers as the full network, and the cache resumes."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from core.config import get_settings
from model.batches import FeatureBatches
from model.features import CacheSpec, cache_for, content_hashes, ensure_features
from model.network import build_model, tail_model
from model.preprocess import load_model_input
from model.training import use_fast_path


@pytest.fixture(scope="module")
def model_64():
    keras.utils.set_random_seed(11)
    return build_model(3, 64, weights=None)


def _photos(dataset, count=6):
    return list(pd.read_csv(dataset / "manifest.csv")["path"][:count])


def test_cached_features_give_the_end_to_end_outputs(model_64, shapes_dataset, workspace):
    paths = _photos(shapes_dataset)
    hashes = content_hashes(paths)
    cache = cache_for(model_64, get_settings().paths.feature_cache, 64, "thesis", "nearest")
    files = ensure_features(model_64, cache, paths, hashes)
    assert all(f[0].is_file() and f[0].is_relative_to(workspace / "cache" / "features") for f in files)
    cached = np.stack([np.load(f[0]) for f in files])
    images = np.stack([load_model_input(p, 64, "nearest") for p in paths]).astype(np.float32)
    via_cache = tail_model(model_64).predict_on_batch(cached)
    end_to_end = model_64.predict_on_batch(images)
    np.testing.assert_allclose(via_cache, end_to_end, rtol=1e-5, atol=1e-6)
    # the probabilities differ between photos, so the agreement is not a constant output
    assert np.ptp(end_to_end[:, 0]) > 1e-4

    half = cache_for(model_64, get_settings().paths.feature_cache, 64, "thesis", "nearest", dtype="float16")
    assert half.folder != cache.folder
    files16 = ensure_features(model_64, half, paths, hashes)
    via_half = tail_model(model_64).predict_on_batch(np.stack([np.load(f[0]) for f in files16]).astype(np.float32))
    np.testing.assert_allclose(via_half, end_to_end, atol=2e-3)


def test_cache_resumes_and_recomputes_only_what_is_missing(model_64, shapes_dataset, workspace):
    paths = _photos(shapes_dataset, 4)
    hashes = content_hashes(paths)
    cache = cache_for(model_64, get_settings().paths.feature_cache, 64, "thesis", "nearest")
    files = [f[0] for f in ensure_features(model_64, cache, paths, hashes)]
    stamps = [f.stat().st_mtime_ns for f in files]
    files[1].unlink()
    again = [f[0] for f in ensure_features(model_64, cache, paths, hashes)]
    assert again == files and files[1].is_file()
    assert [f.stat().st_mtime_ns for i, f in enumerate(files) if i != 1] == stamps[:1] + stamps[2:]
    assert not list(cache.folder.rglob("*.tmp*"))  # atomic writes leave no temporaries


def test_cache_key_covers_size_preprocessing_filter_weights_and_dtype():
    base = CacheSpec(224, "thesis", "nearest", "abc", "float32")
    variants = [CacheSpec(128, "thesis", "nearest", "abc"), CacheSpec(224, "vgg", "nearest", "abc"),
                CacheSpec(224, "thesis", "bilinear", "abc"), CacheSpec(224, "thesis", "nearest", "abd"),
                CacheSpec(224, "thesis", "nearest", "abc", "float16")]
    assert len({base.key, *(v.key for v in variants)}) == 6
    assert CacheSpec(224, "thesis", "nearest", "abc").key == base.key


def test_weights_change_the_cache_folder(shapes_dataset, workspace):
    root = get_settings().paths.feature_cache
    keras.utils.set_random_seed(1)
    first = cache_for(build_model(3, 64, weights=None), root, 64, "thesis", "nearest")
    keras.utils.set_random_seed(2)
    second = cache_for(build_model(3, 64, weights=None), root, 64, "thesis", "nearest")
    assert first.folder != second.folder


def test_augmented_copies_are_reproducible_and_differ_from_the_original(model_64, shapes_dataset, workspace):
    paths = _photos(shapes_dataset, 2)
    hashes = content_hashes(paths)
    settings = get_settings()
    cache = cache_for(model_64, settings.paths.feature_cache, 64, "thesis", "nearest")
    files = ensure_features(model_64, cache, paths, hashes, copies=2, model_settings=settings.model, seed=5)
    assert [len(f) for f in files] == [3, 3]
    original, copy1, copy2 = (np.load(f) for f in files[0])
    assert not np.allclose(original, copy1) and not np.allclose(copy1, copy2)
    first = np.load(files[0][1])
    files[0][1].unlink()
    ensure_features(model_64, cache, paths, hashes, copies=2, model_settings=settings.model, seed=5)
    np.testing.assert_array_equal(np.load(files[0][1]), first)  # same seed, same draw
    other = ensure_features(model_64, cache, paths, hashes, copies=2, model_settings=settings.model, seed=6)
    assert other[0][1] != files[0][1]  # another seed is another set of copies


def test_feature_batches_draw_copies_flip_along_width_and_shuffle_by_epoch(tmp_path):
    maps = np.arange(2 * 3 * 4 * 2, dtype=np.float32).reshape(2, 3, 4, 2)
    files = []
    for i, feature in enumerate(maps):
        np.save(tmp_path / f"{i}.npy", feature)
        files.append([tmp_path / f"{i}.npy"])
    labels = np.array([0, 1])
    flipped = FeatureBatches(files, labels, 2, batch_size=2, flip=True, shuffle=False, seed=0, epochs=12)
    seen = set()
    for index in range(len(flipped)):
        x, y = flipped[index]
        np.testing.assert_array_equal(y, [[1, 0], [0, 1]])
        for row in range(2):
            if np.array_equal(x[row], maps[row][:, ::-1, :]):
                seen.add("flipped")
            else:
                np.testing.assert_array_equal(x[row], maps[row])
                seen.add("as is")
    assert seen == {"flipped", "as is"}
    many = [files[i % 2] for i in range(8)]
    shuffled = FeatureBatches(many, np.arange(8) % 2, 2, batch_size=4, shuffle=True, seed=3, epochs=3)
    assert len(shuffled) == 6 and shuffled.position(5) == (2, 1)
    orders = [np.concatenate([shuffled.rows(2 * epoch), shuffled.rows(2 * epoch + 1)]) for epoch in range(3)]
    assert sorted(orders[0]) == list(range(8)) and not all(np.array_equal(orders[0], o) for o in orders[1:])
    # a run resumed at epoch 2 draws the same batches as the uninterrupted run did
    resumed = FeatureBatches(many, np.arange(8) % 2, 2, batch_size=4, shuffle=True, seed=3, first_epoch=2)
    np.testing.assert_array_equal(np.concatenate([resumed.rows(0), resumed.rows(1)]), orders[2])
    np.testing.assert_array_equal(resumed[1][0], shuffled[5][0])

def test_fast_path_is_the_default_without_a_gpu():
    assert use_fast_path("auto") is True
    assert use_fast_path("off") is False and use_fast_path("on") is True


def _cached_bytes(cache) -> dict[str, bytes]:
    return {p.relative_to(cache.folder).as_posix(): p.read_bytes() for p in sorted(cache.folder.rglob("*.npy"))}


@pytest.mark.slow
@pytest.mark.parametrize("engine, workers", [("local", 2), ("ray", 2)])
def test_other_engines_write_the_same_feature_bytes_as_this_process(model_64, shapes_dataset, workspace, engine,
                                                                     workers):
    """Originals and augmented copies, batched across 2 worker processes (spawned, or Ray actors): the
    same bytes as the in-process default, so a cache filled on a cluster serves any machine."""
    import shutil

    from core.config import EngineSettings

    paths = _photos(shapes_dataset, 6)
    hashes = content_hashes(paths)
    settings = get_settings()
    cache = cache_for(model_64, settings.paths.feature_cache, 64, "thesis", "nearest")

    def cached(engine_settings) -> dict[str, bytes]:
        shutil.rmtree(cache.folder, ignore_errors=True)
        ensure_features(model_64, cache, paths, hashes, copies=1, model_settings=settings.model, seed=5,
                        batch_size=4, engine=engine_settings)
        return _cached_bytes(cache)

    here = cached(None)
    assert len(here) == 12
    there = cached(EngineSettings(engine=engine, workers=workers))
    assert here.keys() == there.keys()
    assert [name for name in here if here[name] != there[name]] == []
