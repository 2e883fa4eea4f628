from __future__ import annotations

from python_buildpack import app_files


def test_file_fingerprint(tmp_path):
    (tmp_path / "a").write_text("1")
    first = app_files.fingerprint(tmp_path / "a", tmp_path / "missing")
    (tmp_path / "a").write_text("2")
    assert app_files.fingerprint(tmp_path / "a", tmp_path / "missing") != first
