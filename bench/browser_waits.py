"""The waits a user feels, measured in a real headless Chromium on the dashboard over the demo runs.

- **First paint of each page**: from asking for the page's URL (a new session, as a click on a link or a
  reload) until its title is on screen; and until it has settled (the script finished, every chart drawn,
  every image loaded). The first visit after the server starts is "cold"; the median of later visits "warm".
- **What if**: on the last uploaded photo, from clicking "What if a zone were hidden?" (both models on the five
  hidden zones) and from clicking another zone, until the models' new answers are on screen.
- **Analyse a photo**: from handing Chromium a runway-sized photo (1023×1536, the size of the real photo this
  was first measured on) until every result is on screen: both models' answers, the attention overlays, the
  nearest looks and the timing chart. The first upload after the server starts is "cold" (models loading);
  later uploads of other photos are "warm" (p50 and p95).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Row, Skip, median, percentile
from bench.photos import demo_photo_paths, jpeg_bytes

GOAL_SECONDS = 1.5
UPLOAD_SIZE = (1023, 1536)
TIMEOUT_S = 180


@dataclass(frozen=True)
class Sizes:
    page_repeats: int
    warm_uploads: int


FULL = Sizes(page_repeats=3, warm_uploads=7)
QUICK = Sizes(page_repeats=1, warm_uploads=2)


def upload_photos(settings, count: int, folder: Path) -> list[Path]:
    """`count` different runway-sized JPEGs made from demo photos (a new photo each upload: no cache hit)."""
    from PIL import Image

    from core.fileio import write_bytes_atomic

    sources = demo_photo_paths(settings, 400)[::7][:count]
    if len(sources) < count:
        raise Skip("needs the demo's photos: run `make run` first")
    photos = []
    for index, source in enumerate(sources):
        with Image.open(source) as photo:
            data = jpeg_bytes(photo.convert("RGB").resize(UPLOAD_SIZE, Image.Resampling.BICUBIC))
        photos.append(write_bytes_atomic(folder / f"upload-{index:02d}.jpg", data))
    return photos


def page_waits(driver, url: str, pages, repeats: int) -> dict:
    from bench.browser import settled, wait_for
    from dashboard.navigation import url_path

    waits = {}
    for _ in range(1 + repeats):  # round 0 is every page's cold visit
        for index, (file, title, _) in enumerate(pages):
            started = time.perf_counter()
            driver.get(f"{url}/{'' if index == 0 else url_path(file)}")
            loaded = time.perf_counter() - started
            painted, _ = wait_for(driver, lambda s, title=title: title in s["titles"], TIMEOUT_S)
            done, _ = wait_for(driver, lambda s, title=title: title in s["titles"] and settled(s), TIMEOUT_S)
            entry = waits.setdefault(title, {"first_paint_s": [], "settled_s": []})
            entry["first_paint_s"].append(round(loaded + painted, 3))
            entry["settled_s"].append(round(loaded + painted + done, 3))
    return {title: {"cold_first_paint_s": entry["first_paint_s"][0], "cold_settled_s": entry["settled_s"][0],
                    "warm_first_paint_s": median(entry["first_paint_s"][1:]),
                    "warm_settled_s": median(entry["settled_s"][1:]), "samples": entry}
            for title, entry in waits.items()}


def upload_waits(driver, url: str, photos: list[Path]) -> dict:
    """Seconds from handing over each photo until every result of it is on screen."""
    from selenium.webdriver.common.by import By

    from bench.browser import page_state, settled, wait_for

    driver.get(f"{url}/analyse")
    wait_for(driver, lambda s: "Analyse a photo" in s["titles"] and settled(s), TIMEOUT_S)
    seconds, counts = [], []
    for photo in photos:
        field = driver.find_element(By.CSS_SELECTOR, '[data-testid="stFileUploader"] input[type="file"]')
        started = time.perf_counter()
        field.send_keys(str(photo))

        def shown(state, name=photo.name):  # this photo's results, all drawn, the timing chart last
            return (f"Uploaded: {name}" in state["text"] and "Time per step" in state["text"]
                    and "Nearest runway looks" in state["text"] and state["charts"] > 0 and settled(state))

        handed_over = time.perf_counter() - started
        wait, state = wait_for(driver, shown, TIMEOUT_S)
        seconds.append(round(handed_over + wait, 3))
        counts.append((state["charts"], state["images"]))
    time.sleep(2.0)  # anything still arriving after the last "done" would show the check stopped early
    final = page_state(driver)
    return {"cold_s": seconds[0], "warm_s": seconds[1:], "charts_and_images_at_done": counts,
            "charts_and_images_after_2s": (final["charts"], final["images"]), **what_if_waits(driver)}


def what_if_waits(driver) -> dict:
    """On the last uploaded photo: turning "what if" on (both models on the five hidden zones), then
    switching the hidden zone, each until the models' new answers are on screen."""
    from selenium.webdriver.common.by import By

    from bench.browser import settled, wait_for

    def answered(zone: str):
        return lambda state: f"without the {zone}" in state["text"] and settled(state)

    def seconds_until(element, done) -> float:
        clicked = time.perf_counter()
        element.click()
        handed_over = time.perf_counter() - clicked
        wait, _ = wait_for(driver, done, TIMEOUT_S)
        return round(handed_over + wait, 3)

    toggle = driver.find_element(By.XPATH, "//label[contains(., 'What if a zone were hidden')]")
    turned_on = seconds_until(toggle, answered("head"))
    switches = []
    for zone in ("torso", "legs", "feet", "background", "head"):
        button = driver.find_element(By.XPATH, f"//*[@data-testid='stButtonGroup']//button[normalize-space(.)='{zone}']")
        switches.append(seconds_until(button, answered(zone)))
    return {"what_if_on_s": turned_on, "what_if_switch_s": switches}


