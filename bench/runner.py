"""One measurement in its own process: `python -m bench.runner NAME OUT.json [--quick]`.

`python -m bench` starts one of these per measurement, so TensorFlow's thread pools, onnxruntime
sessions, tracemalloc and Streamlit never share a process with another benchmark, and a crash in one
costs only that one. The result (or `{"skipped": reason}`) is written to OUT.json and its goal lines
are printed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from bench.harness import MEASUREMENTS, Skip, goal_line, skipped
from core.config import get_settings
from core.fileio import write_json_atomic


def module(name: str):
    if name not in MEASUREMENTS:
        raise ValueError(f"unknown measurement {name!r}; expected one of {', '.join(MEASUREMENTS)}")
    return importlib.import_module(f"bench.{name}")


def measure(name: str, quick: bool) -> dict:
    """The measurement's result, or {"skipped": reason} when it cannot run or fails (traceback on stderr)."""
    from core.contract import RunError
    from core.images import ImageError
    from data import DataError
    from model.assets import AssetError

    try:
        return module(name).run(get_settings(), quick=quick)
    except Skip as reason:
        return skipped(str(reason))
    except (AssetError, DataError, RunError, ImageError) as exc:  # the product's own user-facing messages
        return skipped(f"cannot run: {exc}")
    except Exception as exc:  # a benchmark never stops the others: record why, keep going
        traceback.print_exc()
        return skipped(f"failed: {type(exc).__name__}: {exc}")


def print_goals(name: str, result: dict) -> None:
    if "skipped" in result:
        print(f"[bench] {name}: skipped ({result['skipped']})", flush=True)
        return
    for row in module(name).rows(result):
        print(f"[bench] {goal_line(row)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.runner", description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=MEASUREMENTS)
    parser.add_argument("out", help="where to write the result (JSON)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.name, args.quick)
    write_json_atomic(args.out, result)
    print_goals(args.name, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
