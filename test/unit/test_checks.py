from __future__ import annotations

import pytest

from python_buildpack import checks, errors


def make_python(build_dir):
    python = build_dir / ".heroku" / "python" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    return python.parents[1]


def test_second_run_in_one_build_is_an_error(tmp_path):
    build = tmp_path / "build"
    install = make_python(build)
    app_home = tmp_path / "app" / ".heroku" / "python"
    app_home.parent.mkdir(parents=True)
    app_home.symlink_to(install)  # what an earlier run leaves
    for home in (str(app_home), str(install), f"{install}/"):
        with pytest.raises(errors.BuildError) as raised:
            checks.not_run_twice(build, {"PYTHONHOME": home}, app_home)
        assert raised.value.id == "checks::duplicate-python-buildpack"


def test_pythonhome_or_python_alone_is_no_second_run(tmp_path):
    build = tmp_path / "build"
    app_home = tmp_path / "app" / ".heroku" / "python"
    # dokku passes a PYTHONHOME config var; nothing is installed yet.
    checks.not_run_twice(build, {"PYTHONHOME": str(app_home)}, app_home)
    install = make_python(build)
    checks.not_run_twice(build, {}, app_home)
    # A stale config var naming another place.
    checks.not_run_twice(build, {"PYTHONHOME": "/nonexistent"}, app_home)
    # /app/.heroku/python exists but isn't this build's install (herokuish keeps
    # the source, with a committed .heroku/python, in /app).
    app_home.mkdir(parents=True)
    checks.not_run_twice(build, {"PYTHONHOME": str(app_home)}, app_home)
    assert install.is_dir()


@pytest.mark.parametrize("make", [
    lambda python: (python / "bin").mkdir(parents=True),
    lambda python: (python.parent.mkdir(), python.symlink_to("/nonexistent")),
], ids=["directory", "dangling link"])
def test_committed_python_dir(tmp_path, make):
    make(tmp_path / ".heroku" / "python")
    with pytest.raises(errors.BuildError) as raised:
        checks.no_existing_python_dir(tmp_path)
    assert raised.value.id == "checks::existing-python-dir"
    assert "git rm -r --cached .heroku/python" in raised.value.body


@pytest.mark.parametrize("name", [".venv", "venv"])
def test_committed_venv(tmp_path, name):
    venv = tmp_path / name
    (venv / "lib" / "python3.12" / "site-packages" / "flask").mkdir(parents=True)
    (venv / "bin").mkdir()
    (venv / "bin" / "python").write_text("")
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    with pytest.raises(errors.BuildError) as raised:
        checks.no_committed_venv(tmp_path)
    error = raised.value
    assert (error.id, error.detail) == ("checks::existing-venv-dir", name)
    assert f"git rm --cached -r {name}/" in error.body and ".gitignore" in error.body
    assert "another location" in error.body
    # Two levels: lib/python3.12 is listed, site-packages under it isn't.
    assert error.body.split("\n")[1:6] == [
        f"    {name}/", f"    {name}/bin/", f"    {name}/bin/python", f"    {name}/lib/",
        f"    {name}/lib/python3.12/",
    ]
    assert "site-packages" not in error.body


def test_directories_named_venv_without_pyvenv_cfg_are_fine(tmp_path):
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "notes.txt").write_text("")
    checks.no_committed_venv(tmp_path)


def test_listing_is_short(tmp_path):
    for index in range(30):
        (tmp_path / "big" / f"f{index:02}").mkdir(parents=True)
    lines = checks.listing(tmp_path / "big", tmp_path).split("\n")
    assert len(lines) == checks.LISTING_LIMIT + 1
    assert lines[0] == "    big/" and lines[-1] == "    ... and 11 more"
