"""The three import routes write the crawl's CSV: folders, the thesis's CSV, and a local Hugging Face dataset."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest
from PIL import Image

from core.contract import read_manifest_table
from data.__main__ import main as data_main
from data.prepare import check_photo
from scraping.__main__ import main

CHANEL_SHOW = "chanel-couture-spring-summer-2023-paris-fashion-week"


def jpeg_file(path, kit, size=(40, 60)):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(kit.make_jpeg(size=size))
    return path


def summary_of(out):
    return json.loads((out / "scrape_summary.json").read_text())


def test_import_folder_reads_both_layouts(tmp_path, workspace, kit, capsys):
    root = tmp_path / "photos"
    jpeg_file(root / "Chanel" / CHANEL_SHOW / "look-1.jpg", kit)
    jpeg_file(root / "Chanel" / CHANEL_SHOW / "look-2.JPG", kit)
    jpeg_file(root / "Versace" / "v1.jpeg", kit, size=(30, 50))
    (root / "Versace" / "broken.jpg").write_bytes(b"not a photo at all")
    (root / "Versace" / "notes.txt").write_text("ignored")
    jpeg_file(root / "Versace" / ".hidden" / "h.jpg", kit)

    assert main(["import-folder", "--no-progress", str(root)]) == 0

    out = workspace / "scrapes" / "import"
    columns, rows = kit.read_rows(out / "runway.csv")
    assert columns == kit.THESIS_COLUMNS + kit.EXTRA_COLUMNS
    assert [(r["brand"], r["image_path"]) for r in rows] == [
        ("Chanel", f"chanel/{CHANEL_SHOW}/look-1.jpg"),
        ("Chanel", f"chanel/{CHANEL_SHOW}/look-2.jpg"),
        ("Versace", "versace/v1.jpg"),
    ]
    chanel = rows[0]
    assert (chanel["season"], chanel["year"], chanel["city"], chanel["show_type"]) == (
        "spring-summer",
        "2023",
        "Paris",
        "couture",
    )
    assert chanel["image_url"] == (root / "Chanel" / CHANEL_SHOW / "look-1.jpg").resolve().as_uri()
    assert (rows[2]["image_width"], rows[2]["image_height"], rows[2]["image_format"]) == ("30", "50", "JPEG")
    assert summary_of(out)["failed"] == {"image:not_an_image": 1}

    # A rerun adds nothing and decodes nothing again.
    assert main(["import-folder", "--no-progress", str(root)]) == 0
    assert len(kit.read_rows(out / "runway.csv")[1]) == 3
    assert summary_of(out)["skipped"] == {"image:already_saved": 3}


def test_import_folder_saves_what_a_symbolic_link_points_to(tmp_path, workspace, kit):
    absolute = jpeg_file(tmp_path / "elsewhere" / "absolute.jpg", kit)
    relative = jpeg_file(tmp_path / "elsewhere" / "relative.jpg", kit)
    chanel = tmp_path / "photos" / "Chanel"
    chanel.mkdir(parents=True)
    (chanel / "absolute.jpg").symlink_to(absolute)
    (chanel / "relative.jpg").symlink_to(os.path.relpath(relative, chanel))  # would dangle if copied as a link
    (chanel / "dangling.jpg").symlink_to(tmp_path / "elsewhere" / "deleted.jpg")

    assert main(["import-folder", "--no-progress", str(tmp_path / "photos")]) == 0

    out = workspace / "scrapes" / "import"
    images = (out / "images").resolve()
    _, rows = kit.read_rows(out / "runway.csv")
    saved = {row["image_name"]: images / row["image_path"] for row in rows}
    assert sorted(saved) == ["absolute.jpg", "relative.jpg"]
    for source in (absolute, relative):
        photo = saved[source.name]
        assert not photo.is_symlink() and photo.read_bytes() == source.read_bytes()
        check_photo(images, str(photo.relative_to(images)))  # `prepare` accepts it
    assert summary_of(out)["failed"] == {"image:dangling_link": 1}
    [failure] = kit.read_rows(out / "failures.csv")[1]
    assert "dangling.jpg: a symbolic link to" in failure["detail"] and "does not exist" in failure["detail"]


def test_import_folder_without_brand_folders_is_a_user_error(tmp_path, workspace, kit, capsys):
    jpeg_file(tmp_path / "flat" / "a.jpg", kit)
    assert main(["import-folder", str(tmp_path / "flat")]) == 2
    assert "no brand folders" in capsys.readouterr().err
    assert main(["import-folder", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_import_csv_reads_the_thesis_dataset(tmp_path, workspace, kit, delimiter):
    images = tmp_path / "kaggle" / "images"
    jpeg_file(images / "chanel-couture-spring-summer-2023-paris" / "Chanel-17062560.jpg", kit, size=(34, 51))
    jpeg_file(images / "chanel-couture-spring-summer-2023-paris" / "Chanel-17062561.jpg", kit)
    (tmp_path / "outside.jpg").write_bytes(kit.make_jpeg())
    header = ["", *kit.THESIS_COLUMNS]  # pandas' index column, as the published file has
    url = "https://door11.com/chanel-couture-spring-summer-2023-paris-fashion-week/"
    media = "https://media.door11.com/wp-content/uploads/2023/06/17/x.jpg"
    table = io.StringIO()
    writer = csv.writer(table, delimiter=delimiter)
    writer.writerow(header)
    # The page's sizes are wrong on purpose: the CSV must report the saved file's.
    writer.writerow(
        [
            0,
            url,
            media,
            "NaN",
            "Chanel-Couture-1.jpg",
            "chanel-couture-spring-summer-2023-paris/Chanel-17062560.jpg",
            1,
            2,
            3,
            "PNG",
            "L",
            "chanel",
        ]
    )
    writer.writerow(
        [
            1,
            url,
            media,
            "",
            "Chanel-Couture-2.jpg",
            "chanel-couture-spring-summer-2023-paris/Chanel-17062561.jpg",
            1,
            2,
            3,
            "PNG",
            "L",
            "chanel",
        ]
    )
    writer.writerow([2, url, media, "", "x.jpg", "../outside.jpg", 1, 2, 3, "JPEG", "RGB", "chanel"])
    writer.writerow(
        [
            3,
            url,
            media,
            "",
            "y.jpg",
            "chanel-couture-spring-summer-2023-paris/missing.jpg",
            1,
            2,
            3,
            "JPEG",
            "RGB",
            "chanel",
        ]
    )
    (tmp_path / "runways.csv").write_text(table.getvalue())

    assert main(["import-csv", "--no-progress", str(tmp_path / "runways.csv"), "--images", str(images)]) == 0

    out = workspace / "scrapes" / "import"
    columns, rows = kit.read_rows(out / "runway.csv")
    assert columns == kit.THESIS_COLUMNS + kit.EXTRA_COLUMNS
    assert len(rows) == 2  # the same image_url twice is kept: the thesis's rows are told apart by their files
    first = rows[0]
    assert (first["image_width"], first["image_height"], first["image_format"], first["image_mode"]) == (
        "34",
        "51",
        "JPEG",
        "RGB",
    )
    assert (first["brand"], first["image_alt"], first["image_name"], first["collection_url"]) == (
        "chanel",
        "",
        "Chanel-Couture-1.jpg",
        url,
    )
    assert first["image_path"] == f"chanel/{CHANEL_SHOW}/Chanel-17062560.jpg"
    assert (first["season"], first["year"], first["show_type"], first["city"]) == (
        "spring-summer",
        "2023",
        "couture",
        "Paris",
    )
    assert summary_of(out)["failed"] == {"image:missing_file": 1, "image:unsafe_path": 1}
    assert not list((out / "images").rglob("outside*"))


def test_import_csv_reads_a_latin_1_csv_as_prepare_does(tmp_path, workspace, kit):
    images = tmp_path / "images"
    jpeg_file(images / "hermes" / "look.jpg", kit)
    (tmp_path / "latin.csv").write_bytes("image_path,brand\nhermes/look.jpg,Hermès\n".encode("latin-1"))
    assert main(["import-csv", "--no-progress", str(tmp_path / "latin.csv"), "--images", str(images)]) == 0
    [row] = kit.read_rows(workspace / "scrapes" / "import" / "runway.csv")[1]
    assert row["brand"] == "Hermès"


def test_import_csv_refuses_a_binary_file_in_one_line(tmp_path, workspace, capsys):
    (tmp_path / "photo.csv").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    assert main(["import-csv", str(tmp_path / "photo.csv"), "--images", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not a CSV (binary data, not text)" in err and err.count("\n") == 1


def test_import_csv_names_the_missing_columns(tmp_path, workspace, capsys):
    (tmp_path / "x.csv").write_text("path,label\na.jpg,chanel\n")
    assert main(["import-csv", str(tmp_path / "x.csv"), "--images", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "image_path, brand" in err


def test_a_brand_a_spreadsheet_would_run_is_neutralised_in_every_csv_and_read_back(tmp_path, workspace, kit):
    formula = '=HYPERLINK("http://x")'
    images = tmp_path / "theirs" / "images"
    rows = [["image_path", "brand", "collection_url"]]
    for brand, folder in ((formula, "f"), ("Chanel", "c")):
        for n in range(4):
            jpeg_file(images / folder / f"{n}.jpg", kit)
            rows.append([f"{folder}/{n}.jpg", brand, f"https://x.org/fall-2016/{folder}-{n % 2}"])
    with open(tmp_path / "theirs.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    assert main(["import-csv", "--no-progress", str(tmp_path / "theirs.csv"), "--images", str(images)]) == 0

    runway_csv = workspace / "scrapes" / "import" / "runway.csv"
    assert "'=HYPERLINK" in runway_csv.read_text()  # a spreadsheet shows it as text
    assert data_main(["prepare", "--csv", str(runway_csv), "--name", "formula", "--no-progress"]) == 0
    manifest_file = workspace / "datasets" / "formula" / "manifest.csv"
    assert "'=HYPERLINK" in manifest_file.read_text()
    assert set(read_manifest_table(manifest_file)["brand"]) == {formula, "Chanel"}  # the original value
    # A rerun of the import reads its own CSV back: nothing is added twice.
    assert main(["import-csv", "--no-progress", str(tmp_path / "theirs.csv"), "--images", str(images)]) == 0
    assert len(kit.read_rows(runway_csv)[1]) == 8


@pytest.fixture
def hf_offline(tmp_path, monkeypatch):
    """No hub access, and datasets' caches in the test's folder."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))


