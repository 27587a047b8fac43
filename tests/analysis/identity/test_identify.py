"""`python -m analysis identity` end to end on a tiny two-house demo run, and its refusals."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.identity import ZONES
from analysis.identity.context import ModelScorer
from analysis.identity.identify import IdentityOptions, identify
from core.config import get_settings
from core.contract import IDENTITY_KEYS, RunFolder

FAST = ["--bootstrap-resamples", "100"]
STAT_KEYS = {"mean", "ci_low", "ci_high", "n"}


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["identity", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_demo_run_writes_identity_json_with_the_documented_keys(demo_copy, capsys):
    code, out, err = run_cli(capsys, "--run", "tiny-raw", *FAST)
    assert code == 0, err
    run = RunFolder(demo_copy / "runs" / "tiny-raw")
    result = run.read_identity()
    assert set(IDENTITY_KEYS) <= set(result) and {"faithfulness", "truth", "methods"} <= set(result)
    assert result["data"] == "demo" and result["skipped"] == {}
    methods = ["attention", "gradcam", "occlusion:inpaint", "swap"]
    assert list(result["faithfulness"]) == methods
    for scores in result["faithfulness"].values():
        assert scores["houses"] == 2 and 0 <= scores["top_zone_matches"] <= 2
        assert {"spearman", "per_house"} <= set(scores)
        assert {"top_zone_matches", "houses", "spearman"} <= set(scores["contrastive"])
    assert result["headline_method"] in methods
    assert result["headline_basis"]["chosen_by"] == "faithfulness"
    assert result["headline_basis"]["scores"] == result["faithfulness"][result["headline_method"]]
    brands = ["Linea Vastra", "Ombrelune"]
    assert sorted(result["profile"]) == brands and sorted(result["rival"]) == brands
    for brand in brands:
        profile, rival = result["profile"][brand], result["rival"][brand]
        assert profile["method"] == result["headline_method"] and set(profile["zones"]) == set(ZONES)
        for stat in profile["zones"].values():
            assert set(stat) == STAT_KEYS and stat["ci_low"] <= stat["mean"] <= stat["ci_high"]
        assert profile["top_zone"] in ZONES and profile["truth"]["top_zone"] in ZONES
        assert rival["rival"] == next(b for b in brands if b != brand)
        assert rival["twin_truth"]["twin"] == rival["rival"]  # two houses: the rival is the twin
    truth = result["truth"]["houses"]["Ombrelune"]
    assert set(truth["reliance"]["edits"]) == {"basic:fabric", "basic:cut", "basic:head", "basic:feet", "venue"}
    assert truth["reliance"]["edits"]["basic:head"]["mean"] == 0.0  # Ombrelune wears nothing on its head
    assert run.counterfactual_cache.is_file() and run.occlusion_cache.is_file()
    assert "faithfulness to the counterfactual truth" in out and "headline method" in out
    for name in methods:
        assert name in out


class CountingScorer:
    """The run's model, counting the photos it scores."""

    def __init__(self, run, config):
        self.inner = ModelScorer(run, config)
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def probabilities(self, inputs):
        self.calls += len(inputs)
        return self.inner.probabilities(inputs)


def test_a_rerun_resumes_from_the_caches_and_a_damaged_cache_is_recomputed(demo_copy):
    settings = get_settings(demo_copy).with_overrides(
        {"identity": {"methods": ("occlusion",), "occlusion_fills": ("inpaint",), "bootstrap_resamples": 100}})
    run = RunFolder(demo_copy / "runs" / "tiny-raw")
    config = run.read_config()
    scorers = []

    def analyse():
        scorers.append(CountingScorer(run, config))
        return identify(IdentityOptions(run="tiny-raw"), settings, scorer_factory=lambda: scorers[-1])

    first = analyse()
    assert scorers[-1].calls > 0
    second = analyse()
    assert scorers[-1].calls == 0  # nothing rendered or scored again
    assert second["faithfulness"] == first["faithfulness"] and second["truth"] == first["truth"]

    run.counterfactual_cache.write_bytes(b"PK\x03\x04 damaged")
    third = analyse()
    assert scorers[-1].calls > 0  # the truth was scored again, occlusion still came from its cache
    assert third["truth"] == first["truth"]


def test_a_run_without_masks_gets_the_truth_and_says_why_methods_were_skipped(demo_copy, capsys):
    predictions = demo_copy / "runs" / "tiny-raw" / "predictions.csv"
    frame = pd.read_csv(predictions)
    frame[["figure_mask_path", "zones_mask_path"]] = np.nan
    frame.to_csv(predictions, index=False)
    code, out, err = run_cli(capsys, "--run", "tiny-raw", "--methods", "attention,occlusion",
                             "--occlusion-fills", "inpaint", *FAST)
    assert code == 0, err
    result = json.loads((demo_copy / "runs" / "tiny-raw" / "identity.json").read_text())
    assert set(result["skipped"]) == {"attention", "occlusion:inpaint"}
    assert all("figure mask" in why for why in result["skipped"].values())
    assert "skipped attention:" in out and "remove-background" in out
    assert result["faithfulness"] == {} and result["truth"]["houses"]  # the truth renders its own zones
    assert result["profile"]["Ombrelune"]["truth"]["top_zone"] in ZONES


