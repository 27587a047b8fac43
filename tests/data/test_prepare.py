"""`python -m data prepare`: manifest contract, normalisation, duplicates, bad photos, determinism, CLI."""

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from core.config import THESIS_BRANDS, get_settings
from core.contract import MANIFEST_COLUMNS
from core.images import load_rgb
from data import DataError
from data.__main__ import main
from data.manifest import default_dataset_name
from data.prepare import PrepareOptions, collection_id, prepare_dataset, season_and_year


def data_settings(**changes):
    """The workspace's settings with these `Settings.data` fields changed."""
    return get_settings().with_overrides({"data": changes})


def _csv_rows(csv_path: Path) -> list[dict]:
    return pd.read_csv(csv_path, dtype=str, keep_default_na=False).to_dict("records")


def _rewrite(csv_path: Path, rows: list[dict]) -> None:
    pd.DataFrame(rows).to_csv(csv_path, index=False)


def test_manifest_follows_the_contract(workspace, runway_factory):
    csv_path, images = runway_factory({"Chanel": (3, 6), "Versace": (3, 6), "Prada": (2, 5)})
    result = prepare_dataset(PrepareOptions(csv=csv_path))
    assert result.dataset_dir == workspace / "datasets" / "src"  # runway.csv -> its folder's name
    manifest = pd.read_csv(result.dataset_dir / "manifest.csv", dtype=str, keep_default_na=False)
    assert tuple(manifest.columns) == MANIFEST_COLUMNS
    assert len(manifest) == 46
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in manifest["path"])
    assert set(manifest["split"]) == {"train", "val", "test"}
    row = manifest[manifest["image_path"] == "chanel/2016/002.jpg"].iloc[0]
    assert row["path"] == str(images / "chanel/2016/002.jpg")
    assert (row["brand"], row["brand_key"]) == ("Chanel", "chanel")
    assert row["collection"] == "fashion-shows/fall-2016-ready-to-wear/chanel"
    assert (row["season"], row["year"]) == ("fall", "2016")
    summary = json.loads((result.dataset_dir / "summary.json").read_text())
    assert summary["split"] == "random" and summary["seed"] == get_settings().data.seed
    assert summary["brand_selection"] == "top_n"
    assert summary["counts"]["total"] == {"Chanel": 18, "Prada": 10, "Versace": 18}
    assert sum(summary["counts"]["test"].values()) == (manifest["split"] == "test").sum()
    assert summary["duplicates_removed"] == 0 and summary["unreadable"] == []


def test_brand_spellings_are_merged_and_the_mapping_recorded(workspace, runway_factory):
    csv_path, _ = runway_factory({"Giorgio Armani": (2, 6), "Chanel": (2, 6)})
    rows = _csv_rows(csv_path)
    for row in rows[:4]:
        row["brand"] = "giorgio-armani"
    rows[4]["brand"] = " GIORGIO  ARMANI"
    _rewrite(csv_path, rows)
    summary = prepare_dataset(PrepareOptions(csv=csv_path)).summary
    assert summary["brands"] == ["Chanel", "Giorgio Armani"]  # 12 each: ties go alphabetically
    assert summary["counts"]["total"]["Giorgio Armani"] == 12
    assert summary["brand_mapping"] == {
        "Chanel": "Chanel",
        "GIORGIO ARMANI": "Giorgio Armani",
        "Giorgio Armani": "Giorgio Armani",
        "giorgio-armani": "Giorgio Armani",
    }


NON_LATIN = {"ドリス": (2, 3), "Дом Моды": (2, 3), "🖤🖤": (2, 3), "Rick Owens": (2, 3)}


def test_brands_named_in_any_script_survive_prepare_with_their_names(workspace, runway_factory):
    csv_path, _ = runway_factory(NON_LATIN)
    summary = prepare_dataset(PrepareOptions(csv=csv_path)).summary
    assert sorted(summary["brands"]) == sorted(NON_LATIN)
    assert summary["rows_without_brand"] == 0 and summary["counts"]["total"] == dict.fromkeys(NON_LATIN, 6)
    assert "rick-owens" in summary["brand_keys"] and "ドリス" in summary["brand_keys"]


