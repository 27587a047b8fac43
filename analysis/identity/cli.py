"""The `identity` command of `python -m analysis`: run the analysis (analysis.identity.identify), print its tables.

    python -m analysis identity --run demo-raw [--max-images 60] [--max-per-house 20] [--quiet]
    python -m analysis identity --run demo-raw --engine ray --engine-workers 2   # the model passes on Ray

Options beyond these come from `IdentitySettings` (core/config.py). A user error prints one
`error: ...` line and exits 1.
"""

from __future__ import annotations

import argparse
import sys

from analysis.attention import AttentionError
from analysis.identity import ZONES
from analysis.identity.identify import IdentityOptions, identify
from core.cli import add_settings_options, settings_from_options
from core.config import Settings, get_settings
from core.contract import ContractError
from core.engine import EngineError
from core.images import ImageError


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--run", required=True, help="run name (under the workspace's runs/) or run folder")
    parser.add_argument("--max-images", type=int, default=None, metavar="N",
                        help="score a brand-stratified sample of N test photos")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_settings_options(parser, get_settings().engine)  # where the model passes run
    return add_settings_options(parser, get_settings().identity)


def _fmt(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _score(scores: dict) -> str:
    return f"{scores['top_zone_matches']}/{scores['houses']}"


def house_lines(result: dict) -> list[str]:
    """Per house: the truth's top zone (demo), each method's top zone, and whether they match."""
    methods = list(result.get("methods", {}))
    faithfulness = result.get("faithfulness", {})
    has_truth = "truth" in result
    truth_houses = result.get("truth", {}).get("houses", {})
    header = f"{'house':<20}" + (f" {'truth':<11}" if has_truth else "") + "".join(f" {name:<18}" for name in methods)
    lines = [header]
    for brand in result["profile"]:
        truth_top = truth_houses.get(brand, {}).get("reliance", {}).get("top_zone")
        cells = []
        for name in methods:
            per_house = faithfulness.get(name, {}).get("per_house", {}).get(brand)
            table = result["methods"][name]["reliance"].get(brand, {})
            finite = {zone: v for zone, v in table.items() if v is not None}
            top = max(finite, key=finite.get) if finite else None
            mark = "" if per_house is None else (" ✓" if per_house["match"] else " ✗")
            cells.append(f" {(top or '-') + mark:<18}")
        lines.append(f"{brand:<20}" + (f" {truth_top or '-':<11}" if has_truth else "") + "".join(cells))
    return lines


def faithfulness_lines(result: dict) -> list[str]:
    lines = [f"{'method':<20} {'top zone':>9} {'spearman':>9}   {'rival top':>9} {'rival rho':>9}"]
    for name, scores in result["faithfulness"].items():
        contrastive = scores["contrastive"]
        lead = " <- headline" if name == result["headline_method"] else ""
        lines.append(f"{name:<20} {_score(scores):>9} {_fmt(scores['spearman']):>9}   "
                     f"{_score(contrastive):>9} {_fmt(contrastive['spearman']):>9}{lead}")
    return lines


def profile_lines(result: dict) -> list[str]:
    """Per brand: the headline method's top zones, the rival and what separates them."""
    lines = [f"{'brand':<20} {'identity lives on':<34} {'closest rival':<20} {'set apart by':<14}"]
    for brand, entry in result["profile"].items():
        rival = result["rival"][brand]
        zones = entry["zones"]
        top = ", ".join(f"{zone} {zones[zone]['mean']:.3g}" for zone in entry["ranked_zones"][:2]) or "-"
        lines.append(f"{brand:<20} {top:<34} {rival['rival']:<20} {rival['top_zone'] or '-':<14}")
    return lines


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """`python -m analysis identity`: analyse, then print the tables."""
    settings = settings.replace(identity=settings_from_options(args, settings.identity),
                                engine=settings_from_options(args, settings.engine))
    try:
        result = identify(IdentityOptions(run=args.run, max_images=args.max_images), settings)
    except (ContractError, AttentionError, ImageError, ValueError, OSError, EngineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, why in result["skipped"].items():
        print(f"skipped {name}: {why}")
    for note in result["notes"]:
        print(f"note: {note}")
    print(f"run {result['run']} ({result['data']} data, {result['n_photos']} of {result['n_test_photos']} test photos, "
          f"zones: {result['zone_source']}; zones {', '.join(ZONES)})")
    if result.get("methods"):
        print("\ntop zone per house (✓ = the counterfactual truth's):" if "truth" in result else "\ntop zone per house:")
        print("\n".join(house_lines(result)))
    if result.get("faithfulness"):
        print("\nfaithfulness to the counterfactual truth (houses whose top zone matches; mean Spearman over zones):")
        print("\n".join(faithfulness_lines(result)))
    basis = result["headline_basis"]
    where = f" of run {basis['reference_run']}" if basis.get("reference_run") else ""
    print(f"\nheadline method: {result['headline_method']} (chosen by {basis['chosen_by']}{where}); "
          f"units: {next(iter(result['profile'].values()))['units']}")
    print("\n".join(profile_lines(result)))
    print(f"\nwritten: {result['run_folder'].identity}")
    return 0
