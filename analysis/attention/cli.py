"""The `attention` command of `python -m analysis`: run the analysis (analysis.attention.analyse), print its summary.

    python -m analysis attention --run demo-raw [--max-images 60] [--skip-gradcam] [--skip-reliance] [--quiet]

A user error prints one `error: ...` line and exits 1.
"""

from __future__ import annotations

import argparse
import sys

from analysis.attention import AttentionError
from analysis.attention.analyse import AnalysisOptions, analyse, summary_lines
from core.cli import add_settings_options, settings_from_options
from core.config import Settings, get_settings
from core.contract import RunError
from core.engine import EngineError


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--run", required=True, help="run name (under the workspace's runs/) or run folder")
    parser.add_argument("--skip-gradcam", action="store_true", help="skip Grad-CAM and the randomisation check")
    parser.add_argument("--skip-reliance", action="store_true", help="skip the background-reliance evaluation")
    parser.add_argument("--max-images", type=int, default=None, metavar="N",
                        help="model passes on a brand-stratified sample of N test photos")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_settings_options(parser, get_settings().engine)  # where the Grad-CAM passes run
    return add_settings_options(parser, get_settings().attention)


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m analysis attention`: analyse, then print the summary."""
    settings = settings.replace(attention=settings_from_options(args, settings.attention),
                                engine=settings_from_options(args, settings.engine))
    options = AnalysisOptions(run=args.run, gradcam=not args.skip_gradcam, reliance=not args.skip_reliance,
                              max_images=args.max_images)
    try:
        result = analyse(options, settings)
    except (AttentionError, RunError, ValueError, OSError, EngineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for note in result["notes"]:
        print(f"note: {note}")
    print("\n".join(summary_lines(result)))
    from analysis.attention.zones import demo_signature_check

    check = demo_signature_check(result["attention"])
    if not check.empty:
        print("demo ground truth (signature zone share vs the other houses' share on that zone):")
        print(check.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"written: {result['run'].metrics} (attention, background_reliance), "
          f"{result['run'].attention_per_image}")
    return 0
