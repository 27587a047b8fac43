"""door11.com: the thesis's source (its runway photos moved there from nowfashion.com).

Site facts, and how sure we are of each. FACT = seen in the thesis author's public scraper
(Selenium + BeautifulSoup) and the thesis's CSV extract; ASSUMPTION = our inference, checked
only against our fixtures, to revisit with `--dump-html` if a crawl finds nothing.

- FACT: the author's scraper read listing pages `https://door11.com/?query-0-page=N` for N = 0 … 245
  (`for i in range(0, 246)`): it starts at page 0, so the crawl does too.
- ASSUMPTION: the listings are a WordPress query loop, which renders page 0 (the bare listing) and
  page 1 alike; the collection seen twice is visited once.
- ASSUMPTION: a listing page may carry the site's own pagination link (`rel="next"`, WordPress's
  `.wp-block-query-pagination-next`, or an anchor reading "Next"). Where it does, the crawl follows it
  rather than our numbering, and a later page without one is the last; where no page has one, the
  crawl counts N = 0, 1, 2, … as the author did.
- ASSUMPTION: past the last page the site answers 404 or a page without collection links;
  either ends the crawl. Pages list the newest collections first, so once a whole page is older
  than `--since` the crawl stops paging.
- FACT: collection links on a listing page are `.wp-block-post-featured-image a`.
- FACT: on a collection page the gallery images are `div.pgcsimplygalleryblock-masonry-content img`;
  `src` carries a `?lossy=1&ssl=1` query (stripped: it selects a recompressed copy).
- FACT: the gallery also holds the site logo (`…/DOOR11-logo-BETA.png`). ASSUMPTION: any image
  whose file name contains `logo` is not a look.
- ASSUMPTION: the static HTML holds the gallery's images. The author's scraper used a browser
  and clicked "load more" (`.pgcsimplygalleryblock-masonry-load-more`); if a gallery is paged
  by JavaScript, only its first page is reachable without a browser. Lazy-loading attributes
  (`data-src`, `data-lazy-src`) are read when `src` is a placeholder.
- FACT: collection slugs look like `chanel-couture-spring-summer-2023-paris-fashion-week`
  (brand, line, season, year, city); images like
  `https://media.door11.com/wp-content/uploads/YYYY/MM/<Brand>-<Line>-<Season>-<Year>-<City>-Fashion-Week-Runway-NNN.jpg`.
  ASSUMPTION: the brand is every word before the line (or the season when there is no line).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup

from scraping.names import url_file_name, url_last_segment
from scraping.showinfo import ShowInfo, parse_collection_slug
from scraping.sources.base import ImageRef, PageFormatError, Source

LISTING_PATH = "/?query-0-page={page}"
COLLECTION_LINKS = ".wp-block-post-featured-image a"
NEXT_PAGE_LINKS = 'a[rel~="next"], link[rel~="next"], a.wp-block-query-pagination-next'
FIRST_LISTING_PAGE = 0  # where the author's scraper started
GALLERY = "div.pgcsimplygalleryblock-masonry-content"
LAZY_ATTRIBUTES = ("data-src", "data-lazy-src", "data-orig-file", "src")


def strip_query(url: str) -> str:
    """Drop `?lossy=1&ssl=1` and any fragment: the plain file is the original upload."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def is_logo(url: str) -> bool:
    return "logo" in url_file_name(url).lower()


def _image_src(img) -> str:
    for attribute in LAZY_ATTRIBUTES:
        value = (img.get(attribute) or "").strip()
        if value and not value.startswith("data:"):
            return value
    return ""


def _anchor_reading_next(soup):
    """A pagination anchor known only by its text ("Next", "Next Page", "Next »")."""
    return next((a for a in soup.find_all("a", href=True) if a.get_text(strip=True).lower().startswith("next")), None)


class Door11(Source):
    name = "door11"
    default_base_url = "https://door11.com"
    paginated = True

    def listing_urls(self, base_url: str, brands: tuple[str, ...]) -> Iterator[str]:
        page = FIRST_LISTING_PAGE
        while True:
            yield base_url.rstrip("/") + LISTING_PATH.format(page=page)
            page += 1

    def parse_listing(self, html: bytes, page_url: str) -> list[str]:
        soup = BeautifulSoup(html, "html.parser")
        urls = [urljoin(page_url, a.get("href", "").strip()) for a in soup.select(COLLECTION_LINKS) if a.get("href")]
        return [u for u in dict.fromkeys(urls) if urlsplit(u).scheme in ("http", "https")]

    def next_listing_url(self, html: bytes, page_url: str) -> str | None:
        soup = BeautifulSoup(html, "html.parser")
        link = soup.select_one(NEXT_PAGE_LINKS) or _anchor_reading_next(soup)
        href = (link.get("href") or "").strip() if link else ""
        url = urljoin(page_url, href) if href else None
        # only a page of the same site: a "next" link elsewhere is not this listing's pagination
        return url if url and urlsplit(url).netloc == urlsplit(page_url).netloc else None

    def collection_info(self, collection_url: str) -> ShowInfo:
        return parse_collection_slug(url_last_segment(collection_url))

    def parse_collection(self, html: bytes, collection_url: str) -> list[ImageRef]:
        soup = BeautifulSoup(html, "html.parser")
        gallery = soup.select_one(GALLERY)
        if gallery is None:
            raise PageFormatError(f"no gallery ({GALLERY}) on the page")
        refs: dict[str, ImageRef] = {}
        for img in gallery.find_all("img"):
            src = _image_src(img)
            if not src:
                continue
            url = strip_query(urljoin(collection_url, src))
            if is_logo(url) or url in refs:
                continue
            refs[url] = ImageRef(url=url, alt=(img.get("alt") or "").strip())
        if not refs:
            raise PageFormatError(f"the gallery ({GALLERY}) has no images")
        return list(refs.values())


SOURCE = Door11()
