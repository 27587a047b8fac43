"""The identity profile in the dashboard: the figure builders, the table shaping, the report section and the pages."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from dashboard.figures import identity as identity_figures
from dashboard.report import build_report, identity_context

ZONES = ("head", "torso", "legs", "feet", "background")


def stat(mean, spread=0.05, n=20):
    return {"mean": mean, "ci_low": mean - spread, "ci_high": mean + 2 * spread, "n": n}


def zones(*means):
    return {zone: stat(mean) for zone, mean in zip(ZONES, means, strict=True)}


def scores(matches, houses, spearman, rival_matches, rival_spearman):
    return {"top_zone_matches": matches, "houses": houses, "spearman": spearman, "per_house": {},
            "contrastive": {"top_zone_matches": rival_matches, "houses": houses, "spearman": rival_spearman,
                            "per_house": {}}}


def identity_for(brands: list[str], demo: bool = True) -> dict:
    """A hand-made identity.json: brand i's identity on zone i % 5, its rival the next brand."""
    profile, rival = {}, {}
    for i, brand in enumerate(brands):
        means = [0.1] * 5
        means[i % 5] = 0.9
        entry = {"method": "occlusion:inpaint", "units": "drop in evidence (logits)", "n_photos": 20, "zones": zones(*means),
                 "ranked_zones": [ZONES[i % 5]], "top_zone": ZONES[i % 5]}
        if demo:
            entry["truth"] = {"zones": zones(*[m * 1.1 for m in means]), "edits": {}, "top_zone": ZONES[i % 5],
                              "top_edit": "venue"}
        profile[brand] = entry
        other = brands[(i + 1) % len(brands)]
        rival[brand] = {"rival": other, "taken_for_rival": 3, "rival_taken_for_brand": 1, "basis": "confusion",
                        "method": "occlusion:inpaint", "units": "drop in evidence (logits)", "n_photos": 20,
                        "zones": zones(0.2, 0.4, 0.6, 0.0, -0.1), "ranked_zones": ["legs"], "top_zone": "legs"}
        if demo:
            rival[brand]["twin_truth"] = {"twin": other, "zones": zones(0.1, 0.5, 0.7, 0.0, 0.0)}
    identity = {"headline_method": "occlusion:inpaint", "profile": profile, "rival": rival, "skipped": {},
                "headline_basis": {"chosen_by": "faithfulness", "reference_run": None,
                                   "scores": scores(5, 6, 0.62, 2, 0.55)}}
    if demo:
        identity["faithfulness"] = {"attention": scores(3, 6, 0.77, 4, 0.77),
                                    "occlusion:inpaint": scores(5, 6, 0.62, 2, 0.55)}
    return identity


# --------------------------------------------------------------------------- builders and tables


def test_profile_figure_draws_effects_with_intervals_and_the_truth_beside_them():
    entry = identity_for(["Ombrelune"])["profile"]["Ombrelune"]
    fig = identity_figures.identity_profile_figure(entry, "Ombrelune")
    method, truth = fig.data
    assert method.name == "occlusion:inpaint" and truth.name == "counterfactual truth"
    assert list(method.x) == list(ZONES)
    assert method.y[0] == pytest.approx(0.9) and method.y[1] == pytest.approx(0.1)
    assert list(method.error_y.array) == pytest.approx([0.1] * 5)  # ci_high - mean
    assert list(method.error_y.arrayminus) == pytest.approx([0.05] * 5)  # mean - ci_low
    assert truth.y[0] == pytest.approx(0.99)
    assert "Ombrelune" in fig.layout.title.text and fig.layout.yaxis.title.text == "drop in evidence (logits)"


