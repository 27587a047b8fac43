"""`python -m pipeline demo`: steps are skipped when up to date, rerun when their parameters change."""

from __future__ import annotations

from core.config import get_settings, profile_settings
from pipeline.demo import Step, plan, run_plan


def _step(name, artifact, calls, parameters, code=0, after_change=None):
    def command():
        calls.append(name)
        artifact.write_text("done")
        return code

    return Step(name, lambda s: artifact, command, parameters, after_change)


def test_done_steps_are_skipped_and_changed_ones_rerun(workspace):
    settings = get_settings(workspace)
    calls: list[str] = []
    first = workspace / "a.txt"
    second = workspace / "b.txt"
    restarted: list[str] = []

    def restart():
        restarted.append("b")
        second.write_text("done")
        return 0

    steps = [_step("a", first, calls, {"x": 1}), _step("b", second, calls, {"y": 1}, after_change=restart)]
    assert run_plan(steps, settings, log=lambda _: None) == 0
    assert calls == ["a", "b"]
    assert run_plan(steps, settings, log=lambda _: None) == 0
    assert calls == ["a", "b"], "up-to-date steps ran again"

    steps[1] = _step("b", second, calls, {"y": 2}, after_change=restart)  # a new parameter
    assert run_plan(steps, settings, log=lambda _: None) == 0
    assert calls == ["a", "b"] and restarted == ["b"], "a changed step must run its after-change command"

    second.unlink()  # a deleted artifact is rebuilt even with the same parameters
    assert run_plan(steps, settings, log=lambda _: None) == 0
    assert calls == ["a", "b", "b"]


def test_a_failing_step_stops_the_plan_and_is_not_marked_done(workspace):
    settings = get_settings(workspace)
    calls: list[str] = []
    steps = [_step("bad", workspace / "bad.txt", calls, {}, code=3), _step("next", workspace / "n.txt", calls, {})]
    messages: list[str] = []
    assert run_plan(steps, settings, log=messages.append) == 3
    assert calls == ["bad"] and any("failed (exit 3)" in m for m in messages)
    assert run_plan(steps, settings, log=lambda _: None) == 3
    assert calls == ["bad", "bad"]


def test_two_demo_datasets_never_share_an_artifact(workspace):
    settings = profile_settings("demo", get_settings(workspace))
    other = settings.with_overrides({"pipeline": {"dataset": "demo-p0"}, "demo": {"background_informativeness": 0.0}})
    artifacts_default = {step.artifact(settings) for step in plan(settings)}
    artifacts_other = {step.artifact(settings) for step in plan(other)}
    shared = artifacts_default & artifacts_other
    assert shared == {settings.paths.vgg16_weights}, shared  # only the model assets are common
    names = [step.name for step in plan(settings)]
    assert names[0] == "model assets" and any(name.startswith("train demo-raw") for name in names)
