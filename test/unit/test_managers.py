"""The pipenv, Poetry and uv steps: their command lines, environments and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataclasses import replace

from python_buildpack import environment
from python_buildpack.errors import BuildError
from python_buildpack.pipenv import Pipenv
from python_buildpack.poetry import Poetry
from conftest import fake_install, make_context
from python_buildpack.uv import Uv


@pytest.fixture
def context(tmp_path):
    location = fake_install(tmp_path, "pip-24.0-py3-none-any.whl")
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    for name, value in {
        "PIP_EXTRA_INDEX_URL": "https://u:pip-secret@pypi.example.com/simple",
        "UV_INDEX_URL": "https://u:uv-secret@pypi.example.com/simple",
        "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": "poetry-secret",
        "DATABASE_URL": "postgres://not-for-installs",
    }.items():
        (env_dir / name).write_text(value + "\n")
    return make_context(tmp_path, location, env_dir=env_dir)


def recorded(fp, stdout="", returncode=0):
    calls = []

    def callback(process):
        calls.append((process.args, process.kwargs["env"]))
        process._finish_process()  # a callback replaces pytest-subprocess's own finishing

    fp.register([fp.any()], stdout=stdout, returncode=returncode, callback=callback)
    return calls


@pytest.mark.parametrize("manager, command, secret_var, secret", [
    (Pipenv(), ["pipenv", "install", "--deploy"], "PIP_EXTRA_INDEX_URL", "pip-secret"),
    (Poetry(), ["poetry", "sync", "--only", "main", "--no-interaction", "--no-ansi", "--compile"],
     "POETRY_HTTP_BASIC_PRIVATE_PASSWORD", "poetry-secret"),
    (Uv(), ["uv", "sync", "--locked", "--no-default-groups", "--compile-bytecode", "--no-progress", "--color=never"],
     "UV_INDEX_URL", "uv-secret"),
])
def test_install_commands_get_the_index_config_vars(context, fp, capsys, manager, command, secret_var, secret):
    calls = recorded(fp, stdout="installed\n")
    manager.install_dependencies(context)
    ((args, env),) = calls
    assert args == command
    assert secret in env[secret_var]
    assert "DATABASE_URL" not in env
    out = capsys.readouterr().out
    assert secret not in out and "       installed" in out


@pytest.mark.parametrize("manager, output, error_id", [
    (Pipenv(), "Your Pipfile.lock (abc) is out of\ndate. Expected: (def).\n", "pipfile-lock::outdated"),
    (Poetry(), "pyproject.toml changed significantly since poetry.lock was last generated. Run `poetry lock`\n",
     "poetry-lock::outdated"),
    (Uv(), "error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided.\n",
     "uv-lock::outdated"),
    (Uv(), "error: No solution found\n", "install-dependencies::uv"),
    (Poetry(), "Because app depends on nope (1.0) which doesn't match any versions\n",
     "install-dependencies::poetry"),
])
def test_install_failures(context, fp, manager, output, error_id):
    recorded(fp, stdout=output, returncode=1)
    with pytest.raises(BuildError) as error:
        manager.install_dependencies(context)
    assert error.value.id == error_id


def test_uv_is_installed_once_into_the_cache(context, fp, capsys):
    manager = Uv()

    def make_binary(process):
        target = Path(process.args[process.args.index("--target") + 1])
        (target / "bin").mkdir(parents=True)
        (target / "bin" / "uv").write_text("")
        (target / f"uv-{manager.version}.dist-info").mkdir()
        process._finish_process()

    fp.register([fp.any()], callback=make_binary)
    manager.install_tool(context)
    assert f"-----> Installing uv {manager.version}" in capsys.readouterr().out
    assert (context.build.cache.root / "uv" / "bin" / "uv").exists()
    manager.install_tool(context)
    assert f"-----> Using cached uv {manager.version}" in capsys.readouterr().out
    assert len(fp.calls) == 1


def test_uv_install_failure_leaves_nothing(context, fp):
    fp.register([fp.any()], stdout="ERROR: No matching distribution found for uv", returncode=1)
    with pytest.raises(BuildError) as error:
        Uv().install_tool(context)
    assert (error.value.id, error.value.detail) == ("install-package-manager::uv", Uv().version)
    assert not (context.build.cache.root / "uv").exists()


def test_uv_environment(context):
    context.location.install_dir.mkdir(parents=True, exist_ok=True)
    tool_env = Uv().environment(context)
    env = environment.build_env(context.location, {"PATH": "/usr/bin"}, tool_env)
    assert env["UV_PROJECT_ENVIRONMENT"] == str(context.location.home)
    assert env["UV_PYTHON_DOWNLOADS"] == "never"
    assert env["UV_LINK_MODE"] == "hardlink"  # same file system here
    assert env["PATH"].startswith(f"{context.build.cache.root / 'uv' / 'bin'}:")
    assert not any(environment.RUNTIME in variable.how for variable in tool_env)  # uv stays out of the slug


def test_pipenv_environment_reaches_run_time(context):
    tool_env = Pipenv().environment(context)
    at_run_time = {variable.name for variable in tool_env if environment.RUNTIME in variable.how}
    assert at_run_time == {"PATH", "PIPENV_SYSTEM", "PIPENV_VERBOSITY", "VIRTUAL_ENV"}
    script = environment.profile_script(tool_env)
    assert 'export VIRTUAL_ENV="${HOME}/.heroku/python"' in script
    assert '*) export PATH="${HOME}/.heroku/python/pipenv/bin${PATH:+:${PATH}}" ;;' in script


def test_poetry_install_failure(context, fp):
    fp.register([fp.any()], returncode=1)
    with pytest.raises(BuildError) as error:
        Poetry().install_tool(context)
    assert (error.value.id, error.value.detail) == ("install-package-manager::poetry", Poetry().version)
    assert not (context.build.cache.root / "poetry").exists()


@pytest.mark.parametrize("manager, command", [
    (Pipenv(), ["pipenv", "install", "--deploy", "--dev"]),
    (Poetry(), ["poetry", "sync", "--no-interaction", "--no-ansi", "--compile"]),
    (Uv(), ["uv", "sync", "--locked", "--compile-bytecode", "--no-progress", "--color=never"]),
])
def test_test_builds_install_the_dev_dependencies(context, fp, manager, command):
    context.build = replace(context.build, install_test=True)
    calls = recorded(fp)
    manager.install_dependencies(context)
    assert calls[0][0] == command
