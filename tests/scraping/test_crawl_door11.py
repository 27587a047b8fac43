"""Crawls of the door11 fixture site over real HTTP: the CSV, filters, resume, and every failure kind."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from core.config import RUNWAY_CSV_COLUMNS, RUNWAY_CSV_EXTRA_COLUMNS, get_settings
from scraping.__main__ import main

REPO_ROOT = Path(__file__).resolve().parents[2]
CHANEL = "chanel-couture-spring-summer-2023-paris-fashion-week"
VERSACE = "versace-ready-to-wear-spring-summer-2024-milan-fashion-week"
RICK_2010 = "rick-owens-menswear-fall-winter-2010-paris-fashion-week"
PRADA = "prada-ready-to-wear-fall-winter-2022-milan-fashion-week"
DRIES = "dries-van-noten-fall-winter-2019-paris-fashion-week"


def out_dir(workspace: Path) -> Path:
    return workspace / "scrapes" / "door11"


def image_hits(server) -> list:
    return [h for h in server.requested() if h.path.startswith("/wp-content/")]


def body_of(server, path: str) -> bytes:
    return server.routes[path][-1].body


def test_full_crawl_writes_the_thesis_csv_from_the_saved_files(door11, server, run_crawl, workspace, kit):
    summary = run_crawl("door11", door11.base_url)
    out = out_dir(workspace)
    columns, rows = kit.read_rows(out / "runway.csv")

    # The thesis's figure 3.1 columns first, in its order, then the extras.
    assert columns[:11] == kit.THESIS_COLUMNS
    assert columns == list(RUNWAY_CSV_COLUMNS + RUNWAY_CSV_EXTRA_COLUMNS)
    assert columns[11:] == kit.EXTRA_COLUMNS
    assert len(rows) == 11 and summary.images_saved == 11 and summary.rows_in_csv == 11
    assert not summary.failed and not summary.skipped
    assert (
        summary.collections == 5 and summary.pages_fetched == 3 + 5
    )  # 3 listing pages (the last empty), 5 collections
    assert {r["image_url"] for r in rows} == {
        door11.base_url + p for p in door11.all_image_paths
    }  # ?lossy=1&ssl=1 stripped
    assert not server.requested(kit.LOGO_PATH)
    assert {h.user_agent for h in server.requested()} == {get_settings().scrape.user_agent}

    for row in rows:
        assert not Path(row["image_path"]).is_absolute() and ".." not in row["image_path"]
        path = out / "images" / row["image_path"]
        with Image.open(path) as image:
            assert (int(row["image_width"]), int(row["image_height"])) == image.size == (40, 60)
            assert (row["image_format"], row["image_mode"]) == (image.format, image.mode) == ("JPEG", "RGB")
        assert int(row["image_size"]) == path.stat().st_size
        assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert row["scraped_at"].endswith("+00:00")

    chanel = [r for r in rows if r["brand"] == "Chanel"]
    assert [r["image_alt"] for r in chanel] == ["Look 1", "Look 2", "Look 3"]  # gallery order
    first = chanel[0]
    assert first["collection_url"] == f"{door11.base_url}/{CHANEL}/"
    assert first["image_name"] == "Chanel-Couture-Spring-Summer-2023-Paris-Fashion-Week-Runway-001.jpg"
    assert first["image_path"] == f"chanel/{CHANEL}/Chanel-Couture-Spring-Summer-2023-Paris-Fashion-Week-Runway-001.jpg"
    assert (first["season"], first["year"], first["city"], first["show_type"]) == (
        "spring-summer",
        "2023",
        "Paris",
        "couture",
    )
    dries = next(r for r in rows if r["collection_url"].endswith(f"/{DRIES}/"))
    assert (dries["brand"], dries["season"], dries["year"], dries["show_type"]) == (
        "Dries Van Noten",
        "fall-winter",
        "2019",
        "",
    )
    assert {r["brand"] for r in rows} == {"Chanel", "Rick Owens", "Versace", "Prada", "Dries Van Noten"}

    written = json.loads((out / "scrape_summary.json").read_text())
    assert written["images_saved"] == 11 and written["bytes_saved"] == sum(int(r["image_size"]) for r in rows)


def test_brands_and_since_filters_skip_without_fetching(door11, server, workspace, kit, capsys):
    code = main(
        [
            "crawl",
            "--no-progress",
            "--source",
            "door11",
            "--base-url",
            door11.base_url,
            "--brands",
            "Chanel, Rick Owens,Dries Van Noten,Versace",
            "--since",
            "2011",
            "--delay",
            "0",
        ]
    )
    assert code == 0
    _, rows = kit.read_rows(out_dir(workspace) / "runway.csv")
    assert {r["brand"] for r in rows} == {"Chanel", "Versace", "Dries Van Noten"}
    assert len(rows) == 3 + 2 + 2 and min(int(r["year"]) for r in rows) >= 2011
    assert not server.requested(f"/{RICK_2010}/") and not server.requested(f"/{PRADA}/")
    summary = json.loads((out_dir(workspace) / "scrape_summary.json").read_text())
    assert summary["skipped"] == {"collection:before_since": 1, "collection:brand_filter": 1}
    printed = capsys.readouterr().out
    assert "saved:       7 images" in printed and "collection:brand_filter 1" in printed


def test_since_stops_paging_once_a_whole_listing_page_is_older(server, run_crawl, kit):
    site = kit.build_door11(
        server,
        pages=[
            [CHANEL],
            [
                "chanel-couture-fall-winter-2009-paris-fashion-week",
                "chanel-couture-spring-summer-2008-paris-fashion-week",
            ],
            ["chanel-couture-spring-summer-2007-paris-fashion-week"],
        ],
    )
    summary = run_crawl("door11", site.base_url, since=2011)
    assert summary.images_saved == 3
    assert server.requested("/?query-0-page=2") and not server.requested("/?query-0-page=3")


def test_rerun_fetches_nothing_already_saved(door11, server, run_crawl, workspace, kit):
    run_crawl("door11", door11.base_url)
    server.clear_hits()
    summary = run_crawl("door11", door11.base_url)
    # Pages come from the cache; only robots.txt and the empty page past the end (never cached) are asked again.
    assert {h.path for h in server.requested()} == {"/robots.txt", "/?query-0-page=3"}
    assert summary.images_saved == 0 and summary.skipped == {"image:already_saved": 11}
    assert summary.pages_from_cache == 2 + 5
    _, rows = kit.read_rows(out_dir(workspace) / "runway.csv")
    assert len(rows) == 11


def test_robots_txt_disallow_is_obeyed_and_reported(door11, server, run_crawl, workspace, kit):
    disallowed_image = door11.images[CHANEL][1]
    server.route(
        "/robots.txt",
        kit.Reply(
            body=(
                f"User-agent: RunwayLens\nDisallow: /{VERSACE}/\nDisallow: {disallowed_image}\n\nUser-agent: *\nDisallow: /\n"
            ).encode(),
            content_type="text/plain",
        ),
    )
    summary = run_crawl("door11", door11.base_url)
    assert not server.requested(f"/{VERSACE}/") and not server.requested(disallowed_image)
    assert summary.skipped == {"page:robots_disallowed": 1, "image:robots_disallowed": 1}
    assert summary.images_saved == 11 - 2 - 1
    with open(out_dir(workspace) / "failures.csv", newline="") as fh:
        reported = {(r["url"], r["reason"]) for r in csv.DictReader(fh)}
    assert reported == {
        (f"{door11.base_url}/{VERSACE}/", "robots_disallowed"),
        (door11.base_url + disallowed_image, "robots_disallowed"),
    }


def test_429_retry_after_is_honoured(door11, server, run_crawl, kit):
    path = door11.images[CHANEL][0]
    server.route(
        path,
        kit.Reply(429, b"slow down", headers={"Retry-After": "1"}),
        kit.Reply(body=body_of(server, path), content_type="image/jpeg"),
    )
    summary = run_crawl("door11", door11.base_url, brands=("Chanel",))
    hits = server.requested(path)
    assert len(hits) == 2
    assert hits[1].at - hits[0].at >= 0.95  # the backoff alone is 0.05 s: the wait came from Retry-After
    assert summary.images_saved == 3 and not summary.failed


def test_retry_after_beyond_the_cap_gives_up_at_once(door11, server, run_crawl, kit):
    path = door11.images[CHANEL][0]
    server.route(path, kit.Reply(429, b"come back tomorrow", headers={"Retry-After": "86400"}))
    started = time.monotonic()
    summary = run_crawl("door11", door11.base_url, brands=("Chanel",), scrape_changes={"max_retry_after_seconds": 5})
    assert time.monotonic() - started < 5
    assert summary.failed == {"image:http_429": 1} and len(server.requested(path)) == 1


def test_500_then_200_is_retried(door11, server, run_crawl, kit):
    page = f"/{CHANEL}/"
    image = door11.images[CHANEL][2]
    server.route(page, kit.Reply(500, b"oops"), server.routes[page][-1])
    server.route(
        image,
        kit.Reply(503, b"busy"),
        kit.Reply(502, b"busy"),
        kit.Reply(body=body_of(server, image), content_type="image/jpeg"),
    )
    summary = run_crawl("door11", door11.base_url, brands=("Chanel",))
    assert len(server.requested(page)) == 2 and len(server.requested(image)) == 3
    assert summary.images_saved == 3 and not summary.failed


def test_persistent_500_fails_after_the_retries(door11, server, run_crawl, kit):
    page = f"/{CHANEL}/"
    server.route(page, kit.Reply(500, b"down"))
    summary = run_crawl("door11", door11.base_url, brands=("Chanel",))
    assert len(server.requested(page)) == 3  # max_retries=2 in the test settings
    assert summary.failed == {"page:http_500": 1} and summary.images_saved == 0


def test_timeouts_are_retried_then_reported(door11, server, run_crawl, kit):
    slow, stuck = door11.images[CHANEL][:2]
    slow_body, stuck_body = body_of(server, slow), body_of(server, stuck)
    server.route(
        slow,
        kit.Reply(body=slow_body, content_type="image/jpeg", delay=1.0),
        kit.Reply(body=slow_body, content_type="image/jpeg"),
    )
    server.route(stuck, kit.Reply(body=stuck_body, content_type="image/jpeg", delay=1.0))
    summary = run_crawl(
        "door11", door11.base_url, brands=("Chanel",), scrape_changes={"timeout_seconds": 0.3, "max_retries": 1}
    )
    assert summary.failed == {"image:timeout": 1}
    assert summary.images_saved == 2
    assert len(server.requested(stuck)) == 2 and len(server.requested(slow)) == 2


def test_broken_photos_are_failures_not_rows(door11, server, run_crawl, workspace, kit):
    paths = door11.images[CHANEL]
    big = kit.make_jpeg(size=(200, 300))
    server.route(paths[0], kit.Reply(body=big[: len(big) // 2], content_type="image/jpeg"))  # truncated
    server.route(paths[1], kit.Reply(body=b"<!doctype html><html><body>Login</body></html>", content_type="text/html"))
    missing = "/wp-content/uploads/2023/06/missing.jpg"  # no route: 404
    door11.set_collection(CHANEL, paths + [missing])

    summary = run_crawl("door11", door11.base_url, brands=("Chanel",))

    assert summary.failed == {"image:damaged_image": 1, "image:html_not_image": 1, "image:http_404": 1}
    assert "image:damaged_image 1" in summary.format() and "image:html_not_image 1" in summary.format()
    _, rows = kit.read_rows(out_dir(workspace) / "runway.csv")
    assert [r["image_url"] for r in rows] == [door11.base_url + paths[2]]
    assert [p.name for p in (out_dir(workspace) / "images").rglob("*") if p.is_file()] == [Path(paths[2]).name]
    with open(out_dir(workspace) / "failures.csv", newline="") as fh:
        assert {r["reason"] for r in csv.DictReader(fh)} == {"damaged_image", "html_not_image", "http_404"}


def test_the_same_photo_under_two_urls_is_saved_once(door11, server, run_crawl, workspace, kit):
    first, second, _ = door11.images[CHANEL]
    server.route(second, kit.Reply(body=body_of(server, first), content_type="image/jpeg"))
    summary = run_crawl("door11", door11.base_url, brands=("Chanel",))
    _, rows = kit.read_rows(out_dir(workspace) / "runway.csv")
    assert len(rows) == 2 and len({r["sha256"] for r in rows}) == 2
    assert summary.skipped["image:duplicate_content"] == 1 and summary.skipped["collection:brand_filter"] == 4
    assert len([p for p in (out_dir(workspace) / "images").rglob("*") if p.is_file()]) == 2


def test_hostile_file_names_stay_inside_the_output_folder(door11, server, run_crawl, workspace, tmp_path, kit):
    long_name = "x" * 300 + ".jpg"
    paths = [
        "/uploads/..%2F..%2F..%2F..%2Fescape.jpg",
        "/uploads/..%5C..%5Cwin-escape.jpg",
        "/a/look.jpg",
        "/b/look.jpg",  # same name, other photo: no collision
        f"/uploads/{long_name}",
        "/uploads/page.html",  # a photo behind an .html name is saved as .jpg
    ]
    for path in paths:
        server.route(path, kit.Reply(body=kit.make_jpeg(), content_type="image/jpeg"))
    door11.set_collection(CHANEL, paths)

    summary = run_crawl("door11", door11.base_url, brands=("Chanel",))

    assert summary.images_saved == 6 and not summary.failed
    images = (out_dir(workspace) / "images").resolve()
    _, rows = kit.read_rows(out_dir(workspace) / "runway.csv")
    saved = [(images / r["image_path"]).resolve() for r in rows]
    assert all(p.is_relative_to(images) and p.is_file() for p in saved)
    assert {p.name for p in saved} == {
        "escape.jpg",
        "win-escape.jpg",
        "look.jpg",
        "look-2.jpg",
        "x" * 116 + ".jpg",
        "page.jpg",
    }
    assert max(len(p.name) for p in saved) <= get_settings().scrape.max_name_length
    strays = [p for p in tmp_path.rglob("*escape*") if not p.resolve().is_relative_to(images)]
    assert strays == []


def test_malformed_page_is_logged_counted_and_not_cached(door11, server, run_crawl, workspace, caplog, kit):
    server.route(f"/{VERSACE}/", kit.Reply(body=b"<html><body><p>No gallery</p></body></html>"))
    with caplog.at_level(logging.WARNING):
        summary = run_crawl("door11", door11.base_url)
    assert summary.failed == {"page:malformed_page": 1} and summary.images_saved == 9
    assert f"{door11.base_url}/{VERSACE}/" in caplog.text
    server.clear_hits()
    run_crawl("door11", door11.base_url)
    assert len(server.requested(f"/{VERSACE}/")) == 1  # a broken page is fetched again next run


def test_dump_html_saves_the_raw_pages(door11, run_crawl, workspace):
    run_crawl("door11", door11.base_url, brands=("Chanel",), dump_html=True)
    dumped = sorted((out_dir(workspace) / "html").glob("*.html"))
    assert len(dumped) == 2 + 1  # the two listing pages with posts, and the one Chanel collection
    assert any(b"pgcsimplygalleryblock-masonry-content" in p.read_bytes() for p in dumped)
    assert any(b"wp-block-post-featured-image" in p.read_bytes() for p in dumped)


def test_delay_spaces_the_requests_to_a_host(server, run_crawl, kit):
    site = kit.build_door11(server, pages=[[CHANEL]], images_per_collection={CHANEL: 1})
    run_crawl("door11", site.base_url, scrape_changes={"delay_seconds": 0.25})
    times = [h.at for h in server.requested()]
    assert len(times) == 5  # robots.txt, listing 1, the collection, its photo, listing 2
    # Stamped by the server's thread, so a loaded machine can shift one stamp a little; without the delay
    # the gaps are a few milliseconds.
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.2


def test_half_written_row_is_dropped_and_its_photo_fetched_again(door11, server, run_crawl, workspace, kit):
    run_crawl("door11", door11.base_url, brands=("Chanel",))
    csv_path = out_dir(workspace) / "runway.csv"
    data = csv_path.read_bytes()
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[1]
    csv_path.write_bytes(data[: len(data) - len(last) // 2 - 1])  # a kill in the middle of the last row
    server.clear_hits()

    summary = run_crawl("door11", door11.base_url, brands=("Chanel",))

    _, rows = kit.read_rows(csv_path)
    assert len(image_hits(server)) == 1 and summary.images_saved == 1
    assert len(rows) == 3 and len({r["image_url"] for r in rows}) == 3
    assert rows[2]["image_path"].endswith("Runway-003.jpg")  # the file left by the first run is reused, no "-2"
    assert csv_path.read_bytes().endswith(b"\n")


def test_killed_crawl_resumes_without_duplicates(door11, server, run_crawl, workspace, kit):
    for path in door11.all_image_paths:  # slow photos, so the kill lands mid-crawl
        server.route(path, kit.Reply(body=body_of(server, path), content_type="image/jpeg", delay=0.2))
    csv_path = out_dir(workspace) / "runway.csv"
    env = {**os.environ, "RUNWAY_LENS_WORKSPACE": str(workspace)}
    command = [sys.executable, "-m", "scraping", "crawl", "--no-progress", "--source", "door11"]
    command += ["--base-url", door11.base_url, "--delay", "0", "--concurrency", "1"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    try:
        while not (csv_path.exists() and csv_path.read_bytes().count(b"\n") >= 1 + 3):
            assert process.poll() is None, process.communicate()[1].decode()
            assert time.monotonic() < deadline, "the crawl did not save 3 photos in 30 s"
            time.sleep(0.05)
    finally:
        process.kill()
        process.communicate()
    rows_before = csv_path.read_bytes().count(b"\n") - 1
    assert 3 <= rows_before < 11
    _, saved_before = kit.read_rows(csv_path)
    pages_before = {r["collection_url"].removeprefix(door11.base_url) for r in saved_before}
    for path in door11.all_image_paths:
        server.route(path, kit.Reply(body=body_of(server, path), content_type="image/jpeg"))
    server.clear_hits()

    summary = run_crawl("door11", door11.base_url)

    _, rows = kit.read_rows(csv_path)
    assert len(rows) == 11
    assert len({r["image_url"] for r in rows}) == 11 and len({r["sha256"] for r in rows}) == 11
    assert len(image_hits(server)) == 11 - rows_before == summary.images_saved
    assert not [h for h in server.requested() if h.path in pages_before]  # pages come from the cache
    images = out_dir(workspace) / "images"
    assert sorted(p.relative_to(images).as_posix() for p in images.rglob("*") if p.is_file()) == sorted(
        r["image_path"] for r in rows
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["crawl", "--source", "door11", "--since", "soon"], "not a whole number"),
        (["crawl", "--source", "door11", "--base-url", "ftp://example.org"], "not an http(s) URL"),
        (["crawl", "--source", "door11", "--delay", "-1"], "is negative"),
        (["crawl", "--source", "door11", "--brands", " , "], "no brand names"),
        (["crawl", "--source", "nowfashion"], "invalid choice"),
    ],
)
def test_bad_arguments_get_one_clear_message(workspace, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unusable_output_folders_are_user_errors(workspace, tmp_path, capsys, kit):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    assert main(["crawl", "--source", "door11", "--out", str(a_file), "--base-url", "http://127.0.0.1:9"]) == 2
    assert "is a file" in capsys.readouterr().err
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "runway.csv").write_text("path,label\na.jpg,chanel\n")
    assert main(["crawl", "--source", "door11", "--out", str(foreign), "--base-url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "choose another --out folder" in err
    assert (foreign / "runway.csv").read_text() == "path,label\na.jpg,chanel\n"  # nothing lost


def test_a_collection_listed_twice_is_visited_once(server, run_crawl, kit):
    site = kit.build_door11(server, pages=[[CHANEL], [CHANEL, VERSACE]])  # new posts shift a listing mid-crawl
    summary = run_crawl("door11", site.base_url)
    assert summary.collections == 2 and summary.images_saved == 5 and not summary.skipped
    assert len(server.requested(f"/{CHANEL}/")) == 1


def test_ctrl_c_stops_cleanly_and_the_rerun_completes(door11, server, workspace, kit, capsys, monkeypatch):
    from scraping.engine import Crawl

    record = Crawl.record
    calls = []

    def interrupted_after_four(self, *args):
        if len(calls) == 4:
            raise KeyboardInterrupt
        calls.append(1)
        record(self, *args)

    monkeypatch.setattr(Crawl, "record", interrupted_after_four)
    argv = ["crawl", "--no-progress", "--source", "door11", "--base-url", door11.base_url, "--delay", "0"]
    assert main(argv) == 130
    assert "INTERRUPTED, rerun the same command to resume" in capsys.readouterr().out
    assert len(kit.read_rows(out_dir(workspace) / "runway.csv")[1]) == 4
    monkeypatch.setattr(Crawl, "record", record)
    assert main(argv) == 0
    _, rows = kit.read_rows(out_dir(workspace) / "runway.csv")
    assert len(rows) == 11 and len({r["sha256"] for r in rows}) == 11


# --- listing pages: where the thesis author's scraper started, and the site's own pagination ---------------


def _collections_at(server, kit, listings: dict[str, list[str]], next_links: dict[str, str] | None = None):
    """A door11 site whose listing pages are exactly these paths, with a "next" link where `next_links` gives one."""
    site = kit.build_door11(server, pages=[])
    server.routes.pop("/?query-0-page=1", None)  # only the listings below exist
    for path, slugs in listings.items():
        next_path = (next_links or {}).get(path)
        link = site.base_url + next_path if next_path else None
        server.route(path, kit.Reply(body=kit.door11_listing(site.base_url, slugs, next_href=link)))
        for slug in slugs:
            photo = kit.door11_image_path(slug, 1)
            server.route(photo, kit.Reply(body=kit.make_jpeg(), content_type="image/jpeg"))
            site.set_collection(slug, [photo])
    return site


def test_the_first_listing_page_is_page_0_where_the_author_started(server, run_crawl, kit):
    site = _collections_at(server, kit, {"/?query-0-page=0": [CHANEL], "/?query-0-page=1": [VERSACE],
                                         "/?query-0-page=2": []})
    summary = run_crawl("door11", site.base_url)
    assert summary.collections == 2 and not summary.failed
    assert server.requested(f"/{CHANEL}/") and server.requested(f"/{VERSACE}/")


def test_the_sites_own_next_link_is_followed(server, run_crawl, kit):
    site = _collections_at(server, kit, {"/?query-0-page=0": [CHANEL], "/listing/older/": [VERSACE, PRADA]},
                           next_links={"/?query-0-page=0": "/listing/older/"})
    summary = run_crawl("door11", site.base_url)
    assert summary.collections == 3 and not summary.failed
    # the last linked page has no next link: the listing ends there, no numbered page is guessed
    assert not server.requested("/?query-0-page=1")


def test_a_collection_on_two_listing_pages_counts_once(server, run_crawl, kit):
    site = _collections_at(server, kit, {"/?query-0-page=0": [CHANEL, VERSACE], "/?query-0-page=1": [VERSACE, PRADA],
                                         "/?query-0-page=2": []})
    summary = run_crawl("door11", site.base_url)
    assert summary.collections == 3 and summary.images_saved == 3
    assert len(server.requested(f"/{VERSACE}/")) == 1


def test_a_404_ends_the_listing(server, run_crawl, kit):
    site = _collections_at(server, kit, {"/?query-0-page=0": [CHANEL], "/?query-0-page=1": [VERSACE]})
    summary = run_crawl("door11", site.base_url)  # /?query-0-page=2 answers 404
    assert summary.collections == 2 and not summary.failed and summary.images_saved == 2
    assert server.requested("/?query-0-page=2") and not server.requested("/?query-0-page=3")
