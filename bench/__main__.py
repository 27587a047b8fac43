"""`python -m bench [--quick] [--only NAME ...]`: run the benchmarks, write bench/results.json and docs/BENCHMARKS.md.

Each measurement runs in its own process (`bench.runner`); one that cannot run records
`{"skipped": reason}` and the rest go on. With --only, the other measurements keep their figures
from the existing results.json. Nothing here fails on a timing: the exit status is 0 unless the
command itself was misused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import MEASUREMENTS, machine_info, skipped, write_results
from bench.report import write_report

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results.json"
REPORT = REPO_ROOT / "docs" / "BENCHMARKS.md"
# TensorFlow's C++ info lines (oneDNN, CPU features) would bury the goal lines; warnings and errors still show.
CHILD_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "1", **os.environ}


def previous_results(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {name: data[name] for name in MEASUREMENTS if isinstance(data.get(name), dict)}


def run_in_child(name: str, quick: bool) -> dict:
    """The measurement's result from a `bench.runner` child process (its output goes to the terminal)."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / f"{name}.json"
        command = [sys.executable, "-m", "bench.runner", name, str(out), *(["--quick"] if quick else [])]
        started = time.perf_counter()
        code = subprocess.call(command, cwd=REPO_ROOT, env=CHILD_ENVIRONMENT)
        seconds = time.perf_counter() - started
        if code != 0 or not out.is_file():
            return skipped(f"failed: the benchmark process exited with status {code}")
        result = json.loads(out.read_text())
    if "skipped" not in result:
        result["sizes"] = "quick" if quick else "full"
        result["bench_seconds"] = round(seconds, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats; no cold `make run`")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"run only these: {', '.join(MEASUREMENTS)}")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    parser.add_argument("--report", type=Path, default=REPORT, help=f"markdown report (default {REPORT})")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: rewrite the report from the existing results file")
    args = parser.parse_args(argv)
    if args.report_only:
        if not args.results.is_file():
            print(f"error: no results file at {args.results}; run `python -m bench` first", file=sys.stderr)
            return 2
        write_report(args.report, json.loads(args.results.read_text()))
        print(f"[bench] wrote {args.report} from {args.results}")
        return 0
    unknown = sorted(set(args.only or ()) - set(MEASUREMENTS))
    if unknown:
        print(f"error: unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(MEASUREMENTS)}",
              file=sys.stderr)
        return 2
    selected = [name for name in MEASUREMENTS if not args.only or name in args.only]

    machine = {**machine_info(), "quick": args.quick}
    results = previous_results(args.results) if args.only else {}
    for name in selected:
        print(f"[bench] === {name}{' (quick)' if args.quick else ''} ===", flush=True)
        results[name] = run_in_child(name, args.quick)
    write_results(args.results, results, machine)
    write_report(args.report, json.loads(args.results.read_text()))
    print(f"[bench] wrote {args.results} and {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
