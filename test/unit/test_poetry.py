"""Poetry: its command lines, environment and errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from python_buildpack.errors import BuildError
from python_buildpack.poetry import Poetry
from conftest import recorded


def test_install_command_gets_the_index_config_vars(context, fp, capsys):
    calls = recorded(fp, stdout="installed\n")
    Poetry().install_dependencies(context)
    ((args, env),) = calls
    assert args == ["poetry", "sync", "--only", "main", "--no-interaction", "--no-ansi", "--compile"]
    assert "poetry-secret" in env["POETRY_HTTP_BASIC_PRIVATE_PASSWORD"]
    assert "DATABASE_URL" not in env
    out = capsys.readouterr().out
    assert "poetry-secret" not in out and "       installed" in out


@pytest.mark.parametrize("output, error_id", [
    ("pyproject.toml changed significantly since poetry.lock was last generated. Run `poetry lock`\n",
     "poetry-lock::outdated"),
    ("Because app depends on nope (1.0) which doesn't match any versions\n", "install-dependencies::poetry"),
])
def test_install_failures(context, fp, output, error_id):
    recorded(fp, stdout=output, returncode=1)
    with pytest.raises(BuildError) as error:
        Poetry().install_dependencies(context)
    assert error.value.id == error_id


def test_poetry_install_failure(context, fp):
    fp.register([fp.any()], returncode=1)
    with pytest.raises(BuildError) as error:
        Poetry().install_tool(context)
    assert (error.value.id, error.value.detail) == ("install-package-manager::poetry", Poetry().version)
    assert not (context.build.cache.root / "poetry").exists()


def test_test_builds_install_the_dev_dependencies(context, fp):
    context.build = replace(context.build, install_test=True)
    calls = recorded(fp)
    Poetry().install_dependencies(context)
    assert calls[0][0] == ["poetry", "sync", "--no-interaction", "--no-ansi", "--compile"]