def test_import_hf_reads_a_local_dataset(tmp_path, workspace, kit, hf_offline):
    import datasets

    photos = [{"bytes": kit.make_jpeg(size=(20 + i, 30)), "path": f"look-{i}.jpg"} for i in range(4)]
    photos.append({"bytes": photos[0]["bytes"], "path": "again.jpg"})  # the same picture twice
    dataset = datasets.Dataset.from_dict(
        {
            "image": photos,
            "label": [0, 1, 1, 0, 0],
            "show": [CHANEL_SHOW, "rick-owens-fall-winter-2019-paris-fashion-week", "", "", ""],
        },
        features=datasets.Features(
            {
                "image": datasets.Image(),
                "label": datasets.ClassLabel(names=["Chanel", "Rick Owens"]),
                "show": datasets.Value("string"),
            }
        ),
    )
    dataset.save_to_disk(str(tmp_path / "vogue-looks"))

    argv = [
        "import-hf",
        "--no-progress",
        str(tmp_path / "vogue-looks"),
        "--image-column",
        "image",
        "--label-column",
        "label",
    ]
    assert main(argv) == 0
    out = workspace / "scrapes" / "import"
    columns, rows = kit.read_rows(out / "runway.csv")
    assert columns == kit.THESIS_COLUMNS + kit.EXTRA_COLUMNS
    assert [r["brand"] for r in rows] == ["Chanel", "Rick Owens", "Rick Owens", "Chanel"]
    assert [r["image_width"] for r in rows] == ["20", "21", "22", "23"]
    assert rows[0]["image_path"] == "chanel/vogue-looks-train/look-0.jpg" and rows[0]["image_name"] == "look-0.jpg"
    assert summary_of(out)["skipped"] == {"image:duplicate_content": 1}

    assert main([*argv, "--collection-column", "show", "--out", str(tmp_path / "by-show")]) == 0
    _, rows = kit.read_rows(tmp_path / "by-show" / "runway.csv")
    assert rows[0]["image_path"].startswith(f"chanel/{CHANEL_SHOW}/") and rows[0]["season"] == "spring-summer"
    assert (rows[1]["year"], rows[1]["city"]) == ("2019", "Paris")


def test_import_hf_names_the_missing_column(tmp_path, workspace, kit, hf_offline, capsys):
    import datasets

    datasets.Dataset.from_dict({"picture": [Image.new("RGB", (8, 8))], "brand": ["Chanel"]}).save_to_disk(
        str(tmp_path / "d")
    )
    assert main(["import-hf", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "no column(s) image, label" in err and "picture, brand" in err
    assert main(["import-hf", "no-such-user/no-such-dataset"]) == 2
    assert "cannot load dataset" in capsys.readouterr().err


def test_all_routes_write_the_same_columns(door11, run_crawl, tmp_path, workspace, kit):
    run_crawl("door11", door11.base_url, brands=("Chanel",))
    jpeg_file(tmp_path / "photos" / "Chanel" / "a.jpg", kit)
    assert main(["import-folder", "--no-progress", str(tmp_path / "photos")]) == 0
    crawl_columns, _ = kit.read_rows(workspace / "scrapes" / "door11" / "runway.csv")
    folder_columns, _ = kit.read_rows(workspace / "scrapes" / "import" / "runway.csv")
    assert crawl_columns == folder_columns == kit.THESIS_COLUMNS + kit.EXTRA_COLUMNS
