"""The house and venue tables: the documented signatures other code (attention analytics) relies on."""

from __future__ import annotations

import pytest

from core.config import THESIS_BRANDS
from data.demo.houses import HOUSES, HOUSES_BY_SLUG, ZONE_LABELS, houses_with_signature_on
from data.demo.venues import VENUES_BY_SLUG
from scraping.names import slugify


def test_six_fictional_houses_with_unique_names_and_slugs():
    assert len(HOUSES) == 6
    assert len({h.name for h in HOUSES}) == 6 and len({h.slug for h in HOUSES}) == 6
    for house in HOUSES:
        assert house.slug == slugify(house.name)
        assert house.name not in THESIS_BRANDS


def test_signatures_name_real_zones_venues_and_twins():
    for house in HOUSES:
        assert house.signature_zone in ZONE_LABELS and house.signature_zone != "background"
        assert set(house.cue_zones) <= set(ZONE_LABELS) - {"background"}
        assert house.signature_zone in house.cue_zones
        assert all(slug in VENUES_BY_SLUG for slug in house.preferred_venues)
        twin = HOUSES_BY_SLUG[house.twin]
        assert twin.twin == house.slug  # pairs are symmetric
        # twins deliberately share a preferred venue, so backgrounds alone cannot separate them
        assert set(house.preferred_venues) & set(twin.preferred_venues)


def test_houses_with_signature_on_a_zone():
    assert {h.name for h in houses_with_signature_on("feet")} == {"Ombrelune", "Blokwerk"}
    assert {h.name for h in houses_with_signature_on("head")} == {"Linea Vastra", "Casa Sfarzo"}
    with pytest.raises(ValueError, match="unknown body zone"):
        houses_with_signature_on("hands")
