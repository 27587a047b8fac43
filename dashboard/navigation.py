"""The app's pages, in menu order: file under dashboard/app_pages/, title, icon.

Kept apart from app.py (which runs the app when imported) so tests and docs can list the pages.
The folder is not called `pages/`: that name switches Streamlit to its legacy multipage mode,
in which a page's URL would run the page without app.py's sidebar.
"""

from __future__ import annotations

from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"
PAGES = (
    ("overview.py", "Overview", ":material/dashboard:"),
    ("training.py", "Training", ":material/show_chart:"),
    ("performance.py", "Performance", ":material/grid_on:"),
    ("attention.py", "Attention heatmaps", ":material/local_fire_department:"),
    ("brand.py", "Brand deep dive", ":material/styler:"),
    ("analyse.py", "Analyse a photo", ":material/image_search:"),
)


def url_path(file: str) -> str:
    """The page's URL path: the file's stem (`attention.py` -> `/attention`); the first page is `/`."""
    return Path(file).stem
