"""Command line of the analyse stage.

    python -m analysis attention --run demo-raw [--max-images 60] [--skip-gradcam] [--skip-reliance]
    python -m analysis index --run demo-raw [--collection-run demo-collection-raw]
    python -m analysis drift --run demo-raw [--by season]
    python -m analysis similar --run demo-raw --look PATH [-k 5]
    python -m analysis identity --run demo-raw [--max-images 60]

Each command reads one evaluated run folder and writes its own section back into it, so they can
run in any order and be rerun. A user error prints one `error: ...` line and exits 1.
"""

from __future__ import annotations

import argparse
import sys

from analysis.attention import cli as attention_cli
from analysis.brand import cli as brand_cli
from analysis.identity import cli as identity_cli
from core.config import get_settings
from core.logs import configure


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", help="workspace folder (default: $RUNWAY_LENS_WORKSPACE or ./workspace)")
    sub = parser.add_subparsers(dest="command", required=True)
    attention_cli.add_arguments(sub.add_parser("attention", help="attention analytics -> metrics.json, attention/"))
    brand_cli.add_commands(sub)
    identity_cli.add_arguments(sub.add_parser("identity", help="where each house's identity lives -> identity.json"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure(quiet=getattr(args, "quiet", False))
    settings = get_settings(args.workspace)
    try:
        if args.command == "attention":
            return attention_cli.run_command(args, settings)
        if args.command == "identity":
            return identity_cli.run_command(args, settings)
        return brand_cli.run_command(args, settings)
    except KeyboardInterrupt:
        print("interrupted; nothing half-written (rerun to finish)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
