"""The workspace is configurable in one place."""

from pathlib import Path

from core.config import RUNWAY_CSV_COLUMNS, get_settings, workspace_root


def test_workspace_defaults_to_dot_workspace(monkeypatch, tmp_path):
    monkeypatch.delenv("RUNWAY_LENS_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert workspace_root() == (tmp_path / "workspace").resolve()


def test_workspace_env_variable_moves_every_path(workspace):
    paths = get_settings().paths
    for path in (paths.assets, paths.datasets, paths.runs, paths.feature_cache, paths.rembg_cache, paths.demo):
        assert Path(path).is_relative_to(workspace)
    assert paths.run_dir("demo-raw") == workspace / "runs" / "demo-raw"


def test_thesis_csv_columns_in_order():
    assert RUNWAY_CSV_COLUMNS[:3] == ("collection_url", "image_url", "image_alt")
    assert RUNWAY_CSV_COLUMNS[-1] == "brand" and len(RUNWAY_CSV_COLUMNS) == 11
