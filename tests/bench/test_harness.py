"""The bench's own arithmetic and files: timing helpers, results.json schema, the report, the CLI's merging.

No timing is asserted (benchmarks never fail on one); what is checked has a known answer.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench import __main__ as cli
from bench import report
from bench.harness import (
    MEASUREMENTS,
    TRAINING_KEYS,
    Row,
    complete_results,
    goal_line,
    median,
    percentile,
    summary,
    time_call,
    time_interleaved,
    write_results,
)

MACHINE = {"cpu": "test CPU", "cores": 2, "versions": {"numpy": np.__version__}, "date": "today"}


def strict_json(path):
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_median_and_percentiles_match_known_values():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(4.8)  # linear between the 4th and 5th value
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 5.0
    assert summary([0.5, 0.1, 0.3]) == {"p50_s": 0.3, "p95_s": 0.48, "min_s": 0.1, "runs": 3}
    with pytest.raises(ValueError):
        median([])
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_time_call_warms_up_then_times_each_repeat():
    calls = []
    times = time_call(lambda: calls.append(1), repeats=4, warmup=2)
    assert len(calls) == 6 and len(times) == 4 and all(t >= 0 for t in times)


def test_time_interleaved_alternates_and_gives_fresh_setups():
    order, made = [], iter(range(10))
    times = time_interleaved({"a": lambda: order.append("a"), "b": lambda state: order.append(("b", state))},
                             repeats=2, warmup=1, setups={"b": lambda: next(made)})
    assert order == ["a", ("b", 0), "a", ("b", 1), "a", ("b", 2)]
    assert {name: len(values) for name, values in times.items()} == {"a": 2, "b": 2}


def test_goal_line_prints_figure_goal_and_verdict():
    assert goal_line(Row("speedup", 4.5, "×", "≥ 4×", True)) == "speedup: 4.50×; goal ≥ 4× (goal met)"
    assert goal_line(Row("latency p50", 1.234, "s", "≤ 1 s", False)) == "latency p50: 1.23 s; goal ≤ 1 s (goal missed)"
    assert goal_line(Row("rate", 12.0, "img/s")) == "rate: 12 img/s"


def test_results_file_has_every_required_key_and_strict_json(tmp_path):
    training = {"end_to_end_img_per_s": 2.0, "cached_img_per_s": 10.0, "speedup": 5.0, "goal_met": True,
                "odd": [math.inf, math.nan, np.float32(1.5)]}
    path = write_results(tmp_path / "results.json", {"training": training}, MACHINE)
    data = strict_json(path)
    assert list(data) == [*MEASUREMENTS, "machine"]
    assert set(MEASUREMENTS) == {"training", "architectures", "vgg16_forward", "single_photo", "background_removal",
                                 "engine_scale", "heatmap_aggregation", "identity_analysis", "dashboard_render", "browser_waits",
                                 "make_run"}
    assert all(key in data["training"] for key in TRAINING_KEYS)
    assert data["training"]["odd"] == [None, None, 1.5]
    assert all("skipped" in data[name] for name in MEASUREMENTS if name != "training")
    assert data["machine"]["cpu"] == "test CPU"


def test_a_training_result_without_its_figures_is_refused():
    with pytest.raises(ValueError, match="speedup"):
        complete_results({"training": {"end_to_end_img_per_s": 1.0, "cached_img_per_s": 2.0}}, MACHINE)


def test_report_has_a_row_per_figure_and_keeps_hand_written_notes():
    results = complete_results({
        "training": {"end_to_end_img_per_s": 2.0, "cached_img_per_s": 9.0, "speedup": 4.5, "goal_met": True,
                     "device": "CPU"},
        "make_run": {"skipped": "takes minutes"},
    }, MACHINE)
    existing = f"# old\n{report.HAND_WRITTEN_MARKER}\n\n## Profiling\nkept text\n"
    text = report.render(results, existing)
    assert "| Training throughput | fast-path speedup (CPU) | 4.50× | ≥ 4× on CPU | yes |" in text
    assert "| `make run` time | skipped: takes minutes | — | — | — |" in text
    assert "test CPU" in text
    assert text.count(report.HAND_WRITTEN_MARKER) == 1 and text.endswith("## Profiling\nkept text\n")
    assert "# old" not in text


def test_cli_runs_the_selection_and_keeps_earlier_figures(tmp_path, monkeypatch, capsys):
    results_path, report_path = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    write_results(results_path, {"make_run": {"skipped": "earlier reason"}}, MACHINE)
    ran = []

    def fake_child(name, quick):
        ran.append((name, quick))
        return {"skipped": f"fake {name}"}

    monkeypatch.setattr(cli, "run_in_child", fake_child)
    monkeypatch.setattr(cli, "machine_info", lambda: dict(MACHINE))
    args = ["--results", str(results_path), "--report", str(report_path)]
    scale_doc = Path(report.__file__).resolve().parents[1] / "docs" / "SCALE.md"
    before = scale_doc.read_bytes()
    assert cli.main(["--quick", "--only", "vgg16_forward", "training", *args]) == 0
    assert scale_doc.read_bytes() == before  # a report elsewhere leaves the docs' projection alone
    assert ran == [("training", True), ("vgg16_forward", True)]  # report order, not argument order
    data = strict_json(results_path)
    assert data["make_run"] == {"skipped": "earlier reason"} and data["training"] == {"skipped": "fake training"}
    assert data["machine"]["quick"] is True
    assert "fake vgg16_forward" in report_path.read_text()

    report_path.unlink()
    assert cli.main(["--report-only", *args]) == 0 and "fake vgg16_forward" in report_path.read_text()
    assert ran == [("training", True), ("vgg16_forward", True)]  # --report-only measured nothing

    assert cli.main(["--only", "nonsense", *args]) == 2
    assert "error: unknown benchmark(s) nonsense" in capsys.readouterr().err
    assert cli.main(["--report-only", "--results", str(tmp_path / "none.json"), "--report", str(report_path)]) == 2
    assert "error: no results file" in capsys.readouterr().err


def test_streamed_heatmap_sums_match_direct_sums_with_flat_memory(tmp_path):
    from bench.heatmap_aggregation import accumulate, peak_bytes, synthetic_maps

    path = tmp_path / "maps.npy"
    y_true, y_pred = synthetic_maps(path, 300, grid=8, classes=3)
    maps = np.load(path).astype(np.float64)
    sums = accumulate(np.load(path, mmap_mode="r"), y_true, y_pred, classes=3, batch_size=32)
    for brand in range(3):
        assert np.allclose(sums["by_true_native"][brand], maps[y_true == brand].sum(axis=0))
        assert np.allclose(sums["by_pred_native"][brand], maps[y_pred == brand].sum(axis=0))
        assert sums["count_by_true"][brand] == (y_true == brand).sum()
    assert sums["by_true_upsampled"].shape == (3, 224, 224)
    assert np.allclose(maps.sum(axis=(1, 2)), 1.0, atol=1e-2)  # softmax maps, stored as float16
    assert peak_bytes(lambda: np.ones(2_000_000)) >= 16_000_000


def test_onnx_gflop_counts_a_convolution_exactly(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from bench.background_removal import onnx_gflop

    kernel = numpy_helper.from_array(np.zeros((8, 3, 3, 3), np.float32), name="w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], "one-conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [kernel],
    )
    path = tmp_path / "conv.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    # 10×10 outputs × 8 filters × (3 channels × 3 × 3) multiply-adds, two FLOPs each
    assert onnx_gflop(path, 10) == pytest.approx(2 * 10 * 10 * 8 * 3 * 9 / 1e9)


def test_the_million_look_projection_follows_its_cost_model_and_lands_in_the_scale_doc():
    from bench.engine_scale import projection, projection_table
    from bench.report import PROJECTION_END, PROJECTION_START, with_projection

    rows = projection(per_worker_img_per_s=2.0, startup_s=3600, looks=720_000, worker_counts=(1, 8), efficiency=0.5)
    assert rows == [{"workers": 1, "hours": 201.0}, {"workers": 8, "hours": 26.0}]  # 1 h + 720k / (W × 1 img/s)
    stage = {"per_worker_img_per_s": 2.0, "projection": rows}
    result = {"cores": 2, "photos": "200 demo photos", "ray_startup_s": 2.0, "feature_image_size": 224,
              "stages": {"background_removal": stage, "feature_caching": stage}}
    assert projection_table(result)[2] == "| background removal (u2netp) | 2.00 | 8.4 days | 26.0 h |"
    document = f"# Scale\n\n{PROJECTION_START}\nold\n{PROJECTION_END}\n\nafter\n"
    updated = with_projection(document, {"engine_scale": result})
    assert "old" not in updated and "8.4 days" in updated and updated.endswith(f"{PROJECTION_END}\n\nafter\n")
    assert with_projection("no markers", {"engine_scale": result}) == "no markers"
