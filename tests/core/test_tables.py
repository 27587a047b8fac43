"""`core.tables.read_csv_with_columns`: one clear error for a missing, unreadable or incomplete CSV."""

import pandas as pd
import pytest

from core.fileio import write_dataframe_atomic
from core.tables import neutralise_cell, read_csv, read_csv_text, read_csv_with_columns, restore_cell


class Problem(ValueError):
    pass


def test_reads_every_cell_as_text(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("path,year\na.jpg,2015\nb.jpg,\n")
    frame = read_csv_with_columns(path, ["path"], "manifest", Problem)
    assert frame["year"].tolist() == ["2015", ""]


@pytest.mark.parametrize(
    "content, message",
    [(None, "manifest not found"), (b"", "not a readable CSV manifest"), (b"path\na.jpg\n", r"lacks the column\(s\) brand")],
    ids=["missing", "empty", "column"],
)
def test_problems_raise_the_callers_error(tmp_path, content, message):
    path = tmp_path / "m.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(Problem, match=message):
        read_csv_with_columns(path, ["path", "brand"], "manifest", Problem)


def test_a_csv_whose_name_says_csv_is_not_called_a_csv_twice(tmp_path):
    path = tmp_path / "runway.csv"
    path.write_bytes(b"")
    with pytest.raises(Problem, match="not a readable runway CSV") as raised:
        read_csv_with_columns(path, ["brand"], "runway CSV", Problem)
    assert "CSV runway CSV" not in str(raised.value)


@pytest.mark.parametrize("encoding, brand", [("utf-8-sig", "Hermès"), ("cp1252", "Hermès’"), ("latin-1", "Hermès"),
                                             ("utf-16", "ドリス")])
def test_csvs_saved_in_other_encodings_are_read(tmp_path, encoding, brand):
    path = tmp_path / "runway.csv"
    path.write_bytes(f"path,brand\na.jpg,{brand}\n".encode(encoding))
    assert read_csv_with_columns(path, ["brand"], "runway CSV", Problem)["brand"].tolist() == [brand]
    assert read_csv_text(path).splitlines()[1] == f"a.jpg,{brand}"


def test_a_binary_file_is_not_read_as_text_in_some_code_page(tmp_path):
    path = tmp_path / "manifest.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    with pytest.raises(Problem, match=r"not a readable CSV manifest \(binary data, not text\)"):
        read_csv_with_columns(path, ["path"], "manifest", Problem)


# --------------------------------------------------------------------------- cells a spreadsheet would run

FORMULAS = ['=HYPERLINK("http://x")', "+33 6 12 34 56", "-rm -rf", "@SUM(A1:A9)", "\tx", "\rx", "=1+1"]
NOT_FORMULAS = ["Chanel", "-0.5", "+3", "-1e-05", "2015", "'quoted", "", "a=b"]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_a_spreadsheet_would_run_is_quoted_and_restored(value):
    assert neutralise_cell(value) == "'" + value
    assert restore_cell(neutralise_cell(value)) == value


@pytest.mark.parametrize("value", NOT_FORMULAS)
def test_other_cells_and_numbers_are_written_as_they_are(value):
    assert neutralise_cell(value) == value and restore_cell(value) == value


@pytest.mark.parametrize("value", ["'=x", "''=x", "'-0.5", "'@"])
def test_a_users_own_leading_quote_survives_the_round_trip(value):
    assert restore_cell(neutralise_cell(value)) == value


def test_every_written_csv_neutralises_text_cells_and_its_readers_give_them_back(tmp_path):
    frame = pd.DataFrame({
        "path": ["/photos/-look.jpg", "/photos/b.jpg"],
        "brand": ['=HYPERLINK("http://x")', "Chanel"],
        "year": ["-5", "2015"],  # text that is a number: never quoted
        "prob_=A": [-0.5, 0.25],  # a number column: never touched, even negative
    })
    path = write_dataframe_atomic(tmp_path / "predictions.csv", frame)
    text = path.read_text()
    assert "'=HYPERLINK" in text and "'-look.jpg" not in text and ",-5," in text and "-0.5" in text
    assert "'prob_=A" not in text and text.splitlines()[0] == "path,brand,year,prob_=A"
    as_text = read_csv_with_columns(path, ["brand"], "predictions", Problem)
    assert as_text["brand"].tolist() == frame["brand"].tolist() and as_text["year"].tolist() == ["-5", "2015"]
    parsed = read_csv_with_columns(path, ["brand"], "predictions", Problem, as_text=False)
    assert parsed["prob_=A"].tolist() == [-0.5, 0.25] and parsed["brand"].tolist() == frame["brand"].tolist()


def test_column_names_and_row_labels_are_neutralised_too(tmp_path):
    labels = ["=A()", "B"]
    matrix = pd.DataFrame([[3, 1], [0, 4]], index=pd.Index(labels, name="brand"), columns=labels).reset_index()
    path = write_dataframe_atomic(tmp_path / "confusion.csv", matrix)
    assert path.read_text().splitlines()[0] == "brand,'=A(),B"
    back = read_csv(path, index_col=0)
    assert back.index.tolist() == labels and back.columns.tolist() == labels
