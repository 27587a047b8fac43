"""What a source adapter provides: where its listings are, and how to read its pages.

Adapters are pure parsers of HTML bytes: the engine (`scraping.engine`) does every request,
the caching, the politeness and the bookkeeping. A new site is one new module with one
`Source` subclass, registered in `scraping.sources.SOURCES`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from scraping.names import url_last_segment
from scraping.showinfo import ShowInfo


class PageFormatError(Exception):
    """A page without the structure the adapter expects (the site changed, or a broken page)."""


@dataclass(frozen=True)
class ImageRef:
    url: str
    alt: str = ""


class Source(ABC):
    name: str
    default_base_url: str
    # True: listing pages form one numbered sequence that ends at the first empty (or 404) page.
    # False: every listing page stands alone (one per brand).
    paginated: bool
    # A source whose listings are per brand needs brands; it uses these when --brands is not given.
    needs_brands: bool = False

    @abstractmethod
    def listing_urls(self, base_url: str, brands: tuple[str, ...]) -> Iterator[str]:
        """The listing pages to visit, in order."""

    @abstractmethod
    def parse_listing(self, html: bytes, page_url: str) -> list[str]:
        """Absolute collection URLs on a listing page, in page order, without repeats."""

    def next_listing_url(self, html: bytes, page_url: str) -> str | None:
        """The site's own link to the listing page after this one, if the page has one (None: use `listing_urls`)."""
        return None

    @abstractmethod
    def collection_info(self, collection_url: str) -> ShowInfo:
        """Brand, show type, season, year and city, from the collection URL alone (used to filter before fetching)."""

    @abstractmethod
    def parse_collection(self, html: bytes, collection_url: str) -> list[ImageRef]:
        """The look photos of a collection page; raise `PageFormatError` when the page has none to offer."""

    def collection_folder(self, collection_url: str) -> str:
        """The (unsanitised) folder name of a collection under its brand folder: its slug."""
        return url_last_segment(collection_url)
