"""A real HTTP server on 127.0.0.1 serving fixture copies of door11 and Vogue Runway, plus crawl helpers.

Pages follow each site's structure as `scraping/sources/*` documents it; photos are small JPEGs
made with Pillow, each a different colour so their hashes differ. Every route can answer a
sequence (e.g. 500 then 200), delay its answer (timeouts), break off its body midway, and every
request is logged.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from core.config import get_settings

THESIS_COLUMNS = [
    "collection_url",
    "image_url",
    "image_alt",
    "image_name",
    "image_path",
    "image_size",
    "image_width",
    "image_height",
    "image_format",
    "image_mode",
    "brand",
]
EXTRA_COLUMNS = ["season", "year", "city", "show_type", "sha256", "scraped_at"]

_colour_counter = iter(range(1, 10_000))


def make_jpeg(size=(40, 60), colour=None) -> bytes:
    """A small JPEG; without `colour`, each call gets a new one (so every photo has its own hash)."""
    if colour is None:
        n = next(_colour_counter)
        colour = ((n * 67) % 256, (n * 131) % 256, (n * 29 + 90) % 256)
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow server, for timeouts)
    cut_at: int | None = None  # send the headers and only this many body bytes, then drop the connection
    stall: float = 0.0  # with cut_at: seconds to stall mid-body before dropping (a timeout while reading it)


@dataclass(frozen=True)
class Hit:
    path: str
    at: float
    user_agent: str


class FixtureServer:
    """Routes are exact request paths (query included). A route with several replies plays them in order, then repeats the last."""

    def __init__(self):
        self.routes: dict[str, list[Reply]] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                with server._lock:
                    server.hits.append(Hit(self.path, time.monotonic(), self.headers.get("User-Agent", "")))
                    replies = server.routes.get(self.path)
                    reply = (
                        (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else Reply(404, b"not found")
                    )
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body if reply.cut_at is None else reply.body[: reply.cut_at])
                    if reply.cut_at is not None:
                        self.wfile.flush()
                        time.sleep(reply.stall)
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n", content_type="text/plain"))

    def route(self, path: str, *replies: Reply) -> None:
        with self._lock:
            self.routes[path] = list(replies)

    def requested(self, path: str | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if path is None or h.path == path]

    def clear_hits(self) -> None:
        with self._lock:
            self.hits.clear()


@pytest.fixture
def server():
    fixture = FixtureServer()
    fixture.thread.start()
    yield fixture
    fixture.httpd.shutdown()
    fixture.httpd.server_close()


# --- door11 ----------------------------------------------------------------------------------------
DOOR11_PAGES = [
    [
        "chanel-couture-spring-summer-2023-paris-fashion-week",
        "rick-owens-menswear-fall-winter-2010-paris-fashion-week",
        "versace-ready-to-wear-spring-summer-2024-milan-fashion-week",
    ],
    [
        "prada-ready-to-wear-fall-winter-2022-milan-fashion-week",
        "dries-van-noten-fall-winter-2019-paris-fashion-week",
    ],
]
LOGO_PATH = "/wp-content/uploads/2022/06/DOOR11-logo-BETA.png"


def door11_listing(base: str, slugs: list[str], next_href: str | None = None) -> bytes:
    """A WordPress query-loop listing; `next_href` renders its "Next Page" link."""
    pagination = (
        f'<nav class="wp-block-query-pagination"><a href="{next_href}" class="wp-block-query-pagination-next">'
        f"Next Page</a></nav>" if next_href else ""
    )
    posts = "".join(
        f'<li class="wp-block-post"><figure class="wp-block-post-featured-image">'
        f'<a href="{base}/{slug}/" target="_self"><img src="{base}/thumb-{i}.jpg" alt=""></a></figure>'
        f'<h2 class="wp-block-post-title"><a href="{base}/{slug}/">{slug}</a></h2></li>'
        for i, slug in enumerate(slugs)
    )
    return (
        f'<html><body><main><ul class="wp-block-post-template">{posts}</ul>{pagination}</main></body></html>'
    ).encode()


def door11_collection(base: str, image_srcs: list[str]) -> bytes:
    images = "".join(
        f'<div class="pgcsimplygalleryblock-masonry-item"><img src="{src}" alt="Look {i + 1}"></div>'
        for i, src in enumerate(image_srcs)
    )
    logo = f'<img src="{base}{LOGO_PATH}?lossy=1&amp;ssl=1" alt="DOOR11">'
    return (
        f'<html><body><h1 class="wp-block-heading">Show</h1><div class="pgcsimplygalleryblock-masonry-content">'
        f"{logo}{images}</div></body></html>"
    ).encode()


def door11_image_path(slug: str, n: int) -> str:
    name = "-".join(w.capitalize() for w in slug.split("-"))
    return f"/wp-content/uploads/2023/06/{name}-Runway-{n:03d}.jpg"


@dataclass
class Door11Site:
    server: FixtureServer
    pages: list[list[str]]
    images: dict[str, list[str]] = field(default_factory=dict)  # slug -> image paths

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def all_image_paths(self) -> list[str]:
        return [p for paths in self.images.values() for p in paths]

    def set_collection(self, slug: str, image_paths: list[str], query: str = "?lossy=1&amp;ssl=1") -> None:
        """Serve a collection page listing these photo paths (with door11's `?lossy=1&ssl=1`)."""
        self.images[slug] = image_paths
        srcs = [f"{self.base_url}{p}{query}" for p in image_paths]
        self.server.route(f"/{slug}/", Reply(body=door11_collection(self.base_url, srcs)))


def build_door11(server: FixtureServer, pages=DOOR11_PAGES, images_per_collection=None) -> Door11Site:
    site = Door11Site(server, [list(p) for p in pages])
    base = server.base_url
    for number, slugs in enumerate(site.pages, start=1):
        # Each page links the next, as WordPress does; the last one links the empty page past the end.
        listing = Reply(body=door11_listing(base, slugs, next_href=f"{base}/?query-0-page={number + 1}"))
        server.route(f"/?query-0-page={number}", listing)
        if number == 1:  # WordPress renders page 0 (the bare listing) as the first page
            server.route("/?query-0-page=0", listing)
        for slug in slugs:
            count = (images_per_collection or {}).get(slug, 3 if slug.startswith("chanel") else 2)
            paths = [door11_image_path(slug, n) for n in range(1, count + 1)]
            for path in paths:
                server.route(path, Reply(body=make_jpeg(), content_type="image/jpeg"))
            site.set_collection(slug, paths)
    # One page past the last: a listing without posts, as WordPress renders it.
    server.route(f"/?query-0-page={len(site.pages) + 1}", Reply(body=door11_listing(base, [])))
    server.route(LOGO_PATH, Reply(body=make_jpeg(), content_type="image/png"))
    return site


@pytest.fixture
def door11(server) -> Door11Site:
    return build_door11(server)


# --- Vogue Runway ----------------------------------------------------------------------------------
def vogue_state_script(galleries: list[list[dict]]) -> str:
    """`window.__PRELOADED_STATE__ = {...};` with slashes escaped as \\u002F, as Vogue serves it."""
    state = {
        "transformed": {
            "runwayShowGalleries": {
                "galleries": [
                    {"title": t, "items": items}
                    for t, items in zip(("Collection", "Details", "Beauty")[: len(galleries)], galleries, strict=True)
                ]
            }
        }
    }
    text = json.dumps(state).replace("/", "\\u002F")
    return f'<script type="text/javascript">window.__PRELOADED_STATE__ = {text};</script>'


def vogue_item(base: str, path: str, caption: str) -> dict:
    return {
        "caption": caption,
        "image": {
            "altText": caption,
            "sources": {
                "sm": {"url": f"{base}{path}?size=sm", "width": 320, "height": 480},
                "xxl": {"url": f"{base}{path}", "width": 1600, "height": 2400},
                "md": {"url": f"{base}{path}?size=md", "width": 640, "height": 960},
            },
        },
    }


@dataclass
class VogueSite:
    server: FixtureServer
    looks: dict[str, list[str]] = field(default_factory=dict)  # show path -> look photo paths
    details: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.server.base_url


VOGUE_SHOWS = {
    "chanel": ["spring-2024-couture", "fall-2010-ready-to-wear"],
    "rick-owens": ["fall-2023-menswear"],
}


def build_vogue(server: FixtureServer, shows=VOGUE_SHOWS) -> VogueSite:
    site = VogueSite(server)
    base = server.base_url
    for designer, seasons in shows.items():
        links = "".join(
            f'<div><a data-testid="SummaryItemSimple" href="/fashion-shows/{season}/{designer}"><h3>{season}</h3></a></div>'
            for season in seasons
        )
        links += '<a data-testid="SummaryItemSimple" href="/fashion-shows/designer/other">not a show</a>'
        server.route(f"/fashion-shows/designer/{designer}", Reply(body=f"<html><body>{links}</body></html>".encode()))
        for season in seasons:
            show = f"/fashion-shows/{season}/{designer}"
            looks = [f"/photos/{designer}-{season}-look-{n}.jpg" for n in range(1, 4 if designer == "chanel" else 3)]
            details = [f"/photos/{designer}-{season}-detail-{n}.jpg" for n in range(1, 3)]
            for path in looks + details:
                server.route(path, Reply(body=make_jpeg(), content_type="image/jpeg"))
            script = vogue_state_script(
                [
                    [vogue_item(base, p, f"Look {i + 1}") for i, p in enumerate(looks)],
                    [vogue_item(base, p, f"Detail {i + 1}") for i, p in enumerate(details)],
                ]
            )
            server.route(show, Reply(body=f"<html><head>{script}</head><body><h1>Show</h1></body></html>".encode()))
            site.looks[show] = looks
            site.details.extend(details)
    return site


@pytest.fixture
def vogue(server) -> VogueSite:
    return build_vogue(server)


# --- running crawls --------------------------------------------------------------------------------
@pytest.fixture
def fast_scrape(workspace):
    """The politeness settings with no delay and quick retries: politeness is tested where it is the subject."""
    return dataclasses.replace(
        get_settings().scrape,
        delay_seconds=0.0,
        backoff_seconds=0.05,
        max_backoff_seconds=0.2,
        timeout_seconds=3.0,
        max_retries=2,
    )


@pytest.fixture
def run_crawl(workspace, fast_scrape):
    """Crawl a fixture site in-process: `run_crawl("door11", base_url, out=..., brands=..., **scrape_changes)`."""
    from scraping.engine import CrawlPlan, crawl
    from scraping.sources import SOURCES

    def run(source: str, base_url: str, out: Path | None = None, scrape_changes: dict | None = None, **plan_fields):
        settings = get_settings()
        plan = CrawlPlan(
            source=SOURCES[source],
            out=out or settings.paths.scrapes / source,
            page_cache=settings.paths.cache / "pages",
            base_url=base_url,
            **plan_fields,
        )
        return crawl(plan, dataclasses.replace(fast_scrape, **(scrape_changes or {})), progress=False)

    return run


def read_rows(csv_path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(csv_path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture
def kit():
    """The helpers above for test modules (with --import-mode=importlib they cannot import conftest)."""
    import types

    return types.SimpleNamespace(
        Reply=Reply,
        make_jpeg=make_jpeg,
        read_rows=read_rows,
        build_door11=build_door11,
        build_vogue=build_vogue,
        door11_image_path=door11_image_path,
        door11_listing=door11_listing,
        THESIS_COLUMNS=THESIS_COLUMNS,
        EXTRA_COLUMNS=EXTRA_COLUMNS,
        LOGO_PATH=LOGO_PATH,
    )
