"""Runway Lens dashboard: `streamlit run dashboard/app.py` (what `make run` starts).

The entry point sets the page up, draws the sidebar (dataset and the two runs to compare) and
hands over to the page chosen in `st.navigation`. Pages only read run and dataset folders
(dashboard/artifacts.py); nothing here trains. docs/DASHBOARD.md describes each page.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repository root.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import streamlit as st  # noqa: E402

from dashboard import ui  # noqa: E402
from dashboard.navigation import PAGES, PAGES_DIR, url_path  # noqa: E402


def keep_the_keras_session() -> None:
    """Stop Streamlit from clearing the Keras session after every script run.

    Streamlit does it in case a script builds models on each run; this app loads each model once into
    `st.cache_resource` and never builds one on a run, so the clear only costs time: measured 0.14–0.23 s
    of Keras cleanup and garbage collection after each run, and an upload runs the script twice (the
    old file removed, then the new one), so the second run waited for it. matplotlib's cleanup is kept.
    """
    from streamlit.runtime.scriptrunner import script_runner

    original = getattr(script_runner, "_clean_problem_modules", None)
    if original is None or getattr(original, "keeps_keras", False):
        return

    def clean_without_keras() -> None:
        keras = sys.modules.pop("keras", None)  # hidden from the check, restored at once
        try:
            original()
        finally:
            if keras is not None:
                sys.modules["keras"] = keras

    clean_without_keras.keeps_keras = True
    script_runner._clean_problem_modules = clean_without_keras


def main() -> None:
    keep_the_keras_session()
    st.set_page_config(page_title="Runway Lens", page_icon=":material/apparel:", layout="wide")
    pages = [
        st.Page(str(PAGES_DIR / file), title=title, icon=icon, url_path=url_path(file), default=index == 0)
        for index, (file, title, icon) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    st.sidebar.title("Runway Lens")
    ui.sidebar()
    page.run()


main()
