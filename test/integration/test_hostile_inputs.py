"""Hostile and broken input, as an attacker (or an unlucky user) would send
it: the app's files, its config vars, the build environment and its hooks.
Each build ends in one clear error or a correct slug, within a time bound,
printing no config var's value; and the next build with the same cache is
correct."""

from __future__ import annotations

import functools
import os
import time

import pytest

import stack_env
from test_builds import failed, no_secrets, ok

SECRET = "s3cret-value-never-printed"
# A build of these apps takes seconds: a hang must fail the test, not the suite.
BUILD_TIMEOUT = 240


@pytest.fixture(autouse=True)
def bounded_builds(monkeypatch, herokuish):
    monkeypatch.setattr(stack_env, "run", functools.partial(stack_env.run, timeout=BUILD_TIMEOUT))
    herokuish.config["SECRET_KEY"] = SECRET


# Each: files changed in minimal_app, and the id of its error. All fail
# before Python is installed, so they run one after another in one test,
# ending with a good build of the same cache. (Each error's cases are unit
# tests; these are the whole path: a read that would hang, a .heroku the
# report can't be written in, one error block.)
BROKEN_APPS = {
    "requirements.txt in Latin-1": (
        {"requirements.txt": "six==1.17.0  # café\n".encode("latin-1")}, "app-files::not-utf8"),
    "-r of a device": (
        {"requirements.txt": "-r /dev/zero\n"}, "requirements-txt::unusable-include"),
    ".heroku linked out of the app by pre_compile": (
        {"bin/pre_compile": "#!/bin/sh\nmkdir -p /tmp/elsewhere && ln -s /tmp/elsewhere .heroku\n"},
        "checks::heroku-dir-unusable"),
    "Pipfile.lock of the wrong shape": (
        {"requirements.txt": None, "Pipfile": "[packages]\n",
         "Pipfile.lock": '{"_meta": {"requires": {"python_version": "3.12"}}, "default": ["flask"]}'},
        "pipfile-lock::invalid-structure"),
}


def test_broken_app_files_fail_clearly_then_the_app_builds(herokuish, fixture_app):
    for case, (files, error_id) in BROKEN_APPS.items():
        started = time.monotonic()
        outcome = herokuish.build(fixture_app("minimal_app", files))
        failed(outcome, error_id)
        no_secrets(outcome, SECRET)
        assert time.monotonic() - started < 60, case
    outcome = herokuish.build(fixture_app("minimal_app"))
    ok(outcome)
    no_secrets(outcome, SECRET)
    assert herokuish.fetch("/").text == "<p>minimal app</p>\n"


def test_settings_that_would_install_outside_the_slug_are_ignored(herokuish, fixture_app, stack, monkeypatch):
    # dokku passes every config var into the build environment too.
    settings = {"PIP_TARGET": f"/tmp/{SECRET}", "PIP_USER": "1", "PIP_PREFIX": "/tmp/prefix",
                "PIP_ROOT": "/tmp/root", "PIP_REQUIRE_VIRTUALENV": "1", "VIRTUAL_ENV": f"/tmp/{SECRET}-venv"}
    herokuish.config.update(settings)
    herokuish.env.update(settings)
    # And the config var directory has a named pipe (a read would block for ever).
    write_env_dir = herokuish.write_env_dir

    def with_a_fifo() -> str:
        inside = write_env_dir()
        os.mkfifo(stack.host_path(inside) / "A_FIFO")
        return inside

    monkeypatch.setattr(herokuish, "write_env_dir", with_a_fifo)
    source = fixture_app("minimal_app", {"requirements.txt": "six==1.17.0\n"})
    outcome = herokuish.build(source)
    result = ok(outcome)
    no_secrets(outcome, SECRET)
    assert "Warning: Some package manager settings are ignored during the build." in result.stderr
    assert "PIP_TARGET (config var): pip would install into that directory" in result.stderr
    assert "A_FIFO: is a named pipe (FIFO), not a regular file" in result.stderr
    assert "\n        + six==1.17.0\n" in result.stdout  # uv's line
    assert not stack.host_path(f"/tmp/{SECRET}").exists()
    check = herokuish.run_in_app("python -c 'import six; print(six.__file__)'")
    assert check.stdout.startswith("/app/.heroku/python/lib/python3.12/site-packages/six.py"), check.output


def test_hooks_that_hang_or_cannot_start_then_the_app_builds(herokuish, fixture_app):
    # A background process keeps the hook's output open: the build goes on.
    hook = "#!/bin/sh\necho \"starting a worker\"\nsleep 900 &\necho hook done\n"
    source = fixture_app("minimal_app", {"bin/post_compile": hook})
    started = time.monotonic()
    outcome = herokuish.build(source)
    log = ok(outcome).stdout
    assert time.monotonic() - started < BUILD_TIMEOUT / 2
    assert "       starting a worker\n       hook done\n" in log
    no_secrets(outcome, SECRET)

    # A config var too large to pass to a program: named, never shown.
    herokuish.config["BIG_CERTIFICATE"] = SECRET * 8000
    outcome = herokuish.build(source)
    result = failed(outcome, "build-env::variable-too-large")
    assert outcome.report["error"]["detail"] == "BIG_CERTIFICATE" and "config:unset BIG_CERTIFICATE" in result.stderr
    no_secrets(outcome, SECRET)

    del herokuish.config["BIG_CERTIFICATE"]
    outcome = herokuish.build(source)
    ok(outcome)
    no_secrets(outcome, SECRET)
    assert herokuish.fetch("/").text == "<p>minimal app</p>\n"