def test_real_data_takes_its_method_from_the_demo_run(demo_copy, capsys):
    assert run_cli(capsys, "--run", "tiny-raw", "--methods", "attention,occlusion", "--occlusion-fills", "inpaint,colour",
                   *FAST)[0] == 0
    chosen = json.loads((demo_copy / "runs" / "tiny-raw" / "identity.json").read_text())["headline_method"]
    # the same photos as a "real" dataset: no truth, the demo run's choice heads the profile
    shutil.copytree(demo_copy / "datasets" / "demo", demo_copy / "datasets" / "real")
    summary = demo_copy / "datasets" / "real" / "summary.json"
    summary.write_text(json.dumps({**json.loads(summary.read_text()), "source": {"kind": "real", "hosts": []}}))
    shutil.copytree(demo_copy / "runs" / "tiny-raw", demo_copy / "runs" / "real-raw", symlinks=True,
                    ignore=shutil.ignore_patterns("identity*"))
    config = demo_copy / "runs" / "real-raw" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "run": "real-raw",
                                  "manifest": str(demo_copy / "datasets" / "real" / "manifest.csv")}))
    # a later demo run of the other variant chose another method: a raw run keeps the raw demo run's choice
    other = demo_copy / "runs" / "other-nobg"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"run": "other-nobg", "variant": "nobg", "class_names": ["A", "B"]}))
    (other / "identity.json").write_text(json.dumps({
        "profile": {}, "rival": {}, "skipped": {}, "headline_method": "gradcam",
        "headline_basis": {"chosen_by": "faithfulness"}, "faithfulness": {"gradcam": {"top_zone_matches": 2}}}))
    code, out, err = run_cli(capsys, "--run", "real-raw", *FAST)
    assert code == 0, err
    result = json.loads((demo_copy / "runs" / "real-raw" / "identity.json").read_text())
    assert result["data"] == "real" and "faithfulness" not in result and "truth" not in result
    assert result["headline_method"] == chosen and list(result["methods"]) == [chosen]
    assert result["headline_basis"]["chosen_by"] == "reference run"
    assert result["headline_basis"]["reference_run"] == "tiny-raw"
    assert all(entry["top_zone"] in ZONES for entry in result["profile"].values())


def test_no_truth_on_a_demo_run_computes_only_the_profile_as_on_real_photos(demo_copy, capsys):
    code, out, err = run_cli(capsys, "--run", "tiny-raw", "--no-truth", "--headline-method", "occlusion:inpaint", *FAST)
    assert code == 0, err
    run = RunFolder(demo_copy / "runs" / "tiny-raw")
    result = run.read_identity()
    assert "--no-truth" in result["skipped"]["truth"]
    assert "faithfulness" not in result and "truth" not in result
    assert list(result["methods"]) == ["occlusion:inpaint"] and result["headline_method"] == "occlusion:inpaint"
    assert not run.counterfactual_cache.exists()  # nothing rendered
    assert all(entry["top_zone"] in ZONES for entry in result["profile"].values())


@pytest.mark.parametrize("case", ["one brand", "no test photos"])
def test_runs_it_cannot_answer_are_one_error_line(run_kit, workspace, capsys, case):
    if case == "one brand":
        looks = run_kit.make_looks(["Solo"], 4)
        run_kit.write_run(workspace, "bad", looks, ["Solo"], np.zeros(4, int), np.eye(4),
                          probabilities=np.ones((4, 1)))
    else:
        looks = run_kit.make_looks(["Atelier", "Bravo"], 3)
        run_kit.write_run(workspace, "bad", looks, ["Atelier", "Bravo", "Copia"], np.array([0, 0, 0, 1, 1, 1]),
                          np.eye(6))
    code, out, err = run_cli(capsys, "--run", "bad")
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1
    assert ("one brand" in err) if case == "one brand" else ("Copia" in err and "no test photos" in err)


def test_bad_options_are_refused(demo_copy, capsys):
    code, _, err = run_cli(capsys, "--run", "tiny-raw", "--methods", "saliency")
    assert code == 1 and "unknown method" in err
    code, _, err = run_cli(capsys, "--run", "tiny-raw", "--max-images", "0")
    assert code == 1 and "at least 1" in err
    code, _, err = run_cli(capsys, "--run", "tiny-raw", "--max-images", "1")  # two houses: one would go unscored
    assert code == 1 and "without a photo" in err and err.count("\n") == 1
