"""Brand names: one key per fashion house, one display form, and the choice of houses to train on.

Scrapes spell a house several ways ("Giorgio Armani", "giorgio-armani", "GIORGIO ARMANI ").
`brand_key` folds them to one slug; `display_names` picks the readable form for each slug;
`select_brands` applies thesis section 3.2: its six houses when all are present, else the top N by
image count.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from data import DataError


def brand_key(name: str) -> str:
    """The slug of a brand name: accents dropped, lower case, runs of other characters as one '-'."""
    ascii_name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def _clean_spelling(name: str) -> str:
    return re.sub(r"\s+", " ", str(name)).strip()


def _looks_like_display(name: str) -> bool:
    # "Rick Owens" reads as a name; "rick-owens" or "rick owens" reads as a slug or a lazy spelling.
    return any(ch.isupper() for ch in name)


def display_names(raw_names: Iterable[str], preferred: Sequence[str] = ()) -> dict[str, str]:
    """Map every slug to its display form.

    A `preferred` spelling (the thesis's) wins; otherwise the most frequent capitalised spelling
    (ties: alphabetical); otherwise the slug title-cased ("dries-van-noten" -> "Dries Van Noten").
    """
    spellings: dict[str, Counter] = {}
    for raw in raw_names:
        cleaned = _clean_spelling(raw)
        key = brand_key(cleaned)
        if key:
            spellings.setdefault(key, Counter())[cleaned] += 1
    preferred_by_key = {brand_key(name): name for name in preferred}
    result = {}
    for key, counter in spellings.items():
        if key in preferred_by_key:
            result[key] = preferred_by_key[key]
            continue
        candidates = sorted((name for name in counter if _looks_like_display(name)), key=lambda n: (-counter[n], n))
        result[key] = candidates[0] if candidates else " ".join(part.capitalize() for part in key.split("-"))
    return result


def raw_to_display(raw_names: Iterable[str], displays: dict[str, str]) -> dict[str, str]:
    """The recorded mapping: each distinct raw spelling -> its display form."""
    return {raw: displays[brand_key(raw)] for raw in sorted(set(raw_names)) if brand_key(raw) in displays}


@dataclass(frozen=True)
class BrandSelection:
    keys: tuple[str, ...]
    how: str  # "explicit", "top_n" or "thesis"
    note: str


def top_keys(counts: dict[str, int], n: int) -> tuple[str, ...]:
    """The n slugs with most images; ties broken alphabetically so the choice is reproducible."""
    return tuple(key for key, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n])


def select_brands(
    counts: dict[str, int],
    requested: Sequence[str] | None = None,
    top_n: int | None = None,
    thesis_brands: Sequence[str] = (),
    default_top_n: int = 6,
) -> BrandSelection:
    """Choose the brand slugs to keep from `counts` (slug -> number of images)."""
    if requested:
        keys = []
        for name in requested:
            key = brand_key(name)
            if key not in counts:
                close = difflib.get_close_matches(key, list(counts), n=3, cutoff=0.6)
                hint = f"; did you mean {', '.join(close)}?" if close else f"; {len(counts)} brands in the CSV"
                raise DataError(f"brand {name!r} is not in the CSV{hint}")
            if key not in keys:
                keys.append(key)
        return BrandSelection(tuple(keys), "explicit", "brands named on the command line")
    if top_n is not None:
        if top_n < 1:
            raise DataError(f"--top must be at least 1, got {top_n}")
        return BrandSelection(top_keys(counts, top_n), "top_n", f"the top {top_n} brands by image count")
    thesis_keys = tuple(brand_key(name) for name in thesis_brands)
    if thesis_keys and all(key in counts for key in thesis_keys):
        return BrandSelection(thesis_keys, "thesis", "the thesis's six brands (section 3.2)")
    missing = [name for name in thesis_brands if brand_key(name) not in counts]
    return BrandSelection(
        top_keys(counts, default_top_n),
        "top_n",
        f"the top {default_top_n} brands by image count (thesis brands missing from the CSV: {', '.join(missing)})",
    )
