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


def _paged_designer(server, kit, designer: str, pages: list[list[str]]) -> dict[str, list[str]]:
    """A designer whose show list spans pages: the bare designer URL first, then ?page=2 …, each page
    linking the next with rel=next (the last links none; page 2 relists page 1's last show)."""
    site = kit.build_vogue(server, shows={designer: [season for page in pages for season in page]})
    base = f"/fashion-shows/designer/{designer}"
    urls = [base] + [f"{base}?page={n}" for n in range(2, len(pages) + 1)]
    for n, seasons in enumerate(pages):
        links = "".join(f'<a data-testid="SummaryItemSimple" href="/fashion-shows/{s}/{designer}">{s}</a>'
                        for s in seasons)
        if n + 1 < len(pages):
            links += f'<nav><a rel="next" href="{urls[n + 1]}">Next</a></nav>'
        server.route(urls[n], kit.Reply(body=f"<html><body>{links}</body></html>".encode()))
    return site.looks


def test_a_designer_list_over_several_pages_is_collected_from_first_to_last_page_once(server, run_crawl, workspace,
                                                                                         kit):
    pages = [["spring-2024-ready-to-wear", "fall-2023-ready-to-wear"],
             ["fall-2023-ready-to-wear", "spring-2023-couture"],
             ["resort-2022", "fall-2021-menswear"]]
    looks = _paged_designer(server, kit, "chanel", pages)
    kit.build_vogue(server, shows={"rick-owens": ["fall-2023-menswear"]})  # the designer after the paged one
    summary = run_crawl("vogue", server.base_url, brands=("Chanel", "Rick Owens"))
    _, every_row = kit.read_rows(workspace / "scrapes" / "vogue" / "runway.csv")
    rows = [r for r in every_row if r["brand"] == "Chanel"]
    assert {r["brand"] for r in every_row} == {"Chanel", "Rick Owens"}  # the last page ends one designer's list only
    shows = [r["collection_url"].removeprefix(server.base_url) for r in rows]
    every_show = {f"/fashion-shows/{s}/chanel" for page in pages for s in page}
    assert set(shows) == every_show  # the first page's and the last page's shows too
    assert sorted(r["image_url"] for r in rows) == sorted(server.base_url + p for s in every_show for p in looks[s])
    assert len(server.requested("/fashion-shows/fall-2023-ready-to-wear/chanel")) == 1  # listed twice, visited once
    assert summary.collections == 6 and not summary.failed
