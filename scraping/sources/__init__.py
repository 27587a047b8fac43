"""Source adapters: one module per site, registered here by name."""

from __future__ import annotations

from scraping.sources import door11, vogue
from scraping.sources.base import ImageRef, PageFormatError, Source

SOURCES: dict[str, Source] = {source.name: source for source in (door11.SOURCE, vogue.SOURCE)}

__all__ = ["SOURCES", "ImageRef", "PageFormatError", "Source"]
