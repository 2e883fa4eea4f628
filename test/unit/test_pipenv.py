"""Pipenv: its command lines, environment and errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from python_buildpack import environment
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
