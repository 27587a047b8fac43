"""Vogue Runway (www.vogue.com/fashion-shows).

Site facts, and how sure we are of each. FACT = seen in several public Vogue Runway scrapers;
ASSUMPTION = our inference, checked only against our fixtures (use `--dump-html` to report a change).

- FACT: a designer's page is `https://www.vogue.com/fashion-shows/designer/<designer-slug>`, and its
  show links are `a[data-testid=SummaryItemSimple]`.
- ASSUMPTION: the designer slug is the brand slugified (`Giorgio Armani` → `giorgio-armani`), and the
  designer page's static HTML lists its shows. Where the list is paged, a page links the next one
  (`rel="next"`, or an anchor reading "Next"): the crawl follows the links from the bare designer URL
  (the first page) until a page has none (the last), then goes on to the next designer; a show listed
  on two pages is visited once. A "load more" button run by JavaScript alone is not followed.
- FACT: a show page is `/fashion-shows/<season-slug>/<designer-slug>`, season slugs like
  `spring-2024-ready-to-wear`, `fall-2023-menswear`, `resort-2024`, `spring-2023-couture`.
- FACT: the photos are in an embedded JSON state (`window.__PRELOADED_STATE__ = {…};`), at
  `transformed.runwayShowGalleries.galleries[0].items[i].image.sources`; gallery 0 holds the looks,
  later galleries hold details and beauty shots (not looks, so never downloaded). Slashes may be
  escaped as `\\u002F`. ASSUMPTION: `runwayShowGalleries` may sit elsewhere in the state, so it is
  searched for by key; `sources` maps size names (`sm` … `xxl`) to `{url, width, height}` and the
  widest is taken; an item's caption (or the image's `altText`) is its alt text.
- ASSUMPTION: the show's city is not in the URL, so the `city` column stays empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from scraping.names import slugify
from scraping.showinfo import ShowInfo, parse_vogue_season
from scraping.sources.base import ImageRef, PageFormatError, Source

DESIGNER_PATH = "/fashion-shows/designer/{slug}"
SHOW_LINKS = "a[data-testid=SummaryItemSimple]"
NEXT_PAGE_LINKS = 'a[rel~="next"], link[rel~="next"]'
DESIGNER_LIST = re.compile(r"^/fashion-shows/designer/(?P<designer>[a-z0-9-]+)(/|$)")
SHOW_PATH = re.compile(r"^/fashion-shows/(?!designer/)(?P<season>[a-z0-9-]+)/(?P<designer>[a-z0-9-]+)/?$")
STATE_ASSIGNMENT = re.compile(r"window\.__PRELOADED_STATE__\s*=\s*")
SIZE_ORDER = ("xxl", "xl", "lg", "md", "sm", "xs")


def _designer_list(url: str) -> tuple[str, str] | None:
    """(host, designer slug) of a designer page or any page of its list (`?page=2`, `/page/2`)."""
    parts = urlsplit(url)
    match = DESIGNER_LIST.match(parts.path)
    return (parts.netloc, match.group("designer")) if match else None


def extract_state(html: bytes) -> dict:
    """The embedded JSON state holding `runwayShowGalleries`; `PageFormatError` if missing or broken."""
    soup = BeautifulSoup(html, "html.parser")
    for script in soup.find_all("script"):
        text = script.string or script.get_text() or ""
        if "runwayShowGalleries" not in text:
            continue
        match = STATE_ASSIGNMENT.search(text)
        start = match.end() if match else text.find("{")
        if start < 0:
            break
        # `\u002F` is valid JSON for "/", but decoding it up front also rescues states that are
        # not quite JSON around it (the issue seen in scrapers that regex the page).
        payload = text[start:].replace("\\u002F", "/").lstrip()
        try:
            state, _ = json.JSONDecoder().raw_decode(payload)
        except json.JSONDecodeError as exc:
            raise PageFormatError(f"broken JSON in the page state ({exc.msg} at char {exc.pos})") from None
        if not isinstance(state, dict):
            raise PageFormatError("the page state is not a JSON object")
        return state
    raise PageFormatError("no embedded JSON state with runwayShowGalleries on the page")


def find_key(node, key: str):
    """The first value stored under `key` anywhere in nested dicts and lists (depth first), else None."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if key in current:
                return current[key]
            stack.extend(reversed(list(current.values())))
        elif isinstance(current, list):
            stack.extend(reversed(current))
    return None


