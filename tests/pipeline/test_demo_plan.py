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


def test_make_run_opens_the_dashboard_before_the_identity_analyses(workspace, monkeypatch):
    import fcntl

    from pipeline import __main__ as pipeline_cli
    from pipeline.demo import before_dashboard

    settings = profile_settings("demo", get_settings(workspace))
    steps = plan(settings)
    behind = [step.name for step in steps if step.behind_dashboard]
    assert behind == ["identity demo-raw", "identity demo-nobg"] and [s.name for s in steps[-2:]] == behind
    assert [step.name for step in before_dashboard(steps)] == [s.name for s in steps if s.name not in behind]

    # a second `make run` while the first one's analyses still run leaves them to it
    ran = []
    monkeypatch.setattr(pipeline_cli.demo_pipeline, "run_plan", lambda *args: ran.append(args) or 0)
    lock_path = settings.paths.root / pipeline_cli.BEHIND_LOG
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path.with_suffix(".lock"), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert pipeline_cli.behind_dashboard(steps, settings) == 0
    assert ran == []
