"""Dashboard render time for every page, from the demo runs' artifacts (Streamlit's AppTest).

For each page (`dashboard.navigation.PAGES`): its first render in this process (the artifact
caches are cold for what only that page reads), then the median of several navigations to it
from a new session, which is what a user clicking through the menu waits for once the app has
been up a moment. AppTest runs the script in-process, without a browser: the figures are the
server-side script time, not the browser's drawing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Row, Skip, median

GOAL_SECONDS = 1.0
APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
TIMEOUT_S = 300


@dataclass(frozen=True)
class Sizes:
    repeats: int


FULL = Sizes(repeats=5)
QUICK = Sizes(repeats=2)


def demo_runs_evaluated(settings) -> list[str]:
    """Names of the demo's raw and nobg runs that are evaluated (what every page reads)."""
    from core.config import profile_settings
    from core.contract import resolve_run
    from pipeline.demo import run_names

    names = run_names(profile_settings("demo", settings).pipeline.dataset)
    runs = [resolve_run(names[variant], settings, must_exist=False) for variant in ("raw", "nobg")]
    return [run.name for run in runs if run.is_evaluated()]


def render(page: str) -> tuple[float, list[str]]:
    """Seconds to show `page` in a new app session (first the default page, untimed), and its exceptions."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    app.run()
    if page != "overview.py":
        app.switch_page(f"app_pages/{page}")
    started = time.perf_counter()
    app.run()
    seconds = time.perf_counter() - started
    return seconds, [str(exception.value) for exception in app.exception]


def run(settings, quick: bool = False) -> dict:
    import logging

    from dashboard.navigation import PAGES

    # AppTest's main thread has no script context; Streamlit warns about it on every run.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)

    sizes = QUICK if quick else FULL
    runs = demo_runs_evaluated(settings)
    if len(runs) < 2:
        raise Skip(f"the demo runs are not evaluated in {settings.paths.runs}; run `make demo`")
    pages = {}
    for file, title, _ in PAGES:
        first, errors = render(file)
        if errors:
            pages[title] = {"page": file, "error": errors[0][:300]}
            continue
        times = [render(file)[0] for _ in range(sizes.repeats)]
        pages[title] = {"page": file, "first_visit_s": round(first, 3), "render_s": round(median(times), 3),
                        "max_s": round(max(times), 3), "runs": len(times)}
    measured = [page["render_s"] for page in pages.values() if "render_s" in page]
    failed = [title for title, page in pages.items() if "error" in page]
    return {
        "runs": runs,
        "pages": pages,
        "slowest_page_s": max(measured) if measured else None,
        "goal": f"<= {GOAL_SECONDS:g} s per page",
        "goal_met": bool(measured) and not failed and max(measured) <= GOAL_SECONDS,
    }


def rows(result: dict) -> list[Row]:
    goal = f"≤ {GOAL_SECONDS:g} s"
    rows_ = []
    for title, page in result["pages"].items():
        if "error" in page:
            rows_.append(Row(f"dashboard: {title} (page raised an exception)", None, "s", goal, False))
        else:
            rows_.append(Row(f"dashboard: {title}", page["render_s"], "s", goal, page["render_s"] <= GOAL_SECONDS))
    return rows_


def notes(result: dict) -> list[str]:
    pages = result["pages"]
    firsts = ", ".join(f"{title} {page['first_visit_s']:.2f} s" for title, page in pages.items()
                       if "first_visit_s" in page)
    lines = [f"Dashboard: runs {', '.join(result['runs'])}; median of navigations from a new session; the first "
             f"visit in a fresh process (cold caches) took: {firsts}."]
    for title, page in pages.items():
        if "error" in page:
            lines.append(f"Dashboard page {title} raised: {page['error']}")
    slow = [title for title, page in pages.items() if page.get("render_s", 0) > GOAL_SECONDS]
    if slow:
        lines.append(f"Dashboard pages over {GOAL_SECONDS:g} s: {', '.join(slow)}.")
    return lines
