"""The crawl: listing pages → collections → photos → the runway CSV, for any source adapter.

The engine owns every side effect: HTTP through `Fetcher` (robots, delays, retries), the page
cache and `--dump-html`, concurrent photo downloads (at most `image_concurrency` at once), the
store, the progress bar and the summary. Adapters only parse.

Resuming is the normal mode: photos whose URL is already in the CSV are not requested again,
pages come from the cache, and rows are written in gallery order as photos finish.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from core.config import ScrapeSettings, UploadSettings
from scraping.cache import PageCache, dump_page
from scraping.errors import UsageError
from scraping.fetch import Fetcher, FetchError
from scraping.names import slugify, url_file_name
from scraping.photos import Duplicate, Rejected, Saved, save_photo
from scraping.showinfo import ShowInfo
from scraping.sources.base import ImageRef, PageFormatError, Source
from scraping.store import RunwayStore, runway_row
from scraping.summary import RunSummary

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 20 * 1024 * 1024


class ListingOrder:
    """The listing pages in visiting order: the site's own "next" link wherever a page has one, else the
    source's numbered sequence.

    A site's link knows its pagination better than our numbering does; once a site has linked its pages,
    a page without a link is its last (guessing further numbers would only refetch pages). Each URL is
    visited once, so a link back to an earlier page cannot loop.
    """

    def __init__(self, numbered: Iterator[str], one_sequence: bool = True):
        self._numbered = iter(numbered)
        # False: each numbered URL starts its own list (a designer's shows); a page without a link ends
        # only that list, and the next numbered URL follows.
        self._one_sequence = one_sequence
        self._visited: set[str] = set()
        self._next_link: str | None = None
        self._site_links = False

    def linked(self, url: str | None) -> None:
        """The page just visited links this one as its next (None: it has no such link)."""
        self._next_link = url
        self._site_links = self._site_links or url is not None

    def __iter__(self) -> Iterator[str]:
        url = next(self._numbered, None)
        while url is not None:
            self._visited.add(url)
            self._next_link = None
            yield url
            link = self._next_link
            if link is not None and link not in self._visited:
                url = link
            elif self._one_sequence and self._site_links:
                url = None  # the site's links ended (or looped back): that was its last page
            else:
                url = next((u for u in self._numbered if u not in self._visited), None)


@dataclass(frozen=True)
class CrawlPlan:
    source: Source
    out: Path
    page_cache: Path
    base_url: str = ""  # empty: the source's own site
    brands: tuple[str, ...] = ()  # empty: every brand (or the defaults of a per-brand source)
    since: int | None = None
    max_pages: int | None = None
    dump_html: bool = False
    refresh_listings: bool = False  # refetch listing pages (to find new shows); collection pages stay cached

    @property
    def site(self) -> str:
        return (self.base_url or self.source.default_base_url).rstrip("/")


@dataclass(frozen=True)
class Collection:
    url: str
    info: ShowInfo
    brand: str


def wanted_brand(info: ShowInfo, brands: tuple[str, ...]) -> str | None:
    """The brand to record for a collection: the user's spelling when `brands` names it, None when filtered out."""
    if not brands:
        return info.brand
    by_key = {slugify(b): b for b in brands}
    return by_key.get(info.brand_key)


def older_than(infos: list[ShowInfo], since: int | None) -> bool:
    """True when every collection of a listing page has a known year before `since`."""
    return bool(since and infos and all(i.year is not None and i.year < since for i in infos))


