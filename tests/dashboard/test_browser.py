"""Real-browser smoke test: `streamlit run dashboard/app.py` on localhost, every page in headless Chromium.

Each page must show its title and no error box; a screenshot per page goes to
test-artifacts/screenshots/. Needs Debian's chromium and chromium-driver (`.ci/run` installs them):
skipped locally without them, a failure in CI (env CI set).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.navigation import PAGES, url_path

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_START_SECONDS = 60
PAGE_SECONDS = 60
ERROR_SELECTOR = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def browser_or_skip() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if missing:
        reason = f"browser smoke test needs {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"streamlit did not answer on {url} within {SERVER_START_SECONDS} s")


@pytest.fixture
def server(demo_workspace, artifacts_dir):
    """The dashboard served by `streamlit run` on a free localhost port, over the tiny demo runs."""
    browser_or_skip()
    port = free_port()
    log = open(artifacts_dir / "streamlit-browser-test.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "app.py"),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "RUNWAY_LENS_WORKSPACE": str(demo_workspace)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--window-size=1400,2200"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_until_rendered(driver, title: str) -> None:
    """Until the page's title is shown and the script has finished (no running indicator)."""
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + PAGE_SECONDS
    while time.monotonic() < deadline:
        titles = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "h1")]
        running = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
        if title in titles and not running:
            time.sleep(1.0)  # let charts and images finish drawing for the screenshot
            if not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'):
                return
        time.sleep(0.3)
    raise AssertionError(f"page {title!r} did not finish rendering in {PAGE_SECONDS} s; titles: {titles}")


def save_full_page(driver, target: Path, width: int = 1400, max_height: int = 9000) -> None:
    """Screenshot of the whole page: the window is made as tall as Streamlit's scrolling main area."""
    height = driver.execute_script(
        "const main = document.querySelector('[data-testid=\"stMain\"]') || document.body;"
        "return Math.max(main.scrollHeight, document.body.scrollHeight);"
    )
    driver.set_window_size(width, min(max(int(height) + 120, 900), max_height))
    time.sleep(0.5)  # let the charts re-layout to the new size
    driver.save_screenshot(str(target))
    driver.set_window_size(width, 2200)


def test_every_page_renders_in_chromium(server, chromium, artifacts_dir):
    from selenium.webdriver.common.by import By

    shots = artifacts_dir / "screenshots"
    if shots.exists():
        shutil.rmtree(shots)
    shots.mkdir()
    for index, (file, title, _) in enumerate(PAGES):
        path = "" if index == 0 else url_path(file)  # the default page lives at /
        chromium.get(f"{server}/{path}")
        wait_until_rendered(chromium, title)
        save_full_page(chromium, shots / f"{index + 1}-{url_path(file)}.png")
        errors = [e.text for e in chromium.find_elements(By.CSS_SELECTOR, ERROR_SELECTOR)]
        assert not errors, f"{title}: {errors}"
        assert "Page not found" not in chromium.page_source, title
        body = chromium.find_element(By.TAG_NAME, "body").text
        assert "Demo data" in body, title  # the demo is labelled on every page
    assert len(list(shots.glob("*.png"))) == len(PAGES)
