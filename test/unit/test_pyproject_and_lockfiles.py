from __future__ import annotations

import json

import pytest

from python_buildpack import pipenv, pyproject, python_version as pv
from python_buildpack.errors import BuildError
from python_buildpack.poetry import Poetry
from python_buildpack.uv import Uv

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


@pytest.mark.parametrize("parse", [pyproject._parse, pyproject._parse_subset])
def test_reads_the_keys_the_buildpack_needs(tmp_path, monkeypatch, parse):
    monkeypatch.setattr(pyproject, "_parse", parse)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    assert pyproject.read(tmp_path) == pyproject.Pyproject(">=3.11", True, False)


def test_defaults(tmp_path):
    assert pyproject.read(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert pyproject.read(tmp_path) == pyproject.Pyproject(None, False, True)


def test_invalid_toml(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project\nname = ")
    with pytest.raises(BuildError, match="Unable to read pyproject.toml"):
        pyproject.read(tmp_path)


@pytest.mark.parametrize("spec, cached, expected", [
    (">=3.11", None, "3.14"),
    (">=3.11,<3.13", None, "3.12"),
    ("==3.12.*", None, "3.12"),
    ("~=3.11.0", None, "3.11"),
    (">=3.11", "3.12", "3.12"),
    (">=3.13", "3.12", "3.14"),
    (">=3.10,<3.12.5,!=3.11.*", None, "3.12.4"),
    (">=3.10,<3.11", None, "3.10"),
    ("<3.12.5,>=3.12", None, "3.12.4"),
])
def test_version_for_requires_python(versions, spec, cached, expected):
    requested = pv.version_for_requires_python(spec, versions, cached)
    assert (requested.text, requested.origin, requested.detail) == (expected, "pyproject.toml", spec)
    assert requested.kept_from_cache == (cached == expected)


@pytest.mark.parametrize("spec, headline", [
    ("<3.9", "No supported Python version satisfies requires-python."),
    (">=4", "No supported Python version satisfies requires-python."),
    ("3.12", "Invalid requires-python in pyproject.toml."),
    (">=3.x", "Invalid requires-python in pyproject.toml."),
])
def test_requires_python_errors(versions, spec, headline):
    with pytest.raises(BuildError) as error:
        pv.version_for_requires_python(spec, versions, None)
    assert error.value.title == headline


def test_requires_python_comes_after_version_files_and_before_the_cache(tmp_path, versions):
    assert pv.read_requested_version(tmp_path, versions, "3.11.2", requires_python=">=3.12").text == "3.14"
    (tmp_path / ".python-version").write_text("3.13\n")
    assert pv.read_requested_version(tmp_path, versions, None, requires_python=">=3.12").origin == ".python-version"


def test_satisfies():
    assert pv.satisfies("3.12.1", ">=3.12")
    assert not pv.satisfies("3.11.7", ">=3.12")


def write_lock(tmp_path, meta=None, default=None):
    data = {"_meta": meta or {}, "default": default or {}}
    (tmp_path / "Pipfile.lock").write_text(json.dumps(data))


@pytest.mark.parametrize("requires, expected", [
    ({"python_version": "3.12"}, "3.12"),
    ({"python_full_version": "3.12.4", "python_version": "3.12"}, "3.12.4"),
    ({}, None),
    ([], None),
])
def test_pipfile_lock_versions(tmp_path, requires, expected):
    write_lock(tmp_path, {"requires": requires})
    assert pipenv.python_version_from_lock(tmp_path) == expected


@pytest.mark.parametrize("content, headline", [
    ("{ nope", "Unable to read Pipfile.lock."),
    (json.dumps({"_meta": {"requires": {"python_version": "^3.12"}}}), "Invalid Python version in Pipfile.lock."),
    (json.dumps({"_meta": {"requires": {"python_version": 3.12}}}), "Invalid Python version in Pipfile.lock."),
])
def test_pipfile_lock_errors(tmp_path, content, headline):
    (tmp_path / "Pipfile.lock").write_text(content)
    with pytest.raises(BuildError) as error:
        pipenv.python_version_from_lock(tmp_path)
    assert error.value.title == headline


def test_pipfile_lock_odd_shapes(tmp_path):
    for content in ("[]", '{"_meta": []}', '{"_meta": {"requires": "3.12"}}', "null"):
        (tmp_path / "Pipfile.lock").write_text(content)
        assert pipenv.python_version_from_lock(tmp_path) is None


def test_pipenv_dependencies(tmp_path):
    write_lock(tmp_path, default={"flask": {"version": "==3.1.3"}})
    plain = pipenv.Pipenv().dependencies(tmp_path)
    assert plain.reinstall_reason is None
    write_lock(tmp_path, default={"mypkg": {"path": ".", "editable": True}})
    local = pipenv.Pipenv().dependencies(tmp_path)
    assert "mypkg" in local.reinstall_reason and local.fingerprint != plain.fingerprint


def test_poetry_dependencies(tmp_path):
    (tmp_path / "poetry.lock").write_text('[[package]]\nname = "flask"\n')
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\npackage-mode = false\n")
    assert Poetry().dependencies(tmp_path).reinstall_reason is None
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\nname = 'app'\n")
    assert "project itself" in Poetry().dependencies(tmp_path).reinstall_reason
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\npackage-mode = false\n")
    (tmp_path / "poetry.lock").write_text('[package.source]\ntype = "directory"\nurl = "libs/x"\n')
    assert "local paths or version control" in Poetry().dependencies(tmp_path).reinstall_reason


def test_uv_dependencies(tmp_path):
    (tmp_path / "uv.lock").write_text('[[package]]\nname = "flask"\nsource = { registry = "https://pypi.org/simple" }\n')
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    assert Uv().dependencies(tmp_path).reinstall_reason is None
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n[build-system]\nrequires = ['hatchling']\n")
    assert "project itself" in Uv().dependencies(tmp_path).reinstall_reason
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (tmp_path / "uv.lock").write_text('[[package]]\nname = "lib"\nsource = { editable = "libs/lib" }\n')
    assert "local paths or version control" in Uv().dependencies(tmp_path).reinstall_reason
