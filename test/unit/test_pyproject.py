from __future__ import annotations

import pytest

from python_buildpack import app_files, pyproject
from python_buildpack.errors import BuildError

PYPROJECT = """\
# comment
[build-system]
requires = ["hatchling"]

[project]
name = "app"
requires-python = ">=3.11"   # trailing comment
dependencies = [
    "flask",
]

[tool.poetry]
package-mode = false

[[tool.poetry.source]]
name = "x"
url = "https://example.com/simple/"
"""


def test_reads_the_keys_the_buildpack_needs(tmp_path):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    assert pyproject.read(tmp_path) == pyproject.Pyproject(">=3.11", True, False, None, pdm_distribution=True)


def test_defaults(tmp_path):
    assert pyproject.read(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert pyproject.read(tmp_path) == pyproject.Pyproject(None, False, True, None, pdm_distribution=True)


@pytest.mark.parametrize("content, distribution", [
    ("[project]\nname = 'x'\n", True),  # PDM installs any named project...
    ("[project]\nname = 'x'\n[tool.pdm]\ndistribution = false\n", False),  # ...unless told not to
    ("[project]\nname = 'x'\n[tool.pdm]\ndistribution = true\n", True),
    ("[project]\nname = 'x'\n[tool.pdm]\npackage-type = 'application'\ndistribution = true\n", False),
    ("[project]\nname = 'x'\n[tool.pdm]\npackage-type = 'library'\n", True),
    ("[project]\nversion = '1'\n", False),  # no name: nothing to install
    ("[tool.pdm]\ndistribution = true\n", False),
])
def test_pdm_installs_the_project_itself(tmp_path, content, distribution):
    (tmp_path / "pyproject.toml").write_text(content)
    assert pyproject.read(tmp_path).pdm_distribution is distribution


def test_pdm_source_variables(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[[tool.pdm.source]]\nname = 'private'\nurl = 'https://${USER_1}:${TOKEN}@pypi.example.com/${TOKEN}/simple'\n"
        "[[tool.pdm.source]]\nname = 'pypi'\nurl = 'https://pypi.org/simple/'\n"
        "[[tool.pdm.source]]\nname = 'odd'\nurl = '$PLAIN ${} ${1X} %WIN%'\n"
        "[[tool.pdm.source]]\nname = 'no-url'\n"
    )
    assert pyproject.read(tmp_path).pdm_source_variables == ("TOKEN", "USER_1")
    (tmp_path / "pyproject.toml").write_text("[tool.pdm]\nsource = 'not a list'\n")
    assert pyproject.read(tmp_path).pdm_source_variables == ()


def test_poetry_python_and_full_toml(tmp_path):
    # Multi-line strings, inline tables and arrays of tables: real TOML.
    (tmp_path / "pyproject.toml").write_text(
        '[tool.poetry]\ndescription = """\n[not.a.table]\n"""\n'
        '[tool.poetry.dependencies]\npython = "^3.12"\nflask = { version = "^3.1", extras = ["async"] }\n'
        '[[tool.poetry.source]]\nname = "x"\n[project]\nrequires-python = \'\'\'>=3.11\'\'\'\n'
    )
    assert pyproject.read(tmp_path) == pyproject.Pyproject(">=3.11", False, True, "^3.12")


def test_blank_requires_python_is_absent(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nrequires-python = ' '\n")
    assert pyproject.read(tmp_path).requires_python is None


@pytest.mark.parametrize("content, problem", [
    (b"[project\nname = ", "isn't valid TOML: "),
    (b"[project]\nname = 'x'\nname = 'y'\n", "(at line 3, column"),
    (b"[project]\nname = '\xe9t\xe9'\n", "isn't UTF-8 text (byte 19 can't be decoded)"),
    (b"\xef\xbb\xbf[project]\n", "starts with a byte order mark"),
    (b"\xff\xfe[\x00p\x00", "isn't UTF-8 text"),
    (b"[project]\nrequires-python = 3.12\n", "has [project] requires-python as a number, but it must be a string"),
    (b"[tool.poetry.dependencies]\npython = { version = '^3.12' }\n",
     "has [tool.poetry.dependencies] python as a table, but it must be a string"),
])
def test_unreadable_pyproject(tmp_path, content, problem):
    (tmp_path / "pyproject.toml").write_bytes(content)
    with pytest.raises(BuildError) as error:
        pyproject.read(tmp_path)
    assert error.value.id == "pyproject-toml::invalid"
    assert problem in error.value.body and "pyproject.toml" in error.value.body


def test_pyproject_that_cant_be_read(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    def refuse(path, limit=0):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(app_files, "read_bytes", refuse)
    with pytest.raises(BuildError) as error:
        pyproject.read(tmp_path)
    assert error.value.id == "pyproject-toml::invalid"
    assert "can't be read (Permission denied)" in error.value.body


def test_read_toml(tmp_path):
    (tmp_path / "uv.lock").write_text('version = 1\n[[package]]\nname = "flask"\n')
    assert pyproject.read_toml(tmp_path / "uv.lock") == {"version": 1, "package": [{"name": "flask"}]}
    (tmp_path / "uv.lock").write_text("not = [toml")
    with pytest.raises(ValueError):
        pyproject.read_toml(tmp_path / "uv.lock")
    (tmp_path / "uv.lock").write_bytes(b"name = '\xff'\n")
    with pytest.raises(BuildError):
        pyproject.read_toml(tmp_path / "uv.lock")
