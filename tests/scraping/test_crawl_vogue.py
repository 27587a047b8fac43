"""Crawls of the Vogue Runway fixture site: designer pages, the embedded JSON state, looks only."""

from __future__ import annotations

import json
import logging

from scraping.__main__ import main
from scraping.sources.vogue import best_source, extract_state, look_images


def test_vogue_crawl_saves_the_looks_of_wanted_shows(vogue, server, run_crawl, workspace, kit):
    summary = run_crawl("vogue", vogue.base_url, brands=("Chanel", "Rick Owens"), since=2011)
    columns, rows = kit.read_rows(workspace / "scrapes" / "vogue" / "runway.csv")
    assert columns == kit.THESIS_COLUMNS + kit.EXTRA_COLUMNS
    assert summary.images_saved == 3 + 2 and len(rows) == 5 and not summary.failed
    assert summary.skipped == {"collection:before_since": 1}
    assert not server.requested("/fashion-shows/fall-2010-ready-to-wear/chanel")
    assert not [path for path in vogue.details if server.requested(path)]  # galleries after the first are not looks
    expected = {vogue.base_url + p for show, looks in vogue.looks.items() if "2010" not in show for p in looks}
    assert {r["image_url"] for r in rows} == expected  # the widest rendition (xxl), slashes decoded

    chanel = [r for r in rows if r["brand"] == "Chanel"]
    assert [r["image_alt"] for r in chanel] == ["Look 1", "Look 2", "Look 3"]
    first = chanel[0]
    assert first["collection_url"] == f"{vogue.base_url}/fashion-shows/spring-2024-couture/chanel"
    assert first["image_path"] == "chanel/spring-2024-couture/chanel-spring-2024-couture-look-1.jpg"
    assert (first["season"], first["year"], first["show_type"], first["city"]) == (
        "spring-summer",
        "2024",
        "couture",
        "",
    )
    rick = next(r for r in rows if r["brand"] == "Rick Owens")
    assert (rick["season"], rick["year"], rick["show_type"]) == ("fall-winter", "2023", "menswear")


def test_broken_json_and_missing_galleries_are_malformed_pages(vogue, server, run_crawl, caplog, kit):
    broken = "/fashion-shows/spring-2024-couture/chanel"
    server.route(
        broken,
        kit.Reply(
            body=b'<script>window.__PRELOADED_STATE__ = {"transformed": {"runwayShowGalleries": {"galleries": [ {"items": ;</script>'
        ),
    )
    empty = "/fashion-shows/fall-2023-menswear/rick-owens"
    server.route(
        empty,
        kit.Reply(body=b'<script>window.__PRELOADED_STATE__ = {"runwayShowGalleries": {"galleries": []}};</script>'),
    )
    with caplog.at_level(logging.WARNING):
        summary = run_crawl("vogue", vogue.base_url, brands=("Chanel", "Rick Owens"), since=2011)
    assert summary.failed == {"page:malformed_page": 2} and summary.images_saved == 0
    assert vogue.base_url + broken in caplog.text and vogue.base_url + empty in caplog.text
    assert "broken JSON" in caplog.text and "no galleries" in caplog.text


def test_vogue_defaults_to_the_thesis_brands_and_reports_unknown_designers(vogue, server, workspace):
    assert (
        main(
            [
                "crawl",
                "--no-progress",
                "--source",
                "vogue",
                "--base-url",
                vogue.base_url,
                "--delay",
                "0",
                "--since",
                "2011",
            ]
        )
        == 0
    )
    designer_pages = {h.path for h in server.requested() if h.path.startswith("/fashion-shows/designer/")}
    assert designer_pages == {
        "/fashion-shows/designer/rick-owens",
        "/fashion-shows/designer/dries-van-noten",
        "/fashion-shows/designer/versace",
        "/fashion-shows/designer/louis-vuitton",
        "/fashion-shows/designer/chanel",
        "/fashion-shows/designer/giorgio-armani",
    }
    summary = json.loads((workspace / "scrapes" / "vogue" / "scrape_summary.json").read_text())
    assert summary["failed"] == {"page:http_404": 4} and summary["images_saved"] == 5


def test_state_parsing_decodes_escaped_slashes_and_keeps_gallery_zero():
    html = (
        b'<script type="text/javascript">window.__PRELOADED_STATE__ = {"transformed": {"runwayShowGalleries": '
        b'{"galleries": [{"items": [{"caption": "<b>Look 1</b>", "image": {"sources": {"md": {"url": '
        b'"https:\\u002F\\u002Fassets.example\\u002Fa.jpg", "width": 640}}}}, {"image": {}}]}, '
        b'{"items": [{"image": {"sources": {"md": {"url": "https:\\u002F\\u002Fassets.example\\u002Fdetail.jpg"}}}}]}]}}};</script>'
    )
    refs = look_images(extract_state(html), "https://www.vogue.com/fashion-shows/x/y")
    assert [(r.url, r.alt) for r in refs] == [("https://assets.example/a.jpg", "Look 1")]


def test_best_source_prefers_the_widest_then_the_largest_name():
    sources = {"sm": {"url": "s", "width": 320}, "xl": {"url": "x", "width": 1280}, "lg": {"url": "l", "width": 1024}}
    assert best_source(sources) == "x"
    assert best_source({"md": {"url": "m"}, "xxl": {"url": "xx"}}) == "xx"
    assert best_source({"md": {"width": 3}}) == ""
