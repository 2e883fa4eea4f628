"""Pipenv: its command lines, environment and errors."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from python_buildpack import app_files, environment, pipenv
from python_buildpack.errors import BuildError
from python_buildpack.pipenv import Pipenv
from conftest import recorded


def test_install_command_gets_the_index_config_vars(context, fp, capsys):
    calls = recorded(fp, stdout="installed\n")
    Pipenv().install_dependencies(context)
    ((args, env),) = calls
    assert args == ["pipenv", "install", "--deploy"]
    assert "pip-secret" in env["PIP_EXTRA_INDEX_URL"]
    assert "DATABASE_URL" not in env
    out = capsys.readouterr().out
    assert "pip-secret" not in out and "       installed" in out


def test_install_failure_with_an_outdated_lock(context, fp):
    recorded(fp, stdout="Your Pipfile.lock (abc) is out of\ndate. Expected: (def).\n", returncode=1)
    with pytest.raises(BuildError) as error:
        Pipenv().install_dependencies(context)
    assert error.value.id == "pipfile-lock::outdated"


def test_pipenv_environment_reaches_run_time(context):
    tool_env = Pipenv().environment(context)
    at_run_time = {variable.name for variable in tool_env if environment.RUNTIME in variable.how}
    assert at_run_time == {"PATH", "PIPENV_SYSTEM", "PIPENV_VERBOSITY", "VIRTUAL_ENV"}
    script = environment.profile_script(tool_env)
    assert 'export VIRTUAL_ENV="${HOME}/.heroku/python"' in script
    assert '*) export PATH="${HOME}/.heroku/python/pipenv/bin${PATH:+:${PATH}}" ;;' in script


def test_test_builds_install_the_dev_dependencies(context, fp):
    context.build = replace(context.build, install_test=True)
    calls = recorded(fp)
    Pipenv().install_dependencies(context)
    assert calls[0][0] == ["pipenv", "install", "--deploy", "--dev"]


def write_lock(tmp_path, meta=None, default=None):
    data = {"_meta": meta or {}, "default": default or {}}
    (tmp_path / "Pipfile.lock").write_text(json.dumps(data))


@pytest.mark.parametrize("requires, expected", [
    ({"python_version": "3.12"}, "3.12"),
    ({"python_full_version": "3.12.4", "python_version": "3.12"}, "3.12.4"),
    ({}, None),
])
def test_pipfile_lock_versions(tmp_path, requires, expected):
    write_lock(tmp_path, {"requires": requires})
    assert pipenv.python_version_from_lock(tmp_path) == expected


@pytest.mark.parametrize("content, error_id", [
    ("{ nope", "pipfile-lock::invalid-json"),
    (json.dumps({"_meta": {"requires": {"python_version": "^3.12"}}}), "pipfile-lock::invalid-version"),
    (json.dumps({"_meta": {"requires": {"python_version": 3.12}}}), "pipfile-lock::invalid-version"),
])
def test_pipfile_lock_errors(tmp_path, content, error_id):
    (tmp_path / "Pipfile.lock").write_text(content)
    with pytest.raises(BuildError) as error:
        pipenv.python_version_from_lock(tmp_path)
    assert error.value.id == error_id


@pytest.mark.parametrize("content, problem", [
    ("[]", "it has a list at the top"),
    ("null", "it has null at the top"),
    ('{"default": {}}', 'it has no "_meta" object'),
    ('{"_meta": []}', 'it has "_meta" as a list'),
    ('{"_meta": {"requires": "3.12"}}', 'it has "_meta.requires" as a string, not an object'),
    ('{"_meta": {"sources": {}}}', 'it has "_meta.sources" as an object, not a list'),
    ('{"_meta": {}, "default": []}', 'it has "default" as a list, not an object of packages'),
    ('{"_meta": {}, "develop": "x"}', 'it has "develop" as a string'),
    ('{"_meta": {}, "default": {"flask": "==3.1"}}', 'it has the package "flask" in "default" as a string'),
])
def test_pipfile_lock_of_the_wrong_shape(tmp_path, content, problem):
    # Valid JSON that isn't a lockfile: Pipenv would crash on it later.
    (tmp_path / "Pipfile.lock").write_text(content)
    for read in (pipenv.python_version_from_lock, lambda path: pipenv.Pipenv().dependencies(path)):
        with pytest.raises(BuildError) as error:
            read(tmp_path)
        assert error.value.id == "pipfile-lock::invalid-structure"
        assert problem in error.value.body and "pipenv lock" in error.value.body


def test_pipfile_lock_not_utf8_or_unreadable(tmp_path, monkeypatch):
    (tmp_path / "Pipfile.lock").write_bytes(b'{"_meta": {}, "default": {"caf\xe9": {}}}')
    with pytest.raises(BuildError) as error:
        pipenv.Pipenv().dependencies(tmp_path)
    assert (error.value.id, error.value.detail) == ("app-files::not-utf8", "Pipfile.lock")
    assert "byte offset 30 (line 1)" in error.value.body and "Save it as UTF-8" in error.value.body

    def refuse(path, limit=0):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(app_files, "read_bytes", refuse)
    with pytest.raises(BuildError) as error:
        pipenv.python_version_from_lock(tmp_path)
    assert (error.value.id, error.value.detail) == ("app-files::unreadable", "Pipfile.lock")
    assert "Permission denied" in error.value.body and "chmod 644 Pipfile.lock" in error.value.body


def test_pipenv_dependencies(tmp_path):
    write_lock(tmp_path, default={"flask": {"version": "==3.1.3"}})
    plain = pipenv.Pipenv().dependencies(tmp_path)
    assert plain.reinstall_reason is None
    write_lock(tmp_path, default={"mypkg": {"path": ".", "editable": True}})
    local = pipenv.Pipenv().dependencies(tmp_path)
    assert "mypkg" in local.reinstall_reason and local.fingerprint != plain.fingerprint
