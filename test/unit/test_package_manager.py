from __future__ import annotations

import pytest

from python_buildpack import package_manager
from python_buildpack.errors import BuildError


def test_requirements_txt_selects_pip(tmp_path):
    (tmp_path / "requirements.txt").write_text("")
    assert package_manager.detect(tmp_path) == package_manager.PIP


def test_symlinked_requirements(tmp_path):
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs/prod.txt").write_text("flask")
    (tmp_path / "requirements.txt").symlink_to("reqs/prod.txt")
    assert package_manager.detect(tmp_path) == package_manager.PIP


def test_requirements_directory_is_an_error(tmp_path):
    (tmp_path / "requirements.txt").mkdir()
    with pytest.raises(BuildError, match="isn't a regular file"):
        package_manager.detect(tmp_path)


def test_no_files_lists_the_directory(tmp_path):
    (tmp_path / "app.py").write_text("")
    (tmp_path / "static").mkdir()
    (tmp_path / ".env").write_text("")
    with pytest.raises(BuildError) as error:
        package_manager.detect(tmp_path)
    assert error.value.title == "Couldn't find any supported Python package manager files."
    assert "    .env\n    app.py\n    static/" in error.value.body


@pytest.mark.parametrize("name", ["setup.py", "setup.cfg"])
def test_setup_py_only(tmp_path, name):
    (tmp_path / name).write_text("")
    with pytest.raises(BuildError, match="-e ."):
        package_manager.detect(tmp_path)


@pytest.mark.parametrize("name, tool", [("Pipfile.lock", "Pipenv"), ("Pipfile", "Pipenv"), ("poetry.lock", "Poetry"), ("uv.lock", "uv")])
def test_other_managers_are_not_supported_yet(tmp_path, name, tool):
    (tmp_path / name).write_text("")
    with pytest.raises(BuildError) as error:
        package_manager.detect(tmp_path)
    assert error.value.title == f"{tool} apps aren't supported by this buildpack release."


def test_pinned_versions(tmp_path):
    assert package_manager.pinned_version("pip").count(".") >= 1
    (tmp_path / "tool.txt").write_text("# comment\ntool==1.2.3  # pinned\n")
    assert package_manager.pinned_version("tool", tmp_path) == "1.2.3"
    (tmp_path / "bad.txt").write_text("bad>=1\n")
    with pytest.raises(ValueError):
        package_manager.pinned_version("bad", tmp_path)
