"""requirements.txt's floors: each at least the first release that has every API the code calls."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"


def floors() -> dict[str, tuple[int, ...]]:
    """Package name -> the version after its `>=`."""
    found = {}
    for line in REQUIREMENTS.read_text().splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9.]*)", line)
        if match:
            found[match.group(1).lower()] = tuple(int(part) for part in match.group(2).split("."))
    return found


@pytest.mark.parametrize(
    "package, first_release_with_every_api",
    [
        # st.file_uploader(max_upload_size=...) on the Analyse page is new in Streamlit 1.53.0
        # (docs.streamlit.io, 2026 release notes, "Version 1.53.0"); the other APIs it uses are older:
        # download_button(on_click="ignore") 1.43, st.navigation and st.Page 1.36, plotly_chart(on_select=) 1.35.
        ("streamlit", (1, 53)),
        # groupby(...).apply(..., include_groups=False) in model/compare.py is new in pandas 2.2.
        ("pandas", (2, 2)),
    ],
)
def test_the_floor_admits_no_release_without_the_apis_the_code_uses(package, first_release_with_every_api):
    assert floors()[package] >= first_release_with_every_api
