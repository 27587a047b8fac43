"""`python -m pipeline demo [--profile demo|thesis]`: everything `make demo` and `make run` need.

`make demo` runs every step. `make run` runs the steps the dashboard needs (`--before-dashboard`), then
the rest (the identity analyses, minutes each) behind the dashboard (`--behind-dashboard`), so the
pages open without waiting for them.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import sys

from core.config import PROFILES, profile_settings
from core.logs import configure
from pipeline import demo as demo_pipeline

# `make demo` shows its steps (and the asset checks, the ensemble and the index); the stages themselves run quietly.
BEHIND_LOG = "logs/behind-dashboard.log"  # in the workspace
QUIET_STAGES = {"data": logging.WARNING, "model": logging.WARNING, "analysis": logging.WARNING,
                "model.assets": logging.INFO}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=demo_pipeline.__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="build the demo atelier end to end")
    demo.add_argument("--profile", choices=sorted(PROFILES), default="demo")
    demo.add_argument("--background-informativeness", type=float, metavar="P",
                      help="override the profile's venue/house association (0..1)")
    demo.add_argument("--dataset", help="override the dataset (and run) name prefix")
    part = demo.add_mutually_exclusive_group()
    part.add_argument("--before-dashboard", action="store_true",
                      help="only the steps the dashboard needs to open (make run, before it starts the dashboard)")
    part.add_argument("--behind-dashboard", action="store_true",
                      help=f"every step, at low priority, logging to <workspace>/{BEHIND_LOG}; does nothing while "
                           "another one runs (make run, beside the dashboard)")
    args = parser.parse_args(argv)
    overrides: dict[str, dict] = {}
    if args.background_informativeness is not None:
        if not 0.0 <= args.background_informativeness <= 1.0:
            parser.error("--background-informativeness must be between 0 and 1")
        overrides["demo"] = {"background_informativeness": args.background_informativeness}
    if args.dataset:
        overrides["pipeline"] = {"dataset": args.dataset}
    settings = profile_settings(args.profile).with_overrides(overrides)
    settings.paths.root.mkdir(parents=True, exist_ok=True)
    steps = demo_pipeline.plan(settings)
    if args.before_dashboard:
        steps = demo_pipeline.before_dashboard(steps)
    if args.behind_dashboard:
        return behind_dashboard(steps, settings)
    configure(levels=QUIET_STAGES)
    try:
        return demo_pipeline.run_plan(steps, settings)
    except KeyboardInterrupt:
        print("interrupted: rerun `make demo` to resume", file=sys.stderr)
        return 130


def behind_dashboard(steps: list, settings) -> int:
    """The plan at low priority, its messages in the log file, unless another run behind the dashboard holds the
    lock (a second `make run` while the first one's analyses are still running)."""
    log_path = settings.paths.root / BEHIND_LOG
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path.with_suffix(".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0
        os.nice(10)  # the dashboard comes first on a small machine
        with open(log_path, "w") as out:  # TensorFlow's own lines too: the file descriptors, not just sys.stderr
            os.dup2(out.fileno(), sys.stdout.fileno())
            os.dup2(out.fileno(), sys.stderr.fileno())
        configure(levels=QUIET_STAGES)
        return demo_pipeline.run_plan(steps, settings)


if __name__ == "__main__":
    sys.exit(main())