def best_source(sources: dict) -> str:
    """The URL of the widest rendition (by `width`, else by size name), or "" if none."""
    candidates = [(name, s) for name, s in sources.items() if isinstance(s, dict) and s.get("url")]
    if not candidates:
        return ""

    def rank(item):
        name, source = item
        width = source.get("width")
        order = SIZE_ORDER.index(name) if name in SIZE_ORDER else len(SIZE_ORDER)
        return (-(width if isinstance(width, (int, float)) else -1), order)

    return str(sorted(candidates, key=rank)[0][1]["url"])


def look_images(state: dict, page_url: str) -> list[ImageRef]:
    """The looks (gallery 0) of a show's state."""
    galleries_node = find_key(state.get("transformed", state), "runwayShowGalleries") or find_key(
        state, "runwayShowGalleries"
    )
    galleries = galleries_node.get("galleries") if isinstance(galleries_node, dict) else None
    if not isinstance(galleries, list) or not galleries or not isinstance(galleries[0], dict):
        raise PageFormatError("runwayShowGalleries has no galleries")
    refs: dict[str, ImageRef] = {}
    for item in galleries[0].get("items") or []:
        image = item.get("image") if isinstance(item, dict) else None
        if not isinstance(image, dict) or not isinstance(image.get("sources"), dict):
            continue
        url = best_source(image["sources"])
        if not url:
            continue
        url = urljoin(page_url, url)
        alt = item.get("caption") or image.get("altText") or ""
        refs.setdefault(url, ImageRef(url=url, alt=re.sub(r"<[^>]+>", "", str(alt)).strip()))
    if not refs:
        raise PageFormatError("gallery 0 (the looks) has no image sources")
    return list(refs.values())


class Vogue(Source):
    name = "vogue"
    default_base_url = "https://www.vogue.com"
    paginated = False
    needs_brands = True

    def listing_urls(self, base_url: str, brands: tuple[str, ...]) -> Iterator[str]:
        for brand in brands:
            yield base_url.rstrip("/") + DESIGNER_PATH.format(slug=slugify(brand))

    def next_listing_url(self, html: bytes, page_url: str) -> str | None:
        """The next page of the same designer's show list, if this page links one."""
        soup = BeautifulSoup(html, "html.parser")
        link = soup.select_one(NEXT_PAGE_LINKS) or next(
            (a for a in soup.find_all("a", href=True) if a.get_text(strip=True).lower().startswith("next")), None)
        href = (link.get("href") or "").strip() if link else ""
        url = urljoin(page_url, href) if href else None
        # only the same designer's list: a "next" link to another designer or site is not its pagination
        return url if url and _designer_list(url) == _designer_list(page_url) else None

    def parse_listing(self, html: bytes, page_url: str) -> list[str]:
        soup = BeautifulSoup(html, "html.parser")
        urls = []
        for link in soup.select(SHOW_LINKS):
            url = urljoin(page_url, (link.get("href") or "").strip())
            if SHOW_PATH.match(urlsplit(url).path):
                urls.append(url.split("#")[0])
        return list(dict.fromkeys(urls))

    def collection_info(self, collection_url: str) -> ShowInfo:
        match = SHOW_PATH.match(urlsplit(collection_url).path)
        if not match:
            return ShowInfo()
        season = parse_vogue_season(match.group("season"))
        brand = " ".join(w.capitalize() for w in match.group("designer").split("-"))
        return ShowInfo(brand=brand, show_type=season.show_type, season=season.season, year=season.year)

    def collection_folder(self, collection_url: str) -> str:
        # The last segment is the designer, already the brand folder; the season names the show.
        match = SHOW_PATH.match(urlsplit(collection_url).path)
        return match.group("season") if match else super().collection_folder(collection_url)

    def parse_collection(self, html: bytes, collection_url: str) -> list[ImageRef]:
        return look_images(extract_state(html), collection_url)


SOURCE = Vogue()
