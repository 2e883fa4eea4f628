from __future__ import annotations

import pytest

from python_buildpack import managers
from python_buildpack.errors import BuildError


def detect(tmp_path, *names, content=""):
    for name in names:
        (tmp_path / name).write_text(content)
    return managers.detect(tmp_path)


@pytest.mark.parametrize("name, manager", [
    ("requirements.txt", "pip"), ("Pipfile.lock", "pipenv"), ("poetry.lock", "poetry"), ("uv.lock", "uv"),
    ("pdm.lock", "pdm"),
])
def test_one_file_selects_its_manager(tmp_path, name, manager):
    selected = detect(tmp_path, name, "pyproject.toml", "Pipfile" if manager == "pipenv" else "setup.py")
    assert selected.name == manager and selected.file_name == name
    assert selected.version.count(".") >= 1


def test_symlinked_requirements(tmp_path):
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs/prod.txt").write_text("flask")
    (tmp_path / "requirements.txt").symlink_to("reqs/prod.txt")
    assert managers.detect(tmp_path).name == "pip"


def test_requirements_directory_is_an_error(tmp_path):
    (tmp_path / "requirements.txt").mkdir()
    with pytest.raises(BuildError) as error:
        managers.detect(tmp_path)
    assert (error.value.id, error.value.detail) == ("app-files::not-a-file", "requirements.txt")


def test_several_manager_files(tmp_path):
    with pytest.raises(BuildError) as error:
        detect(tmp_path, "requirements.txt", "uv.lock", "Pipfile.lock")
    assert (error.value.id, error.value.detail) == ("package-manager::multiple-found", "pipenv,pip,uv")
    assert "    Pipfile.lock (Pipenv)\n    requirements.txt (pip)\n    uv.lock (uv)" in error.value.body


def test_pipfile_without_lock(tmp_path):
    with pytest.raises(BuildError) as error:
        detect(tmp_path, "Pipfile")
    assert error.value.id == "package-manager::pipenv-missing-lockfile" and "pipenv lock" in error.value.body


@pytest.mark.parametrize("content, command", [
    ("[tool.poetry]\nname = 'x'\n", "poetry lock"),
    ("[project]\nname = 'x'\n[tool.uv]\n", "uv lock"),
    ("[project]\nname = 'x'\n", "uv lock"),
    ("[project]\nname = 'x'\n[tool.pdm]\ndistribution = false\n", "pdm lock"),
    # Both tools read [dependency-groups]: PDM's own table decides...
    ("[dependency-groups]\ndev = ['pytest']\n[tool.pdm]\n", "This looks like a PDM project"),
    # ...and without one, the shared table alone means uv.
    ("[dependency-groups]\ndev = ['pytest']\n", "This looks like a uv project"),
])
def test_pyproject_without_lock(tmp_path, content, command):
    with pytest.raises(BuildError) as error:
        detect(tmp_path, "pyproject.toml", content=content)
    assert error.value.id == "package-manager::pyproject-missing-lockfile"
    assert command in error.value.body


def test_no_files_lists_the_directory(tmp_path):
    (tmp_path / "app.py").write_text("")
    (tmp_path / "static").mkdir()
    (tmp_path / ".env").write_text("")
    with pytest.raises(BuildError) as error:
        managers.detect(tmp_path)
    assert error.value.id == "package-manager::none-found"
    assert "    .env\n    app.py\n    static/" in error.value.body


@pytest.mark.parametrize("name", ["setup.py", "setup.cfg"])
def test_setup_py_only(tmp_path, name):
    with pytest.raises(BuildError) as error:
        detect(tmp_path, name)
    assert error.value.id == "package-manager::setup-py-only"
    assert "\n    -e .\n" in error.value.body