def test_profile_without_truth_has_one_trace_and_missing_numbers_become_nan():
    entry = identity_for(["Ombrelune"], demo=False)["profile"]["Ombrelune"]
    entry["zones"]["feet"] = {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    table = identity_figures.effects_with_truth(entry, "truth")
    assert "truth" not in table and math.isnan(table.set_index("zone").loc["feet", "mean"])
    assert len(identity_figures.identity_profile_figure(entry, "Ombrelune").data) == 1
    shown = identity_figures.zone_effect_rows(table).set_index("zone")
    assert shown.loc["feet", "effect [95% interval]"] == "–"
    assert shown.loc["head", "effect [95% interval]"] == "0.900 [0.850, 1.000]"


def test_rival_figure_names_both_houses_and_draws_the_twin_truth():
    entry = identity_for(["Ombrelune", "Tessaline"])["rival"]["Ombrelune"]
    fig = identity_figures.rival_figure(entry, "Ombrelune")
    assert fig.layout.title.text == "What tells Ombrelune from Tessaline"
    assert [trace.name for trace in fig.data] == ["occlusion:inpaint", "counterfactual truth (twin)"]
    assert list(fig.data[0].y) == pytest.approx([0.2, 0.4, 0.6, 0.0, -0.1])


def test_faithfulness_table_gives_matches_out_of_houses_and_correlations():
    table = identity_figures.faithfulness_table(identity_for(["A"])["faithfulness"]).set_index("method")
    assert list(table.columns) == identity_figures.FAITHFULNESS_COLUMNS[1:]
    assert table.loc["occlusion:inpaint"].tolist() == ["5 of 6", "0.62", "2 of 6", "0.55"]
    assert table.loc["attention"].tolist() == ["3 of 6", "0.77", "4 of 6", "0.77"]
    assert identity_figures.faithfulness_table(None).empty
    missing = identity_figures.faithfulness_table({"gradcam": {"top_zone_matches": None, "houses": 6,
                                                               "spearman": float("nan")}})
    assert missing.iloc[0].tolist() == ["gradcam", "–", "–", "–", "–"]


def test_method_sentence_names_the_method_and_why_it_was_chosen():
    identity = identity_for(["A"])
    assert identity_figures.method_sentence(identity) == (
        "measured with occlusion:inpaint, the most faithful method on the demo: 5 of 6 houses")
    real = identity_for(["A"], demo=False)
    real["headline_basis"] = {"chosen_by": "reference run", "reference_run": "demo-raw",
                              "scores": scores(5, 6, 0.6, 2, 0.5)}
    assert "demo run demo-raw found most faithful (5 of 6 houses)" in identity_figures.method_sentence(real)
    real["headline_basis"] = {"chosen_by": "default", "reference_run": None, "scores": None}
    assert "default method" in identity_figures.method_sentence(real)


# --------------------------------------------------------------------------- the report


def test_report_context_holds_profile_rival_and_truth():
    context = identity_context(identity_for(["Ombrelune", "Tessaline"]), "", "Ombrelune")
    assert context["message"] is None and context["with_truth"]
    assert context["rows"][0] == {"zone": "head", "effect": "0.900 [0.850, 1.000]", "truth": "0.990 [0.940, 1.090]"}
    assert context["rival"]["rival"] == "Tessaline" and "5 of 6 houses" in context["method"]
    assert identity_context({}, "", "Ombrelune") is None  # no identity.json: no section
    assert identity_context({}, "identity.json is damaged", "Ombrelune") == {"message": "identity.json is damaged"}


def test_report_shows_the_identity_section_when_identity_json_exists(run_kit, workspace, settings):
    brands = ["Rick Owens", "Chanel", "Versace"]
    looks = run_kit.make_looks(brands, 4)
    truth = np.array([brands.index(b) for b in looks["brand"]])
    run_dir = run_kit.write_run(workspace, "plain", looks, brands, truth, np.eye(3)[truth] + 0.1)
    assert "id='identity'" not in build_report("plain", "Chanel", settings)
    (Path(run_dir) / "identity.json").write_text(json.dumps(identity_for(brands)))
    page = build_report("plain", "Chanel", settings)
    assert "id='identity'" in page and "id='identity-table'" in page and "figure-identity-profile" in page
    assert "What tells Chanel from Versace" in page and "5 of 6 houses" in page


# --------------------------------------------------------------------------- the pages (AppTest, tiny demo)


def page_text(at) -> str:
    parts = []
    for kind in ("subheader", "markdown", "caption", "info", "warning"):
        parts += [str(element.value) for element in getattr(at, kind)]
    return "\n".join(parts)


@pytest.fixture
def demo_with_identity(demo_workspace, use_workspace):
    """The tiny demo with a hand-made identity.json in demo-raw and a damaged one in demo-nobg, removed afterwards."""
    root = use_workspace(demo_workspace)
    raw, nobg = root / "runs" / "demo-raw", root / "runs" / "demo-nobg"
    brands = json.loads((raw / "config.json").read_text())["class_names"]
    (raw / "identity.json").write_text(json.dumps(identity_for(brands)))
    (nobg / "identity.json").write_text("not json")
    yield root, brands
    for run in (raw, nobg):
        (run / "identity.json").unlink(missing_ok=True)


@pytest.mark.slow
def test_brand_page_shows_the_identity_profile_and_the_rival(demo_with_identity, open_page):
    _, brands = demo_with_identity
    at = open_page("brand.py")
    assert not at.exception, [e.value for e in at.exception]
    text = page_text(at)
    assert "Identity profile" in [s.value for s in at.subheader]
    assert f"What tells {brands[0]} from {brands[1]}" in text
    assert "the most faithful method on the demo: 5 of 6 houses" in text
    at.radio(key="brand_variant").set_value("nobg").run()
    assert any("identity.json" in w.value for w in at.warning)  # the damaged file is named


@pytest.mark.slow
def test_attention_page_shows_how_faithful_each_map_is(demo_with_identity, open_page):
    root, _ = demo_with_identity
    at = open_page("attention.py")
    assert not at.exception, [e.value for e in at.exception]
    assert "How faithful is each kind of map" in [s.value for s in at.subheader]
    tables = [frame.value for frame in at.dataframe if "top-zone matches" in frame.value.columns]
    assert tables and tables[0].set_index("method").loc["occlusion:inpaint", "top-zone matches"] == "5 of 6"
    assert any("identity.json" in w.value for w in at.warning)
    (root / "runs" / "demo-nobg" / "identity.json").unlink()
    at = open_page("attention.py")
    assert any("python -m analysis identity --run demo-nobg" in i.value for i in at.info)
