"""Streaming equals in-memory; the metrics.json sections follow the agreed schema; figures build."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.attention import METRICS, ZONE_COLUMNS, ZONES, AttentionError
from analysis.attention.sections import attention_section, mask_source, reliance_section, sanity_section
from analysis.attention.streaming import in_memory_metrics, stream_metrics, synthetic_run, time_per_1000
from core.config import AttentionSettings
from dashboard.figures.attention import (
    background_reliance_figure,
    body_zone_figure,
    metrics_table,
    reliance_table,
    variant_table,
)

STAT_KEYS = {"mean", "ci_low", "ci_high", "n"}


@pytest.fixture
def small_run(tmp_path):
    maps_path, figures, zones = synthetic_run(tmp_path, n_images=23, grid=8, mask_size=(40, 60), seed=3)
    figures[5] = str(tmp_path / "missing.png")  # a mask that is gone: that image is left out, not fatal
    return np.load(maps_path, mmap_mode="r"), figures, zones


def test_streaming_equals_in_memory(small_run):
    maps, figures, zones = small_run
    reference = in_memory_metrics(maps, figures, zones)
    for chunk in (1, 4, 7, 100):
        streamed = stream_metrics(maps, figures, zones, chunk_size=chunk)
        pd.testing.assert_frame_equal(streamed, reference, check_exact=False, rtol=1e-12, atol=1e-12)
    assert np.isnan(reference.at[5, "mass_on_figure"]) and "not found" in reference.at[5, "mask_problem"]
    assert reference["mass_on_figure"].notna().sum() == 22
    # Both kinds of zones: the synthetic set gives every other image its exact zone labels.
    assert set(reference["zones_exact"].dropna()) == {True, False}
    summed = reference[list(ZONE_COLUMNS)].sum(axis=1, min_count=len(ZONE_COLUMNS))
    assert np.allclose(summed.dropna(), reference["mass_on_figure"].dropna(), atol=1e-6)


def test_stream_refuses_misaligned_inputs(small_run):
    maps, figures, zones = small_run
    with pytest.raises(AttentionError, match="aligned rows"):
        stream_metrics(maps, figures[:-1], zones)


def test_time_per_1000_reports_a_rate(tmp_path):
    timing = time_per_1000(n_images=40, grid=8, mask_size=(40, 60), workdir=tmp_path)
    assert timing["n_images"] == 40 and timing["seconds_per_1000"] > 0
    assert timing["seconds_per_1000"] == pytest.approx(
        (timing["metrics_seconds"] + timing["bootstrap_seconds"]) * 25, rel=0.05, abs=0.01)


def per_image_table(n_per_brand=20, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for brand, base in (("Versace", 0.8), ("Chanel", 0.4)):
        for _ in range(n_per_brand):
            zones = rng.dirichlet([4, 2, 2, 1]) * base
            rows.append({"path": f"{brand}-{len(rows)}.png", "brand": brand, "predicted": brand,
                         "mass_on_figure": base + rng.normal(0, 0.05), "pointing_game": float(rng.random() < base),
                         "energy_pointing_game": min(1.0, base + 0.1),
                         **dict(zip(ZONE_COLUMNS, zones, strict=True)),
                         "gradcam_spearman": rng.normal(0.3, 0.1), "gradcam_topk_overlap": rng.random()})
    return pd.DataFrame(rows)


def test_attention_section_follows_the_schema():
    frame = per_image_table()
    settings = AttentionSettings(bootstrap_resamples=200)
    sanity = sanity_section(0.12, 0.2, settings.sanity_threshold)
    section = attention_section(frame, ["Versace", "Chanel", "Louis Vuitton"], "generator", settings,
                                gradcam={"layer": "block5_conv3", "k_percent": 10}, sanity=sanity)
    assert set(section) == {"mask_source", *METRICS, "body_zones", "gradcam_agreement", "sanity_check"}
    for metric in METRICS:
        assert set(section[metric]) == {"per_brand", "mean"}
        assert list(section[metric]["per_brand"]) == ["Versace", "Chanel"]  # no images: no entry
        assert all(set(stat) == STAT_KEYS for stat in section[metric]["per_brand"].values())
        assert section[metric]["mean"] == pytest.approx(frame[metric].mean())
    chanel = section["mass_on_figure"]["per_brand"]["Chanel"]
    assert chanel["n"] == 20 and chanel["ci_low"] < chanel["mean"] < chanel["ci_high"]
    zones = section["body_zones"]
    assert zones["zones"] == list(ZONES) and set(zones["per_brand"]["Versace"]) == set(ZONES)
    assert zones["mean"]["head"] == pytest.approx(frame["zone_head"].mean())
    agreement = section["gradcam_agreement"]
    assert agreement["layer"] == "block5_conv3" and agreement["k_percent"] == 10
    assert set(agreement["spearman"]) == {"per_brand", "mean"}
    assert section["sanity_check"] == {"method": "randomised attention branch (Adebayo et al. 2018)",
                                       "spearman_original_vs_randomised": 0.12, "ssim_or_pearson": 0.2,
                                       "maps_changed": True}
    json.dumps(section, allow_nan=False)  # strict JSON: no NaN anywhere


def test_attention_section_without_any_mask_is_an_error():
    frame = per_image_table().assign(mass_on_figure=np.nan)
    with pytest.raises(AttentionError, match="usable figure mask"):
        attention_section(frame, ["Versace"], "rembg")


def test_mask_source():
    assert mask_source(["generator", "generator", ""]) == "generator"
    assert mask_source(["rembg"]) == "rembg"
    assert mask_source(["generator", "rembg"]) == "mixed"


def test_reliance_section_accuracy_and_drops():
    nan = np.nan
    frame = pd.DataFrame({
        "brand": ["A", "A", "A", "A", "B", "B"],
        "correct_original": [1, 1, 1, 1, 1, 0],
        "correct_removed": [1, 0, 0, 0, 1, 0],
        "correct_swapped": [0, 0, 0, 0, 1, nan],  # B's second photo had no donor venue
        "correct_blurred": [1, 1, 1, 0, 1, 1.0],
    })
    section = reliance_section(frame, ["A", "B", "C"], "white")
    assert section["treatments"] == ["original", "removed", "swapped", "blurred"]
    assert section["accuracy"]["original"] == pytest.approx(5 / 6)
    assert section["accuracy"]["removed"] == pytest.approx(2 / 6)
    assert section["drop"]["removed"] == pytest.approx(5 / 6 - 2 / 6)
    assert section["accuracy"]["swapped"] == pytest.approx(1 / 5)
    assert section["drop"]["swapped"] == pytest.approx(5 / 5 - 1 / 5)  # paired: the same five photos
    assert section["per_brand"]["A"] == {"original": 1.0, "removed": 0.25, "swapped": 0.0, "blurred": 0.75}
    assert section["per_brand_drop"]["A"]["removed"] == pytest.approx(0.75)
    assert section["per_brand_drop"]["B"]["blurred"] == pytest.approx(-0.5)  # blurring helped B
    assert "C" not in section["per_brand"]
    assert section["n_images"] == 6 and section["fill"] == "white"
    json.dumps(section, allow_nan=False)


def test_figures_and_tables_from_the_sections():
    frame = per_image_table()
    section = attention_section(frame, ["Versace", "Chanel"], "generator", AttentionSettings(bootstrap_resamples=100),
                                gradcam={"layer": "block5_conv3", "k_percent": 10})
    figure = body_zone_figure(section)
    assert [trace.name for trace in figure.data] == list(ZONES)
    legs = figure.data[2]
    stat = section["body_zones"]["per_brand"]["Chanel"]["legs"]
    assert list(legs.x) == ["Versace", "Chanel"] and legs.y[1] == pytest.approx(stat["mean"])
    assert legs.error_y.array[1] == pytest.approx(stat["ci_high"] - stat["mean"])
    assert legs.error_y.arrayminus[1] == pytest.approx(stat["mean"] - stat["ci_low"])

    numbers = metrics_table(section)
    assert numbers.loc["Chanel", ("mass_on_figure", "mean")] == pytest.approx(
        section["mass_on_figure"]["per_brand"]["Chanel"]["mean"])
    assert ("gradcam_spearman", "ci_high") in numbers.columns
    shown = metrics_table(section, formatted=True)
    assert shown.loc["Versace", "Attention mass on figure"].count("[") == 1

    reliance = {"treatments": ["original", "removed"], "accuracy": {"original": 0.9, "removed": 0.5},
                "drop": {"original": 0.0, "removed": 0.4}, "per_brand": {"A": {"original": 1.0, "removed": 0.5}},
                "per_brand_drop": {"A": {"original": 0.0, "removed": 0.5}}, "n_images": 10, "fill": "white"}
    table = reliance_table(reliance)
    assert table.loc["All images", "drop removed"] == pytest.approx(0.4)
    bars = background_reliance_figure(reliance)
    assert len(bars.data) == 2 and list(bars.data[1].y) == [0.5, 0.5]
    both = variant_table({"raw": section, "nobg": section})
    assert list(both.index) == ["raw", "nobg"] and "feet" in both.columns
