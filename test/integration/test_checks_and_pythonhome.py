"""Checks of what the app brings (a committed venv, the buildpack listed
twice) and PYTHONHOME: set to the app's Python at run time and for later
buildpacks, whatever a stale config var says, with the tools still working."""

from __future__ import annotations

from test_builds import failed, ok

VENV_FILES = {
    ".venv/pyvenv.cfg": "home = /usr/bin\ninclude-system-site-packages = false\n",
    ".venv/bin/python": "",
    ".venv/lib/python3.12/site-packages/flask/__init__.py": "",
}


def test_committed_venv_fails_the_build(herokuish, fixture_app):
    outcome = herokuish.build(fixture_app("minimal_app", VENV_FILES))
    result = failed(outcome, "checks::existing-venv-dir")
    # After the package manager is found, before Python is chosen.
    assert "-----> Using the pip package manager (requirements.txt)" in result.stdout
    assert "Installing Python" not in result.stdout
    for line in ("    .venv/", "    .venv/bin/python", "    .venv/lib/python3.12/", "    .venv/pyvenv.cfg"):
        assert f"{line}\n" in result.stderr
    assert "site-packages" not in result.stderr  # two levels only
    assert "git rm --cached -r .venv/" in result.stderr and ".gitignore" in result.stderr


def test_buildpack_run_twice_in_one_build(herokuish, fixture_app, stack):
    # The harness's next buildpack is this one again: its export file sourced,
    # then bin/compile run on the same build dir.
    tmp = stack.tmp_dir
    outcome = herokuish.build(fixture_app("minimal_app"),
                              later_buildpack=f'{tmp}/buildpack/bin/compile "$PWD" {tmp}/cache {tmp}/env')
    ok(outcome)
    second = outcome.later_buildpack
    assert second.returncode == 1, second.output
    assert "Error: The Python buildpack has already been run this build." in second.stderr
    assert "heroku buildpacks" in second.stderr and ".buildpacks" in second.stderr
    assert second.stdout == "" and "Traceback" not in second.output  # before anything else


def test_pythonhome_config_var_is_no_second_run(herokuish, fixture_app):
    # dokku passes config vars, PYTHONHOME included, to every build.
    herokuish.env["PYTHONHOME"] = herokuish.config["PYTHONHOME"] = "/app/.heroku/python"
    ok(herokuish.build(fixture_app("minimal_app")))
    ok(herokuish.build(fixture_app("minimal_app")))
    # With a committed .heroku/python, that is what the build reports.
    source = fixture_app("minimal_app", {".heroku/python/bin/python": "#!/bin/sh\n"})
    failed(herokuish.build(source), "checks::existing-python-dir")


def test_stale_pythonhome_config_var_at_run_time(herokuish, fixture_app, runtime_archives):
    herokuish.config["PYTHONHOME"] = "/nonexistent"
    ok(herokuish.build(fixture_app("minimal_app")))
    herokuish.env["PYTHONHOME"] = "/nonexistent"  # the app's environment at run time
    result = herokuish.run_in_app('python -c "import sys; print(sys.prefix)"; echo "$PYTHONHOME"')
    assert result.returncode == 0, result.output
    assert result.stdout == "/app/.heroku/python\n/app/.heroku/python\n"
    assert herokuish.fetch("/").text == "<p>minimal app</p>\n"


def test_pipenv_with_pythonhome_in_later_buildpacks_and_at_run_time(herokuish, fixture_app):
    herokuish.env["PYTHONHOME"] = herokuish.config["PYTHONHOME"] = "/nonexistent"
    outcome = herokuish.build(
        fixture_app("pipenv_app"),
        later_buildpack='echo "PYTHONHOME=$PYTHONHOME"; pipenv --version; pipenv run python -c "import flask; print(flask.__name__)"')
    ok(outcome)
    later = outcome.later_buildpack
    assert later.returncode == 0, later.output
    assert later.stdout.splitlines()[0] == "PYTHONHOME=/app/.heroku/python"
    assert "pipenv, version" in later.stdout and later.stdout.endswith("flask\n")

    result = herokuish.run_in_app('pipenv run python -c "import flask, sys; print(sys.prefix, flask.__name__)"')
    assert result.returncode == 0, result.output
    assert result.stdout == "/app/.heroku/python flask\n"
    assert herokuish.fetch("/").text == "Hello from a pipenv app on Python 3.12, without dev dependencies"
