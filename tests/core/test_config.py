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


def test_atomic_writes_replace_whole_files_with_normal_permissions(tmp_path):
    import os

    from core.fileio import write_json_atomic, write_text_atomic

    target = tmp_path / "nested" / "report.json"
    write_text_atomic(target, "old")
    write_json_atomic(target, {"accuracy": 0.86})
    assert target.read_text().strip().startswith("{") and '"accuracy": 0.86' in target.read_text()
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]  # no temp file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
