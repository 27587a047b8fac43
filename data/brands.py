"""Brand names: one key per fashion house, one display form, and the choice of houses to train on.

Scrapes spell a house several ways ("Giorgio Armani", "giorgio-armani", "GIORGIO ARMANI ").
`brand_key` folds them to one slug; `display_names` picks the readable form for each slug;
`select_brands` applies thesis section 3.2: its six houses when all are present, else the top N by
image count.

Keys are Unicode slugs: a house named in Japanese, Cyrillic or any other script keeps its letters
(`ドリス`, `дом-моды`), while Latin accents still fold (`Hermès` -> `hermes`), so Latin keys are what
they always were. A name with no letters or digits at all (emoji only) gets `brand-<hash>`, and names
whose slugs agree but whose symbols differ ("Maison 🖤", "Maison 🌹") get the hash as a suffix
(`BrandKeys`), so two houses never share a key. The key only names folders and joins rows; what is
shown is the display form, taken from the names themselves.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from data import DataError

# Registration marks decorate a name without telling two houses apart ("Tommy Hilfiger®" is Tommy Hilfiger).
DECORATIONS = frozenset("®©℗℠")


def _normalised(name: str) -> str:
    """NFKC, case folded (NFKC again: folding can undo it), whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", str(name)).casefold())
    return " ".join(folded.split())


def _without_latin_accent(ch: str) -> str:
    """`è` -> `e`: a Latin letter loses its accents, as keys always did. A letter of another script is
    kept whole: dropping its mark would make another letter (`й` is not `и`, `ド` is not `ト`)."""
    decomposed = unicodedata.normalize("NFKD", ch)
    if decomposed[0].isascii() and all(unicodedata.combining(c) for c in decomposed[1:]):
        return decomposed[0]
    return ch


def brand_slug(name: str) -> str:
    """Letters and digits of any script, lower case, other runs of characters as one '-'."""
    out: list[str] = []
    for ch in _normalised(name):
        ch = _without_latin_accent(ch)
        kind = unicodedata.category(ch)[0]
        if kind == "M":
            # A mark belongs to the character before it: kept on a letter of another script (Devanagari
            # vowel signs), dropped on a Latin letter (a loose accent) or a symbol (emoji variation selector).
            if out and out[-1] != "-" and not out[-1].isascii():
                out.append(ch)
            continue
        out.append(ch if kind in "LN" else "-")
    return re.sub(r"-{2,}", "-", "".join(out)).strip("-")


def symbol_mark(name: str) -> str:
    """The symbols (emoji, pictographs) a slug drops: what tells "Maison 🖤" from "Maison 🌹"."""
    return "".join(ch for ch in _normalised(name) if unicodedata.category(ch) == "So" and ch not in DECORATIONS)


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def brand_key(name: str) -> str:
    """The key of one brand name on its own: its slug; `brand-<hash>` for a name of symbols only; "" for
    a name with neither (blank or punctuation: the row names no brand)."""
    slug = brand_slug(name)
    if slug:
        return slug
    mark = symbol_mark(name)
    return f"brand-{short_hash(mark)}" if mark else ""


@dataclass(frozen=True)
class BrandKeys:
    """The keys of the brand names of one CSV: `brand_key`, except that names sharing a slug but not their
    symbols are told apart by a hash of the symbols (only then: one house's spellings still merge)."""

    marks_by_slug: dict[str, frozenset[str]]

    @classmethod
    def of(cls, names: Iterable[str]) -> BrandKeys:
        marks: dict[str, set[str]] = {}
        for name in names:
            marks.setdefault(brand_slug(name), set()).add(symbol_mark(name))
        return cls({slug: frozenset(found) for slug, found in marks.items() if slug})

    def key(self, name: str) -> str:
        slug, mark = brand_slug(name), symbol_mark(name)
        if slug and mark and len(self.marks_by_slug.get(slug, ())) > 1:
            return f"{slug}-{short_hash(mark)}"
        return brand_key(name)


def _clean_spelling(name: str) -> str:
    return re.sub(r"\s+", " ", str(name)).strip()


def _looks_like_display(name: str) -> bool:
    # "Rick Owens" reads as a name; "rick-owens" or "rick owens" reads as a slug or a lazy spelling.
    # A name without lower-case letters (Japanese, emoji, "A.P.C.") is written as meant.
    return any(ch.isupper() for ch in name) or not any(ch.islower() for ch in name)


def _title_cased(spelling: str) -> str:
    """"dries-van-noten" -> "Dries Van Noten", "hermès" -> "Hermès": the spelling's own letters, capitalised."""
    return " ".join(word.capitalize() for word in re.split(r"[\s_-]+", spelling) if word)


def display_names(raw_names: Iterable[str], preferred: Sequence[str] = (),
                  key_of: Callable[[str], str] = brand_key) -> dict[str, str]:
    """Map every key to its display form.

    A `preferred` spelling (the thesis's) wins; otherwise the most frequent spelling that reads as a
    name (ties: alphabetical); otherwise the most frequent spelling title-cased ("dries-van-noten" ->
    "Dries Van Noten"). `key_of` gives each name its key (a CSV's `BrandKeys.key`).
    """
    spellings: dict[str, Counter] = {}
    for raw in raw_names:
        cleaned = _clean_spelling(raw)
        key = key_of(cleaned)
        if key:
            spellings.setdefault(key, Counter())[cleaned] += 1
    preferred_by_key = {key_of(name): name for name in preferred}
    result = {}
    for key, counter in spellings.items():
        if key in preferred_by_key:
            result[key] = preferred_by_key[key]
            continue
        by_frequency = sorted(counter, key=lambda n: (-counter[n], n))
        names = [name for name in by_frequency if _looks_like_display(name)]
        result[key] = names[0] if names else _title_cased(by_frequency[0])
    return result


def raw_to_display(raw_names: Iterable[str], displays: dict[str, str],
                   key_of: Callable[[str], str] = brand_key) -> dict[str, str]:
    """The recorded mapping: each distinct raw spelling -> its display form."""
    return {raw: displays[key_of(raw)] for raw in sorted(set(raw_names)) if key_of(raw) in displays}


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
    key_of: Callable[[str], str] = brand_key,
) -> BrandSelection:
    """Choose the brand keys to keep from `counts` (key -> number of images); names become keys by `key_of`."""
    if requested:
        keys = []
        for name in requested:
            key = key_of(name)
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
    thesis_keys = tuple(key_of(name) for name in thesis_brands)
    if thesis_keys and all(key in counts for key in thesis_keys):
        return BrandSelection(thesis_keys, "thesis", "the thesis's six brands (section 3.2)")
    missing = [name for name in thesis_brands if key_of(name) not in counts]
    return BrandSelection(
        top_keys(counts, default_top_n),
        "top_n",
        f"the top {default_top_n} brands by image count (thesis brands missing from the CSV: {', '.join(missing)})",
    )
