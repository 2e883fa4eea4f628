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


def monorepo(tmp_path):
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "requirements.txt").write_text("flask\n")
    (tmp_path / "frontend").mkdir()
    (tmp_path / "frontend" / "package.json").write_text("{}")
    return tmp_path


def test_the_app_dir_setting_from_the_environment(tmp_path, capsys):
    """dokku and herokuish pass config vars to detect in its environment."""
    monorepo(tmp_path)
    assert detect.detect(tmp_path, {"PYTHON_APP_DIR": "backend/"}) == 0
    assert capsys.readouterr() == ("Python\n", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backend", "frontend"]  # no side effects


def test_an_app_dir_without_python_files(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monorepo(tmp_path)
    assert detect.detect(tmp_path, {"PYTHON_APP_DIR": "frontend"}) == 1
    out, err = capsys.readouterr()
    assert out == "" and "Python project file in the app's directory, frontend/ (PYTHON_APP_DIR)" in err
    assert " !     It holds:\n !         package.json\n" in err


def test_a_python_root_passes_whatever_the_app_dir_says(tmp_path, capsys):
    """compile then says what is wrong with the setting, in the build log."""
    (tmp_path / "requirements.txt").write_text("")
    for value in ("frontend", "../elsewhere"):
        assert detect.detect(tmp_path, {"PYTHON_APP_DIR": value}) == 0


def test_an_unusable_app_dir_is_explained(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monorepo(tmp_path)
    assert detect.detect(tmp_path, {"PYTHON_APP_DIR": "backnd"}) == 1
    assert "Error: The directory PYTHON_APP_DIR names doesn't exist." in capsys.readouterr().err


def test_without_the_setting_a_monorepo_isnt_python(tmp_path):
    assert detect.detect(monorepo(tmp_path), {}) == 1