def run(settings, quick: bool = False) -> dict:
    from bench.browser import browser_missing, chromium_driver, dashboard_server
    from bench.dashboard_render import demo_runs_evaluated
    from dashboard.navigation import PAGES

    missing = browser_missing()
    if missing:
        raise Skip(f"needs {', '.join(missing)} (apt-get install chromium chromium-driver)")
    if len(demo_runs_evaluated(settings)) < 2:
        raise Skip("needs the demo's evaluated raw and nobg runs: run `make run` first")
    sizes = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        photos = upload_photos(settings, 1 + sizes.warm_uploads, Path(tmp))
        # Two servers, so each measurement starts cold: pages first, then uploads.
        with dashboard_server(settings.paths.root, Path(tmp) / "pages.log") as url, chromium_driver() as driver:
            pages = page_waits(driver, url, PAGES, sizes.page_repeats)
        with dashboard_server(settings.paths.root, Path(tmp) / "uploads.log") as url, chromium_driver() as driver:
            uploads = upload_waits(driver, url, photos)
    warm = uploads["warm_s"]
    worst_paint = max(entry["warm_first_paint_s"] for entry in pages.values())
    return {
        "upload_size": f"{UPLOAD_SIZE[0]}×{UPLOAD_SIZE[1]}",
        "pages": pages,
        "analyse_cold_s": uploads["cold_s"],
        "analyse_warm_s": warm,
        "charts_and_images_at_done": uploads["charts_and_images_at_done"],
        "charts_and_images_after_2s": uploads["charts_and_images_after_2s"],
        "what_if_on_s": uploads["what_if_on_s"],
        "what_if_switch_s": uploads["what_if_switch_s"],
        "what_if_switch_p50_s": round(median(uploads["what_if_switch_s"]), 3),
        "analyse_warm_p50_s": round(median(warm), 3),
        "analyse_warm_p95_s": round(percentile(warm, 95), 3),
        "worst_warm_first_paint_s": worst_paint,
        "goal": f"warm analyse ≤ {GOAL_SECONDS:g} s p50; each page's first paint ≤ {GOAL_SECONDS:g} s",
        "goal_met": median(warm) <= GOAL_SECONDS and worst_paint <= GOAL_SECONDS,
    }


def rows(result: dict) -> list[Row]:
    goal = f"≤ {GOAL_SECONDS:g} s"
    out = [
        Row("Analyse a photo in Chromium, cold (first upload)", result["analyse_cold_s"], "s"),
        Row("Analyse a photo in Chromium, warm p50", result["analyse_warm_p50_s"], "s", goal,
            result["analyse_warm_p50_s"] <= GOAL_SECONDS),
        Row("Analyse a photo in Chromium, warm p95", result["analyse_warm_p95_s"], "s"),
        Row("What if: turned on (5 zones × both models)", result["what_if_on_s"], "s", goal,
            result["what_if_on_s"] <= GOAL_SECONDS),
        Row("What if: another zone hidden, p50", result["what_if_switch_p50_s"], "s", goal,
            result["what_if_switch_p50_s"] <= GOAL_SECONDS),
    ]
    for title, entry in result["pages"].items():
        out.append(Row(f"{title}: first paint, warm", entry["warm_first_paint_s"], "s", goal,
                       entry["warm_first_paint_s"] <= GOAL_SECONDS))
        out.append(Row(f"{title}: first paint, cold", entry["cold_first_paint_s"], "s"))
        out.append(Row(f"{title}: settled, warm", entry["warm_settled_s"], "s"))
    return out


def notes(result: dict) -> list[str]:
    return [
        f"Browser waits: headless Chromium on `streamlit run` over the demo runs, on this machine; the uploads are "
        f"{result['upload_size']} JPEGs made from different demo photos (no cache hit on the photo). Warm analyse "
        f"samples: {result['analyse_warm_s']} s. First paint is the page's title on screen; settled is the script "
        "finished with every chart drawn and every image loaded. Charts and images on screen when each upload was "
        f"counted done: {result['charts_and_images_at_done']}; 2 s after the last: "
        f"{result['charts_and_images_after_2s']}.",
    ]
