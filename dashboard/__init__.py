"""Runway Lens dashboard: a Streamlit multipage app over the workspace's run and dataset folders.

`streamlit run dashboard/app.py` starts it (`make run`). Pages live in `dashboard/app_pages/`; they read
artifacts only through `dashboard.artifacts`, build charts with `dashboard.figures` and share widgets
from `dashboard.ui`. docs/DASHBOARD.md describes the pages.
"""
