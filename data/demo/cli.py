"""`python -m data demo`: generate the demo runway dataset (docs/DEMO.md).

    python -m data demo [--houses 6] [--per-house 100] [--size 192x288]
                        [--background-informativeness 0.7] [--seasonal-drift 0.3]
                        [--signature-strength 0.75] [--seed 42]
                        [--out DIR] [--workers 1] [--overwrite] [--no-progress]

The dispatcher in `data.__main__` calls `add_arguments` on its `demo` sub-parser and `run` with the
parsed arguments. Defaults come from `core.config.DemoSettings`; the output folder defaults to
`get_settings().paths.demo`.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from core.config import get_settings
from data.demo.generate import DEMO_LABEL, DemoError, DemoParams, generate

_SIZE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")


def parse_size(text: str) -> tuple[int, int]:
    """`192x288` -> (192, 288): width then height."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 192x288, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the demo generator's flags to `parser` (defaults resolved in `run`, from the settings)."""
    defaults = get_settings().demo
    parser.add_argument("--houses", type=int, default=None, help=f"how many of the six fictional houses (default {defaults.houses})")
    parser.add_argument("--per-house", type=int, default=None, help=f"photos per house (default {defaults.per_house})")
    parser.add_argument("--size", type=parse_size, default=None, metavar="WxH",
                        help=f"photo size, portrait (default {defaults.width}x{defaults.height})")
    parser.add_argument("--background-informativeness", type=_fraction, default=None, metavar="P",
                        help="probability that a collection is shown at one of its house's preferred venues rather than "
                             f"at a venue drawn uniformly from all (0..1, default {defaults.background_informativeness})")
    parser.add_argument("--seasonal-drift", type=_fraction, default=None, metavar="D",
                        help="how far each house's palette and pattern drift from the first to the last year "
                             f"(0 none .. 1 full, default {defaults.seasonal_drift})")
    parser.add_argument("--signature-strength", type=_fraction, default=None, metavar="S",
                        help="probability that a look shows each of its house's cues (fabric, cut, headwear, shoes) "
                             f"rather than a basic one shared by all houses (0..1, default {defaults.signature_strength})")
    parser.add_argument("--seed", type=int, default=None, help=f"random seed (default {defaults.seed})")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default <workspace>/demo)")
    parser.add_argument("--workers", type=int, default=None, help=f"processes drawing photos (default {defaults.workers})")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a demo folder made with other parameters (otherwise it is refused)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def params_from_args(args: argparse.Namespace) -> DemoParams:
    size = getattr(args, "size", None)
    return DemoParams.from_settings(
        get_settings().demo,
        houses=getattr(args, "houses", None),
        per_house=getattr(args, "per_house", None),
        width=size[0] if size else None,
        height=size[1] if size else None,
        background_informativeness=getattr(args, "background_informativeness", None),
        seasonal_drift=getattr(args, "seasonal_drift", None),
        signature_strength=getattr(args, "signature_strength", None),
        seed=getattr(args, "seed", None),
    ).validate()


def run(args: argparse.Namespace) -> int:
    """Generate or resume the demo dataset; 0 on success, 1 with one `error:` line on a bad input."""
    settings = get_settings()
    try:
        params = params_from_args(args)
        out = Path(args.out).expanduser() if getattr(args, "out", None) else settings.paths.demo
        workers = settings.demo.workers if getattr(args, "workers", None) is None else args.workers
        report = generate(params, out, workers=workers, overwrite=bool(getattr(args, "overwrite", False)),
                          progress=not getattr(args, "no_progress", False))
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
