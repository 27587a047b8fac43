"""Real-browser smoke test: `streamlit run dashboard/app.py` on localhost, every page in headless Chromium.

Each page must show its title and no error box; a screenshot per page goes to
test-artifacts/screenshots/. Needs Debian's chromium and chromium-driver (`.ci/run` installs them):
skipped locally without them, a failure in CI (env CI set).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from bench.browser import browser_missing, chromium_driver, dashboard_server
from dashboard.navigation import PAGES, url_path

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PAGE_SECONDS = 60
ERROR_SELECTOR = '[data-testid="stException"], [data-testid="stAlertContentError"]'


def browser_or_skip() -> None:
    missing = browser_missing()
    if missing:
        reason = f"browser smoke test needs {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def server(demo_workspace, artifacts_dir):
    """The dashboard served by `streamlit run` on a free localhost port, over the tiny demo runs."""
    browser_or_skip()
    with dashboard_server(demo_workspace, artifacts_dir / "streamlit-browser-test.log") as url:
        yield url


@pytest.fixture
def chromium():
    with chromium_driver() as driver:
        yield driver


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
