"""Real apps built herokuish-style in the stack environment, booted and fetched."""

from __future__ import annotations

import yaml_check


def assert_built(outcome) -> None:
    assert outcome.ok, (outcome.detect.output, outcome.compile and outcome.compile.output)
    assert "Traceback" not in outcome.compile.output


def test_flask_app_builds_reuses_its_cache_and_serves(herokuish, fixture_app, runtime_archives):
    source = fixture_app("flask_app")
    version = runtime_archives.versions["3.12"]

    first = herokuish.build(source)
    assert_built(first)
    assert first.detect.stdout == "Python\n"
    log = first.compile.stdout
    assert "-----> Using Python 3.12 specified in .python-version" in log
    assert f"-----> Installing Python {version}" in log
    assert "-----> Installing uv " in log
    assert "-----> Installing pip " in log  # into the app's Python: apps and one-off commands run it
    assert "-----> Installing dependencies using 'uv pip install -r requirements.txt'" in log
    assert "\n        + flask==3.1.3\n" in log and "\n        + gunicorn==23.0.0\n" in log
    yaml_check.assert_yaml_mapping_or_empty(first.release.stdout)

    second = herokuish.build(source)
    assert_built(second)
    log = second.compile.stdout
    assert "-----> Restoring cache" in log
    assert f"-----> Using cached install of Python {version}" in log
    assert "-----> Skipping dependency install" in log
    assert "Installing dependencies" not in log
    assert second.report["cache_saved"] == "early copy"  # copied once, beside the steps after the restore

    response = herokuish.fetch("/")
    assert response.status_code == 200
    assert response.text == "Hello from Flask on Python 3.12"


def test_django_app_builds_and_serves(herokuish, fixture_app, runtime_archives):
    source = fixture_app("django_app")
    first = herokuish.build(source)
    assert_built(first)
    assert f"-----> Installing Python {runtime_archives.versions['3.13']}" in first.compile.stdout
    assert "\n        + django==5.2.8\n" in first.compile.stdout

    second = herokuish.build(source)
    assert_built(second)
    assert "-----> Skipping dependency install" in second.compile.stdout

    response = herokuish.fetch("/")
    assert response.status_code == 200
    assert response.text == "Hello from Django 5.2.8 on Python 3.13"