class Crawl:
    """One run of one source into one output folder."""

    def __init__(
        self,
        plan: CrawlPlan,
        scrape: ScrapeSettings,
        upload: UploadSettings | None = None,
        progress: bool | None = None,
    ):
        self.plan, self.scrape = plan, scrape
        self.max_pixels = (upload or UploadSettings()).max_pixels
        self.store = RunwayStore(plan.out)
        self.fetcher = Fetcher(scrape)
        self.cache = PageCache(plan.page_cache)
        self.summary = RunSummary(source=plan.source.name, out=str(plan.out))
        # progress=None: tqdm shows the bar only on a terminal.
        self.bar = tqdm(total=0, unit="img", desc=plan.source.name, disable=None if progress is None else not progress)

    # --- pages ------------------------------------------------------------------------------------
    def page(self, url: str, use_cache: bool) -> tuple[bytes, bool]:
        """A page's bytes and whether they came from the cache; raises `FetchError`."""
        cached = self.cache.get(url) if use_cache else None
        if cached is not None:
            self.summary.pages_from_cache += 1
            return cached, True
        body = self.fetcher.get(url, max_bytes=MAX_PAGE_BYTES).body
        self.summary.pages_fetched += 1
        return body, False

    def keep_page(self, url: str, body: bytes, cached: bool) -> None:
        """A page that parsed: cache it, and dump it when asked."""
        if not cached:
            self.cache.put(url, body)
        if self.plan.dump_html:
            dump_page(self.plan.out / "html", url, body)

    def page_failed(self, url: str, reason: str, detail: str) -> None:
        if reason == "robots_disallowed":
            log.warning("skipped (robots.txt disallows it): %s", url)
            self.summary.skip("page", reason)
        else:
            log.warning("page failed, %s: %s (%s)", reason, url, detail)
            self.summary.fail("page", reason)
        self.store.record_failure("page", url, reason, detail)

    # --- listings ---------------------------------------------------------------------------------
    def collections(self) -> Iterator[Collection]:
        plan, source = self.plan, self.plan.source
        brands = plan.brands
        seen: set[str] = set()  # a listing can shift while we page through it: visit each collection once
        order = ListingOrder(source.listing_urls(plan.site, brands), one_sequence=source.paginated)
        for number, listing_url in enumerate(order, start=1):
            if plan.max_pages and number > plan.max_pages:
                return
            try:
                body, cached = self.page(listing_url, use_cache=not plan.refresh_listings)
            except FetchError as exc:
                if source.paginated and exc.reason == "http_404" and number > 1:
                    return  # past the last listing page
                self.page_failed(listing_url, exc.reason, exc.detail)
                if source.paginated:
                    return  # the pages after a broken one are unreachable in order
                continue
            urls = source.parse_listing(body, listing_url)
            if not urls:
                if source.paginated and number > 1:
                    return  # an empty page past the last one
                self.page_failed(
                    listing_url, "malformed_page", "no collection links (has the site changed? rerun with --dump-html)"
                )
                if plan.dump_html:
                    dump_page(plan.out / "html", listing_url, body)
                continue
            self.keep_page(listing_url, body, cached)
            order.linked(source.next_listing_url(body, listing_url))
            infos = [source.collection_info(u) for u in urls]
            for url, info in zip(urls, infos, strict=True):
                if url not in seen:
                    seen.add(url)
                    yield Collection(url, info, wanted_brand(info, brands) or "")
            if source.paginated and older_than(infos, plan.since):
                log.info("listing page %d is all before %d: stopping (listings run newest first)", number, plan.since)
                return

    def selected(self, collection: Collection) -> bool:
        if self.plan.brands and not collection.brand:
            self.summary.skip("collection", "brand_filter")
            return False
        if self.plan.since and (collection.info.year is None or collection.info.year < self.plan.since):
            self.summary.skip("collection", "before_since")
            return False
        return True

    # --- photos -----------------------------------------------------------------------------------
    def download(self, ref: ImageRef, collection: Collection) -> Saved | Duplicate | Rejected:
        try:
            fetched = self.fetcher.get(ref.url, max_bytes=self.scrape.max_image_bytes)
        except FetchError as exc:
            return Rejected(exc.reason, exc.detail)
        return save_photo(
            self.store,
            data=fetched.body,
            content_type=fetched.content_type,
            brand=collection.brand or collection.info.brand,
            collection_folder=self.plan.source.collection_folder(collection.url),
            raw_name=url_file_name(ref.url),
            max_name_length=self.scrape.max_name_length,
            max_pixels=self.max_pixels,
        )

    def record(self, ref: ImageRef, collection: Collection, outcome: Saved | Duplicate | Rejected) -> None:
        summary = self.summary
        if isinstance(outcome, Saved):
            self.store.add_row(
                runway_row(
                    collection_url=collection.url,
                    image_url=ref.url,
                    image_alt=ref.alt,
                    image_name=url_file_name(ref.url),
                    image_path=outcome.image_path,
                    info=outcome.info,
                    brand=collection.brand or collection.info.brand,
                    show=collection.info,
                    sha256=outcome.sha256,
                )
            )
            summary.images_saved += 1
            summary.bytes_saved += outcome.info.size_bytes
        elif isinstance(outcome, Duplicate):
            log.info("duplicate of %s: %s", outcome.image_path, ref.url)
            summary.skip("image", "duplicate_content")
        elif outcome.reason == "robots_disallowed":
            log.warning("skipped (robots.txt disallows it): %s", ref.url)
            summary.skip("image", outcome.reason)
            self.store.record_failure("image", ref.url, outcome.reason, outcome.detail, collection.url)
        else:
            log.warning("image failed, %s: %s (%s)", outcome.reason, ref.url, outcome.detail)
            summary.fail("image", outcome.reason)
            self.store.record_failure("image", ref.url, outcome.reason, outcome.detail, collection.url)
        self.bar.update(1)

    def collection(self, pool: ThreadPoolExecutor, collection: Collection) -> None:
        try:
            body, cached = self.page(collection.url, use_cache=True)
        except FetchError as exc:
            self.page_failed(collection.url, exc.reason, exc.detail)
            return
        try:
            refs = self.plan.source.parse_collection(body, collection.url)
        except PageFormatError as exc:
            self.page_failed(collection.url, "malformed_page", str(exc))
            if self.plan.dump_html:
                dump_page(self.plan.out / "html", collection.url, body)
            return
        self.keep_page(collection.url, body, cached)
        self.summary.collections += 1
        todo = [ref for ref in refs if ref.url not in self.store.saved_urls]
        self.summary.skip("image", "already_saved", len(refs) - len(todo))
        self.bar.total += len(todo)
        self.bar.refresh()
        futures: list[Future] = [pool.submit(self.download, ref, collection) for ref in todo]
        for ref, future in zip(todo, futures, strict=True):
            self.record(ref, collection, future.result())

    def run(self) -> RunSummary:
        pool = ThreadPoolExecutor(max_workers=max(1, self.scrape.image_concurrency), thread_name_prefix="image")
        try:
            for collection in self.collections():
                if self.selected(collection):
                    self.collection(pool, collection)
                self.bar.set_postfix(pages=self.summary.pages_fetched + self.summary.pages_from_cache, refresh=False)
        except KeyboardInterrupt:
            self.summary.interrupted = True
            pool.shutdown(wait=False, cancel_futures=True)
        finally:
            pool.shutdown(wait=not self.summary.interrupted)
            self.bar.close()
            self.summary.rows_in_csv = self.store.row_count
            self.summary.finish().write(self.plan.out)
        return self.summary


def crawl(
    plan: CrawlPlan, scrape: ScrapeSettings, upload: UploadSettings | None = None, progress: bool | None = None
) -> RunSummary:
    """Run a crawl; the summary is also written to `<out>/scrape_summary.json`."""
    if plan.source.needs_brands and not plan.brands:
        raise UsageError(f"--source {plan.source.name} lists shows per designer: pass --brands")
    return Crawl(plan, scrape, upload, progress).run()
