"""The dashboard as a user meets it: `streamlit run` on a free localhost port, and headless Chromium.

Shared by the browser smoke test (tests/dashboard/test_browser.py) and the browser-measured waits
(bench/browser_waits.py). Needs Debian's chromium and chromium-driver, and the selenium package.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO_ROOT = Path(__file__).resolve().parents[1]
SERVER_START_SECONDS = 60

# One round trip to the page: is the script still running (its status widget shows only after a moment,
# so elements left from the previous run, marked stale, count too), which titles are shown, and is
# everything drawn (every Plotly chart has its SVG, every image has loaded)?
PAGE_STATE = """
const charts = document.querySelectorAll('[data-testid="stPlotlyChart"]');
const drawn = [...charts].filter(c => c.querySelector('.main-svg')).length;
const images = [...document.querySelectorAll('[data-testid="stMain"] img')];
return {
  running: document.querySelectorAll('[data-testid="stStatusWidget"]').length > 0,
  stale: document.querySelectorAll('[data-stale="true"]').length,
  titles: [...document.querySelectorAll('h1')].map(h => h.innerText.trim()),
  charts: charts.length, drawn: drawn,
  images: images.length, loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
  text: document.querySelector('[data-testid="stMain"]')?.innerText || '',
};
"""


def browser_missing() -> list[str]:
    """What a real-browser run lacks here (empty when it can run)."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_server(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer on {url} within {SERVER_START_SECONDS} s")


@contextmanager
def dashboard_server(workspace: Path, log_path: Path) -> Iterator[str]:
    """The dashboard over `workspace`, served by `streamlit run` as `make run` does; yields its URL."""
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "app.py"),
             "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "RUNWAY_LENS_WORKSPACE": str(workspace)},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for_server(url, process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def chromium_driver(width: int = 1400, height: int = 2200):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     f"--window-size={width},{height}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def page_state(driver) -> dict:
    return driver.execute_script(PAGE_STATE)


def settled(state: dict) -> bool:
    """The script has finished and everything it put on the page is drawn."""
    return (not state["running"] and not state["stale"] and state["drawn"] == state["charts"]
            and state["loaded"] == state["images"])


def wait_for(driver, done, timeout: float, poll: float = 0.05, held_for: float = 0.15) -> tuple[float, dict]:
    """(seconds until `done(page_state)` first held, once it has held for `polls_held` polls in a row; the
    last state). Raises TimeoutError."""
    started = time.perf_counter()
    state, since = {}, None
    while time.perf_counter() - started < timeout:
        state = page_state(driver)
        if done(state):
            since = time.perf_counter() - started if since is None else since
            if time.perf_counter() - started - since >= held_for:
                return since, state
        else:
            since = None
        time.sleep(poll)
    raise TimeoutError(f"the page did not get there in {timeout:.0f} s (last state: "
                       f"{ {k: v for k, v in state.items() if k != 'text'} })")