def test_a_brand_in_another_script_is_found_by_its_name(workspace, runway_factory, capsys):
    csv_path, images = runway_factory(NON_LATIN)
    argv = ["prepare", "--csv", str(csv_path), "--images", str(images), "--no-progress", "--brands", "ドリス", "дом моды"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "2 brands: Дом Моды, ドリス" in out or "2 brands: ドリス, Дом Моды" in out
    manifest = pd.read_csv(workspace / "datasets" / "src" / "manifest.csv", dtype=str, keep_default_na=False)
    assert set(manifest["brand"]) == {"ドリス", "Дом Моды"} and len(manifest) == 12


def test_every_row_is_kept_or_counted_by_reason(workspace, runway_factory, capsys):
    csv_path, images = runway_factory({"Chanel": (2, 3), "Versace": (2, 3), "Prada": (1, 2)})
    rows = _csv_rows(csv_path)
    rows[0]["brand"] = " -- "  # names no brand
    (images / rows[1]["image_path"]).write_bytes(b"")  # unreadable
    rows.append({**rows[2]})  # the same photo twice: a duplicate
    _rewrite(csv_path, rows)
    argv = ["prepare", "--csv", str(csv_path), "--images", str(images), "--no-progress", "--brands", "Chanel,Versace"]
    assert main(argv) == 0
    summary = json.loads((workspace / "datasets" / "src" / "summary.json").read_text())
    assert summary["rows_dropped"] == {"without_brand": 1, "other_brands": 2, "unreadable": 1, "duplicates": 1,
                                       "over_max_per_brand": 0}
    assert summary["images"] + sum(summary["rows_dropped"].values()) == summary["rows_in_csv"] == 15
    assert ("15 rows in the CSV: 10 kept; dropped: 1 without a brand, 2 of other brands, 1 unreadable, "
            "1 duplicates") in capsys.readouterr().out


def test_thesis_brands_by_default_explicit_brands_and_top(workspace, runway_factory):
    brands = {name: (2, 5) for name in THESIS_BRANDS} | {"Valentino": (4, 10)}
    csv_path, _ = runway_factory(brands)
    summary = prepare_dataset(PrepareOptions(csv=csv_path)).summary
    assert summary["brand_selection"] == "thesis" and summary["brands"] == list(THESIS_BRANDS)
    top = prepare_dataset(PrepareOptions(csv=csv_path, name="top", top_n=2)).summary
    assert top["brands"] == ["Valentino", "Chanel"] and top["brand_selection"] == "top_n"  # ties alphabetically
    picked = prepare_dataset(PrepareOptions(csv=csv_path, name="two", brands=["chanel", "VERSACE"]))
    assert set(picked.manifest["brand"]) == {"Chanel", "Versace"}


def test_exact_duplicates_are_removed_and_counted(workspace, runway_factory):
    csv_path, images = runway_factory({"Chanel": (2, 8), "Versace": (2, 8)})
    rows = _csv_rows(csv_path)
    for number, source in enumerate(["chanel/2015/000.jpg", "chanel/2015/001.jpg", "versace/2016/003.jpg"]):
        copy = f"copies/{number}.jpg"
        (images / copy).parent.mkdir(exist_ok=True)
        shutil.copyfile(images / source, images / copy)
        rows.append({**next(r for r in rows if r["image_path"] == source), "image_path": copy})
    rows.append(dict(rows[0]))  # the same row twice
    _rewrite(csv_path, rows)
    result = prepare_dataset(PrepareOptions(csv=csv_path))
    assert result.summary["duplicates_removed"] == 4
    assert len(result.manifest) == 32 and result.manifest["sha256"].is_unique
    # the alphabetically first path of each photo is kept
    duplicates = result.summary["duplicates"]
    assert {"image_path": "versace/2016/003.jpg", "brand": "Versace", "duplicate_of": "copies/2.jpg"} in duplicates


def test_same_seed_same_manifest_whatever_the_row_order(workspace, runway_factory):
    csv_path, _ = runway_factory({"Chanel": (3, 7), "Versace": (3, 7), "Prada": (3, 7)})
    first = prepare_dataset(PrepareOptions(csv=csv_path, name="a"), data_settings(seed=3)).dataset_dir
    rows = _csv_rows(csv_path)
    _rewrite(csv_path, list(reversed(rows)))
    second = prepare_dataset(PrepareOptions(csv=csv_path, name="b"), data_settings(seed=3)).dataset_dir
    assert (first / "manifest.csv").read_bytes() == (second / "manifest.csv").read_bytes()
    other = prepare_dataset(PrepareOptions(csv=csv_path, name="c"), data_settings(seed=4)).dataset_dir
    assert (first / "manifest.csv").read_bytes() != (other / "manifest.csv").read_bytes()


def test_collection_split_and_cap(workspace, runway_factory):
    csv_path, _ = runway_factory({"Chanel": (5, 6), "Versace": (4, 6), "Prada": (2, 6)})
    result = prepare_dataset(PrepareOptions(csv=csv_path), data_settings(split="collection", max_per_brand=20))
    manifest, summary = result.manifest, result.summary
    # Prada's two shows: one for test, one for training, whose photos also give its validation slice
    assert summary["split"] == "collection" and summary["val_from_training_shows"] == ["Prada"]
    shared = manifest[manifest["collection"].isin(summary["shared_collections"])]
    assert set(shared["brand"]) == {"Prada"} and set(shared["split"]) == {"train", "val"}
    assert manifest.assign(test=manifest["split"] == "test").groupby("collection")["test"].nunique().max() == 1
    assert summary["counts"]["total"] == {"Chanel": 20, "Prada": 12, "Versace": 20}
    assert summary["dropped_by_max_per_brand"] == (30 - 20) + (24 - 20)
    assert set(manifest.loc[manifest["split"] == "test", "brand"]) == {"Chanel", "Versace", "Prada"}
    assert any("validation photos of Prada come from its training shows" in note for note in summary["notes"])


def test_bad_photos_are_listed_with_reasons_and_the_rest_finishes(workspace, odd_runway_factory):
    csv_path, images, odd = odd_runway_factory(per_collection=6)
    result = prepare_dataset(PrepareOptions(csv=csv_path))
    reasons = {entry["image_path"]: entry["reason"] for entry in result.summary["unreadable"]}
    expected_bad = {path: why for path, why in odd.items() if why != "ok"}
    assert set(reasons) == set(expected_bad)
    for path, why in expected_bad.items():
        assert why in reasons[path], reasons[path]
    kept = set(result.manifest["image_path"])
    assert {path for path, why in odd.items() if why == "ok"} <= kept
    assert len(kept) == 24 + 6
    # what the model will read is upright 8-bit RGB
    by_path = result.manifest.set_index("image_path")["path"]
    assert load_rgb(by_path["odd/exif.jpg"]).size == (32, 48)
    assert load_rgb(by_path["odd/cmyk.jpg"]).getpixel((5, 5)) == pytest.approx((255, 0, 0), abs=3)
    assert load_rgb(by_path["odd/16bit.png"]).getpixel((5, 5)) == (127, 127, 127)
    assert load_rgb(by_path["odd/rgba.png"]).getpixel((2, 5)) == (255, 255, 255)
    assert load_rgb(by_path["odd/webp.jpg"]).getpixel((5, 5)) == pytest.approx((200, 50, 50), abs=4)


def test_mask_columns_are_carried_as_absolute_paths(workspace, runway_factory):
    csv_path, images = runway_factory({"Chanel": (2, 5), "Versace": (2, 5)})
    rows = _csv_rows(csv_path)
    (images / "masks").mkdir()
    for row in rows:
        mask = f"masks/{row['image_path'].replace('/', '_')}.png"
        Image.new("L", (32, 48), 255).save(images / mask)
        row["figure_mask_path"], row["zones_mask_path"] = mask, mask
    rows[0]["figure_mask_path"] = "masks/not-there.png"
    _rewrite(csv_path, rows)
    result = prepare_dataset(PrepareOptions(csv=csv_path))
    with_mask = result.manifest[result.manifest["figure_mask_path"] != ""]
    assert len(with_mask) == 19
    assert all(Path(p).is_absolute() and Path(p).is_file() for p in with_mask["zones_mask_path"])
    assert result.summary["masks_not_found"] == {"figure_mask_path": 1, "zones_mask_path": 0}


def test_pure_helpers():
    assert collection_id("https://www.vogue.com/fashion-shows/fall-2023-ready-to-wear/chanel/") == (
        "fashion-shows/fall-2023-ready-to-wear/chanel"
    )
    assert collection_id("chanel-fw23") == "chanel-fw23"
    assert season_and_year("fashion-shows/pre-fall-2019/versace") == ("pre-fall", "2019")
    assert season_and_year("resort-2021") == ("resort", "2021")
    assert season_and_year("chanel-show") == ("", "")
    assert default_dataset_name("/x/scrapes/vogue/runway.csv") == "vogue"
    assert default_dataset_name("/x/my_scrape.csv") == "my_scrape"


def test_cli_prepare_and_its_errors(workspace, runway_factory, capsys):
    csv_path, images = runway_factory({"Chanel": (3, 6), "Versace": (3, 6)})
    argv = ["prepare", "--csv", str(csv_path), "--images", str(images), "--name", "cli", "--no-progress"]
    assert main([*argv, "--split", "collection", "--brands", "Chanel,versace"]) == 0
    out = capsys.readouterr().out
    assert "dataset 'cli'" in out and "split: collection" in out
    assert (workspace / "datasets" / "cli" / "manifest.csv").is_file()
    for bad, message in [
        (["--csv", str(csv_path.parent / "nope.csv")], "runway CSV not found"),
        (["--brands", "Balenciaga"], "'Balenciaga' is not in the CSV"),
        (["--name", "../escape"], "dataset name"),
        (["--test-fraction", "1.5"], "test fraction"),
        (["--images", str(images / "nowhere")], "image root not found"),
    ]:
        assert main([*argv, *bad]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    with pytest.raises(DataError):
        prepare_dataset(PrepareOptions(csv=csv_path), data_settings(max_per_brand=-1))


def _refused(argv: list[str], capsys) -> str:
    """The one `error:` line of a prepare that must fail."""
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_a_dataset_of_one_brand_is_refused_at_prepare(workspace, runway_factory, capsys):
    csv_path, images = runway_factory({"Chanel": (2, 4)})
    argv = ["prepare", "--csv", str(csv_path), "--images", str(images), "--name", "alone", "--no-progress"]
    assert "one brand only (Chanel)" in _refused(argv, capsys)
    assert not (workspace / "datasets" / "alone").exists()


@pytest.mark.parametrize("choice", [["--brands", "Chanel"], ["--top", "1"]], ids=["brands", "top"])
def test_choosing_one_brand_is_refused_with_what_to_do(workspace, runway_factory, capsys, choice):
    csv_path, images = runway_factory({"Chanel": (2, 4), "Versace": (2, 4)})
    argv = ["prepare", "--csv", str(csv_path), "--images", str(images), "--name", "one", "--no-progress", *choice]
    err = _refused(argv, capsys)
    assert "one brand only (Chanel)" in err and "--brands" in err and "--top 2" in err
    assert not (workspace / "datasets" / "one").exists()


def test_a_brand_whose_photos_are_all_unreadable_leaves_one_brand_and_is_refused(workspace, runway_factory, capsys):
    csv_path, images = runway_factory({"Chanel": (2, 4), "Versace": (2, 4)})
    for photo in (images / "versace").rglob("*.jpg"):
        photo.write_bytes(b"")
    argv = ["prepare", "--csv", str(csv_path), "--images", str(images), "--name", "broken", "--no-progress"]
    err = _refused(argv, capsys)
    assert "only Chanel has readable photos left" in err and "8 unreadable" in err and "empty (0 bytes)" in err
    assert not (workspace / "datasets" / "broken").exists()


def test_a_runway_csv_without_rows_or_brands_is_refused_with_the_reason(workspace, runway_factory, capsys):
    csv_path, images = runway_factory({"Chanel": (2, 2), "Versace": (2, 2)})
    argv = ["prepare", "--csv", str(csv_path), "--images", str(images), "--no-progress"]
    rows = _csv_rows(csv_path)
    _rewrite(csv_path, [{**row, "brand": " "} for row in rows])
    assert "none of its 8 rows names a brand" in _refused(argv, capsys)
    csv_path.write_text(csv_path.read_text().splitlines()[0] + "\n")  # the header only
    err = _refused(argv, capsys)
    assert "the runway CSV has no rows" in err and "for  under" not in err
    csv_path.write_text("")
    err = _refused(argv, capsys)
    assert "not a readable runway CSV" in err and "CSV runway CSV" not in err
    assert not (workspace / "datasets").exists()


def test_a_runway_csv_saved_as_latin_1_is_read(workspace, runway_factory):
    csv_path, _ = runway_factory({"Hermès": (2, 3), "Versace": (2, 3)})
    csv_path.write_bytes(csv_path.read_text(encoding="utf-8").encode("latin-1"))
    summary = prepare_dataset(PrepareOptions(csv=csv_path)).summary
    assert summary["brands"] == ["Hermès", "Versace"] and summary["images"] == 12


def test_images_root_defaults_to_the_layout_the_paths_fit(workspace, runway_factory):
    # the scraper's paths are relative to <csv folder>/images; the demo's start with images/
    csv_path, images = runway_factory({"Chanel": (2, 3), "Versace": (2, 3)})
    scraper_style = prepare_dataset(PrepareOptions(csv=csv_path, name="scraper"))
    assert scraper_style.summary["images_root"] == str(images) and scraper_style.summary["unreadable"] == []
    rows = _csv_rows(csv_path)
    _rewrite(csv_path, [{**row, "image_path": "images/" + row["image_path"]} for row in rows])
    demo_style = prepare_dataset(PrepareOptions(csv=csv_path, name="demo-style"))
    assert demo_style.summary["images_root"] == str(csv_path.parent) and demo_style.summary["unreadable"] == []
    assert sorted(demo_style.manifest["path"]) == sorted(scraper_style.manifest["path"])


def test_a_changed_manifest_flags_the_nobg_folder(workspace, runway_factory):
    csv_path, _ = runway_factory({"Chanel": (2, 4), "Versace": (2, 4)})
    first = prepare_dataset(PrepareOptions(csv=csv_path))
    (first.dataset_dir / "nobg").mkdir()
    (first.dataset_dir / "nobg" / "manifest.csv").write_text("path\n")
    same = prepare_dataset(PrepareOptions(csv=csv_path)).summary["notes"]
    assert not any("nobg/" in note for note in same)
    other = prepare_dataset(PrepareOptions(csv=csv_path), data_settings(seed=5)).summary["notes"]
    assert any("rerun `python -m data remove-background`" in note for note in other)


def test_demo_command_is_imported_only_when_asked(monkeypatch, capsys, workspace, runway_factory):
    monkeypatch.setitem(sys.modules, "data.demo.cli", None)  # as if data/demo were missing or broken
    if "data.demo" in sys.modules:  # an earlier test imported it: hide the attribute too
        monkeypatch.delattr(sys.modules["data.demo"], "cli", raising=False)
    csv_path, _ = runway_factory({"Chanel": (2, 3), "Versace": (2, 3)})
    assert main(["prepare", "--csv", str(csv_path), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["demo"]) == 1
    assert capsys.readouterr().err.startswith("error: the demo generator is not available")
