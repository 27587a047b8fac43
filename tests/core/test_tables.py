"""`core.tables.read_csv_with_columns`: one clear error for a missing, unreadable or incomplete CSV."""

import pytest

from core.tables import read_csv_with_columns


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
