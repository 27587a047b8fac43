"""Brand normalisation and the thesis's brand selection."""

import pytest

from core.config import THESIS_BRANDS
from data import DataError
from data.brands import brand_key, display_names, raw_to_display, select_brands, top_keys


def test_spellings_of_one_house_share_a_key():
    spellings = ["Giorgio Armani", "giorgio-armani", "  GIORGIO   ARMANI ", "giorgio_armani"]
    assert {brand_key(name) for name in spellings} == {"giorgio-armani"}
    assert brand_key("Hermès") == "hermes"
    assert brand_key("Dolce & Gabbana") == "dolce-gabbana"
    assert brand_key("  ") == ""


def test_display_form_prefers_thesis_then_capitalised_then_title_case():
    raws = [
        "giorgio-armani",
        "Giorgio Armani",
        "dries-van-noten",
        "maison margiela",
        "Maison Margiela",
        "Maison Margiela",
    ]
    raws += ["MAISON MARGIELA"]
    displays = display_names(raws, preferred=THESIS_BRANDS)
    assert displays["giorgio-armani"] == "Giorgio Armani"
    assert displays["dries-van-noten"] == "Dries Van Noten"  # only a slug seen, thesis spelling wins
    assert displays["maison-margiela"] == "Maison Margiela"  # most frequent capitalised spelling
    assert display_names(["comme-des-garcons"])["comme-des-garcons"] == "Comme Des Garcons"
    mapping = raw_to_display(raws, displays)
    assert mapping["giorgio-armani"] == mapping["Giorgio Armani"] == "Giorgio Armani"
    assert mapping["MAISON MARGIELA"] == "Maison Margiela"


def test_thesis_brands_chosen_when_all_present():
    counts = {brand_key(name): 50 for name in THESIS_BRANDS} | {"valentino": 500}
    chosen = select_brands(counts, thesis_brands=THESIS_BRANDS)
    assert chosen.how == "thesis"
    assert chosen.keys == tuple(brand_key(name) for name in THESIS_BRANDS)


def test_top_n_when_a_thesis_brand_is_missing():
    counts = {"valentino": 1140, "fendi": 940, "rick-owens": 880, "chanel": 840, "hermes": 840, "versace": 854}
    chosen = select_brands(counts, thesis_brands=THESIS_BRANDS, default_top_n=4)
    assert chosen.how == "top_n"
    assert chosen.keys == ("valentino", "fendi", "rick-owens", "versace")
    assert "Dries Van Noten" in chosen.note
    # ties are broken alphabetically, so the choice never depends on dict order
    assert top_keys({"b": 5, "a": 5, "c": 9}, 2) == ("c", "a")
    assert select_brands(counts, top_n=2).keys == ("valentino", "fendi")


def test_explicit_brands_any_spelling_and_unknown_brand_is_a_clear_error():
    counts = {"rick-owens": 10, "versace": 12}
    assert select_brands(counts, requested=["Rick Owens", "VERSACE", "rick-owens"]).keys == ("rick-owens", "versace")
    with pytest.raises(DataError, match=r"'Versacee' is not in the CSV; did you mean versace"):
        select_brands(counts, requested=["Versacee"])
    with pytest.raises(DataError, match="at least 1"):
        select_brands(counts, top_n=0)
