"""`python -m data demo`: generate the demo runway dataset (docs/DEMO.md).

    python -m data demo [--houses 6] [--per-house 100] [--size 192x288]
                        [--background-informativeness 0.7] [--seasonal-drift 0.3]
                        [--signature-strength 0.75] [--seed 42]
                        [--out DIR] [--workers 2] [--overwrite] [--no-progress]

The dispatcher in `data.__main__` calls `add_arguments` on its `demo` sub-parser and `run` with the
parsed arguments. The options are `core.config.DemoSettings`' fields; the output folder defaults to
`get_settings().paths.demo`.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path

from core.cli import add_settings_options, settings_from_options
from core.config import DemoSettings, get_settings
from data.demo.generate import DEMO_LABEL, DemoError, DemoParams, generate

_SIZE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """`192x288` -> (192, 288): width then height."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 192x288, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo generator's options: one per `DemoSettings` field (core.cli), plus where to write and how."""
    add_settings_options(parser, get_settings().demo)
    parser.add_argument("--size", type=parse_size, default=None, metavar="WxH",
                        help="photo size, portrait: --width and --height together (e.g. 192x288)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default <workspace>/demo)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a demo folder made with other parameters (otherwise it is refused)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def demo_settings_from_args(args: argparse.Namespace) -> DemoSettings:
    demo = settings_from_options(args, get_settings().demo)
    size = getattr(args, "size", None)
    return dataclasses.replace(demo, width=size[0], height=size[1]) if size else demo


def params_from_args(args: argparse.Namespace) -> DemoParams:
    return DemoParams.from_settings(demo_settings_from_args(args)).validate()


def run(args: argparse.Namespace) -> int:
    """Generate or resume the demo dataset; 0 on success, 1 with one `error:` line on a bad input."""
    settings = get_settings()
    try:
        demo = demo_settings_from_args(args)
        params = DemoParams.from_settings(demo).validate()
        out = Path(args.out).expanduser() if getattr(args, "out", None) else settings.paths.demo
        report = generate(params, out, workers=demo.workers, overwrite=bool(getattr(args, "overwrite", False)))
    except DemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot write the demo dataset: {exc}", file=sys.stderr)
        return 1
    print(f"{DEMO_LABEL}: {report.images} photos of {params.houses} fictional houses "
          f"({params.per_house} per house, {params.width}x{params.height}, background informativeness "
          f"{params.background_informativeness}, seasonal drift {params.seasonal_drift}, signature strength "
          f"{params.signature_strength}, seed {params.seed})")
    if report.generated:
        print(f"drew {report.generated} photos in {report.seconds:.1f} s ({report.images_per_second:.1f} photos/s); "
              f"{report.present} were already there")
    else:
        print("nothing to do: every photo and mask is already there")
    print(f"runway CSV: {report.out / 'runway.csv'}{'' if report.csv_written else ' (unchanged)'}; "
          f"image and mask paths are relative to {report.out}")
    return 0
