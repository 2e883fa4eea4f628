"""bin/detect: which apps are Python apps, and what a non-Python app is told."""

from __future__ import annotations

import pytest

from python_buildpack import detect


@pytest.mark.parametrize("name", ["requirements.txt", "pyproject.toml", "uv.lock", "manage.py", "runtime.txt",
                                  "requirments.txt", "Requirements.txt"])
def test_a_python_project_file_makes_a_python_app(tmp_path, capsys, name):
    (tmp_path / name).write_text("")
    assert detect.detect(tmp_path) == 0
    assert capsys.readouterr() == ("Python\n", "")


@pytest.mark.parametrize("name", [".venv", "__pycache__"])
def test_python_directories_count_too(tmp_path, name):
    (tmp_path / name).mkdir()
    assert detect.is_python_app(tmp_path)


def test_a_broken_link_counts(tmp_path):
    (tmp_path / "requirements.txt").symlink_to("reqs/missing.txt")
    assert detect.is_python_app(tmp_path)


def test_files_in_subdirectories_dont_count(tmp_path):
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "requirements.txt").write_text("flask\n")
    assert not detect.is_python_app(tmp_path)


def test_another_app_is_told_what_its_root_holds(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "src").mkdir()
    assert detect.detect(tmp_path) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("\n !     Error: This app doesn't look like a Python app.\n")
    assert " !     The root directory holds:\n !         package.json\n !         src/\n" in err
