"""Brand normalisation and the thesis's brand selection."""

import re

import pytest

from core.config import THESIS_BRANDS
from data import DataError
from data.brands import BrandKeys, brand_key, display_names, raw_to_display, select_brands, top_keys


def test_spellings_of_one_house_share_a_key():
    spellings = ["Giorgio Armani", "giorgio-armani", "  GIORGIO   ARMANI ", "giorgio_armani"]
    assert {brand_key(name) for name in spellings} == {"giorgio-armani"}
    assert brand_key("Hermès") == "hermes"
    assert brand_key("Dolce & Gabbana") == "dolce-gabbana"
    assert brand_key("  ") == ""


def test_latin_keys_are_what_they_were():
    assert [brand_key(name) for name in ("Rick Owens", "Comme des Garçons", "A.P.C.", "Tommy Hilfiger®")] == [
        "rick-owens", "comme-des-garcons", "a-p-c", "tommy-hilfiger"]


def test_names_in_other_scripts_keep_their_letters():
    assert brand_key("ドリス") == brand_key("ﾄﾞﾘｽ") == "ドリス"  # half-width katakana: the same name
    assert brand_key("Дом Моды") == brand_key("дом  моды") == "дом-моды"
    assert brand_key("Йохан") == "йохан"  # not "иохан": a Cyrillic letter keeps its mark
    assert brand_key("北京 Studio") == "北京-studio"


def test_a_name_of_symbols_only_gets_a_stable_hash_key():
    key = brand_key("🖤🖤")
    assert re.fullmatch(r"brand-[0-9a-f]{8}", key) and brand_key(" 🖤🖤 ") == key
    assert brand_key("🌹") != key
    assert brand_key("---") == ""  # punctuation only: the row names no brand


def test_names_differing_only_by_symbols_are_two_houses_only_when_both_appear():
    keys = BrandKeys.of(["Maison", "Maison 🖤", "Maison 🌹", "Rick Owens", "rick-owens"])
    assert keys.key("Maison") == keys.key("maison") == "maison"
    assert len({keys.key("Maison"), keys.key("Maison 🖤"), keys.key("Maison 🌹")}) == 3
    assert keys.key("Maison 🖤").startswith("maison-")
    assert keys.key("Rick Owens") == keys.key("rick-owens") == "rick-owens"  # spellings of one house still merge
    assert BrandKeys.of(["Maison 🖤"]).key("Maison 🖤") == "maison"


def test_display_forms_of_names_in_other_scripts_are_the_names_themselves():
    displays = display_names(["ドリス", "ﾄﾞﾘｽ", "ドリス", "Дом Моды", "дом моды", "🖤🖤", "hermès"])
    assert displays == {"ドリス": "ドリス", "дом-моды": "Дом Моды", brand_key("🖤🖤"): "🖤🖤", "hermes": "Hermès"}


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
