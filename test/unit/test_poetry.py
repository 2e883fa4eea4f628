"""Poetry: its command lines, environment and errors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from python_buildpack.errors import BuildError
from python_buildpack.poetry import Poetry
from conftest import POETRY_PYPROJECT, recorded


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


def test_poetry_lockfile_not_utf8(tmp_path):
    (tmp_path / "poetry.lock").write_bytes(b"\xff\xfe")
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\npackage-mode = false\n")
    with pytest.raises(BuildError) as error:
        Poetry().dependencies(tmp_path)
    assert (error.value.id, error.value.detail) == ("app-files::not-utf8", "poetry.lock")


def test_poetry_dependencies(tmp_path):
    (tmp_path / "poetry.lock").write_text('[[package]]\nname = "flask"\n')
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\npackage-mode = false\n")
    assert Poetry().dependencies(tmp_path).reinstall_reason is None
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\nname = 'app'\n")
    assert "project itself" in Poetry().dependencies(tmp_path).reinstall_reason
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\npackage-mode = false\n")
    (tmp_path / "poetry.lock").write_text('[package.source]\ntype = "directory"\nurl = "libs/x"\n')
    assert "local paths or version control" in Poetry().dependencies(tmp_path).reinstall_reason


def test_poetry_reads_both_keys_in_its_syntax(tmp_path):
    (tmp_path / "pyproject.toml").write_text(POETRY_PYPROJECT)
    ranges = Poetry().python_ranges(tmp_path)
    assert [(r.key, r.text) for r in ranges] == [
        ("requires-python", ">=3.11"), ("[tool.poetry.dependencies] python", "^3.12"),
    ]
    # Poetry 1 style: only the python dependency; requires-python in Poetry's syntax too.
    (tmp_path / "pyproject.toml").write_text("[tool.poetry.dependencies]\npython = '~3.12'\n")
    assert [r.text for r in Poetry().python_ranges(tmp_path)] == ["~3.12"]
    (tmp_path / "pyproject.toml").write_text("[project]\nrequires-python = '^3.12'\n")
    assert Poetry().python_ranges(tmp_path)[0].allows("3.13.1")
    # Read even with a .python-version: the chosen version is checked against them.
    (tmp_path / ".python-version").write_text("3.12\n")
    assert Poetry().python_ranges(tmp_path) and Poetry().enforces_python_range
