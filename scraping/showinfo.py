"""What a show slug says about a collection: brand, show type, season, year and city.

door11 (and the thesis's Kaggle CSV) name collections like
`chanel-couture-spring-summer-2023-paris-fashion-week`; Vogue Runway names seasons like
`spring-2024-ready-to-wear`. Both are parsed into one `ShowInfo` with one vocabulary:
seasons `spring-summer`, `fall-winter`, `pre-fall`, `resort`, …; show types `ready-to-wear`,
`couture`, `menswear`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scraping.names import slugify

_YEAR = re.compile(r"^(19|20)\d{2}$")

# Longest first, so `spring-summer` wins over `summer`. Values are the one vocabulary we write.
SEASON_WORDS: tuple[tuple[str, str], ...] = (
    ("autumn-winter", "fall-winter"),
    ("fall-winter", "fall-winter"),
    ("spring-summer", "spring-summer"),
    ("pre-spring", "pre-spring"),
    ("pre-fall", "pre-fall"),
    ("resort", "resort"),
    ("cruise", "resort"),
    ("spring", "spring-summer"),
    ("summer", "spring-summer"),
    ("fall", "fall-winter"),
    ("autumn", "fall-winter"),
    ("winter", "fall-winter"),
)
SHOW_TYPE_WORDS: tuple[tuple[str, str], ...] = (
    ("haute-couture", "couture"),
    ("ready-to-wear", "ready-to-wear"),
    ("womenswear", "ready-to-wear"),
    ("couture", "couture"),
    ("menswear", "menswear"),
    ("men", "menswear"),
)


@dataclass(frozen=True)
class ShowInfo:
    brand: str = ""  # display form guessed from the slug (`Dries Van Noten`); callers may prefer the user's spelling
    show_type: str = ""
    season: str = ""
    year: int | None = None
    city: str = ""

    @property
    def brand_key(self) -> str:
        return slugify(self.brand)


def _title(tokens: list[str]) -> str:
    return " ".join(t.capitalize() for t in tokens)


def _match_suffix(tokens: list[str], words: tuple[tuple[str, str], ...]) -> tuple[str, int]:
    """The vocabulary value whose words end `tokens`, and how many tokens it used ("" and 0 if none)."""
    for phrase, value in words:
        parts = phrase.split("-")
        if len(parts) <= len(tokens) and tokens[-len(parts) :] == parts:
            return value, len(parts)
    return "", 0


def parse_collection_slug(slug: str) -> ShowInfo:
    """Parse `<brand>-<line>-<season>-<year>-<city>-fashion-week` (door11's collection slugs).

    Every part but the brand is optional: `rick-owens-fall-winter-2019-paris-fashion-week` has no
    line. Without a year the slug is not a show slug and only a brand guess comes back.
    """
    tokens = [t for t in slugify(slug).split("-") if t]
    years = [i for i, t in enumerate(tokens) if _YEAR.match(t)]
    if not years:
        return ShowInfo(brand=_title(tokens))
    y = years[-1]
    head, tail = tokens[:y], tokens[y + 1 :]
    if tail[-2:] == ["fashion", "week"]:
        tail = tail[:-2]
    season, used = _match_suffix(head, SEASON_WORDS)
    head = head[: len(head) - used]
    show_type, used = _match_suffix(head, SHOW_TYPE_WORDS)
    if used == len(head):  # a brand called "Men" is less likely than a slug without a brand
        show_type, used = "", 0
    head = head[: len(head) - used]
    return ShowInfo(brand=_title(head), show_type=show_type, season=season, year=int(tokens[y]), city=_title(tail))


_VOGUE_SEASON = re.compile(
    r"^(?P<season>pre-fall|pre-spring|resort|spring|fall)-(?P<year>(?:19|20)\d{2})(?:-(?P<rest>.+))?$"
)
_VOGUE_SEASONS = {
    "spring": "spring-summer",
    "fall": "fall-winter",
    "pre-fall": "pre-fall",
    "pre-spring": "pre-spring",
    "resort": "resort",
}


def parse_vogue_season(season_slug: str) -> ShowInfo:
    """Parse Vogue's `spring-2024-ready-to-wear`, `fall-2023-menswear`, `resort-2024`, `spring-2023-couture`."""
    match = _VOGUE_SEASON.match(slugify(season_slug))
    if not match:
        return ShowInfo()
    rest = match.group("rest") or ""
    show_type = dict(SHOW_TYPE_WORDS).get(rest, "")
    return ShowInfo(season=_VOGUE_SEASONS[match.group("season")], year=int(match.group("year")), show_type=show_type)
