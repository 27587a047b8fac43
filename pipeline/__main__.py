"""`python -m pipeline demo [--profile demo|thesis]`: everything `make demo` and `make run` need."""

from __future__ import annotations

import argparse
import logging
import sys

from core.config import PROFILES, profile_settings
from core.logs import configure
from pipeline import demo as demo_pipeline

# `make demo` shows its steps (and the asset checks, the ensemble and the index); the stages themselves run quietly.
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
    args = parser.parse_args(argv)
    configure(levels=QUIET_STAGES)
    overrides: dict[str, dict] = {}
    if args.background_informativeness is not None:
        if not 0.0 <= args.background_informativeness <= 1.0:
            parser.error("--background-informativeness must be between 0 and 1")
        overrides["demo"] = {"background_informativeness": args.background_informativeness}
    if args.dataset:
        overrides["pipeline"] = {"dataset": args.dataset}
    settings = profile_settings(args.profile).with_overrides(overrides)
    settings.paths.root.mkdir(parents=True, exist_ok=True)
    try:
        return demo_pipeline.run_plan(demo_pipeline.plan(settings), settings)
    except KeyboardInterrupt:
        print("interrupted: rerun `make demo` to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
