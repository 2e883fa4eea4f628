from __future__ import annotations

import json

import pytest

from python_buildpack import app_files, pipenv, pyproject, python_range, python_version as pv
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


def test_reads_the_keys_the_buildpack_needs(tmp_path):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    assert pyproject.read(tmp_path) == pyproject.Pyproject(">=3.11", True, False, None)


def test_defaults(tmp_path):
    assert pyproject.read(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert pyproject.read(tmp_path) == pyproject.Pyproject(None, False, True, None)


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


def pep440(text):
    return python_range.pep440("requires-python", text)


def poetry(text, key="[tool.poetry.dependencies] python"):
    return python_range.poetry(key, text)


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
    requested = pv.version_for_ranges([pep440(spec)], versions, cached)
    assert (requested.text, requested.origin) == (expected, "pyproject.toml")
    assert requested.detail == f"requires-python '{spec}' in pyproject.toml allows"
    assert requested.kept_from_cache == (cached == expected)


@pytest.mark.parametrize("constraint, cached, expected", [
    ("^3.12", None, "3.14"),
    ("~3.12", None, "3.12"),
    ("3.12.*", None, "3.12"),
    (">=3.11 <3.14", None, "3.13"),
    (">=3.11,<3.14", "3.11", "3.11"),
    ("^3.10 || ^3.13", "3.12", "3.12"),
    ("~3.11 || ~3.13", "3.12", "3.13"),
    ("*", None, "3.14"),
    # A bare version is exact to Poetry: 3.12 is 3.12.0.
    ("3.12", None, "3.12.0"),
])
def test_version_for_poetry_python(versions, constraint, cached, expected):
    requested = pv.version_for_ranges([poetry(constraint)], versions, cached)
    assert requested.text == expected
    assert requested.detail == f"[tool.poetry.dependencies] python '{constraint}' in pyproject.toml allows"


def test_version_for_both_poetry_ranges(versions):
    ranges = [poetry(">=3.11", "requires-python"), poetry("~3.12")]
    requested = pv.version_for_ranges(ranges, versions, "3.13")
    assert requested.text == "3.12"
    assert pv.describe_choice(requested) == (
        "Using Python 3.12, the newest that requires-python '>=3.11' and [tool.poetry.dependencies] python "
        "'~3.12' in pyproject.toml allow (no .python-version file)"
    )


@pytest.mark.parametrize("ranges, detail", [
    ([pep440("<3.9")], "<3.9"),
    ([pep440(">=4")], ">=4"),
    ([poetry("^2.7")], "^2.7"),
    ([poetry("<3.12", "requires-python"), poetry("^3.12")], "<3.12,^3.12"),
])
def test_unsatisfiable_ranges(versions, ranges, detail):
    with pytest.raises(BuildError) as error:
        pv.version_for_ranges(ranges, versions, None)
    assert (error.value.id, error.value.detail) == ("pyproject-toml::unsatisfiable-python-range", detail)
    assert "Python 3.10 to 3.14" in error.value.body


@pytest.mark.parametrize("make, text, key", [
    (pep440, "3.12", "requires-python"),
    (pep440, ">=3.x", "requires-python"),
    (pep440, "^3.12", "requires-python"),
    (poetry, "3.x", "[tool.poetry.dependencies] python"),
    (poetry, "<>3.12", "[tool.poetry.dependencies] python"),
    (poetry, ">=3.11,,<3.14", "[tool.poetry.dependencies] python"),
])
def test_invalid_ranges(make, text, key):
    with pytest.raises(BuildError) as error:
        make(text)
    assert (error.value.id, error.value.detail) == ("pyproject-toml::invalid-python-range", key)
    assert f'= "{text}"' in error.value.body


def test_invalid_poetry_range_names_the_table():
    with pytest.raises(BuildError) as error:
        poetry("~=3.x")
    assert '    [tool.poetry.dependencies]\n    python = "~=3.x"\n' in error.value.body
    assert "poetry lock" in error.value.body


def test_ranges_come_after_version_files_and_before_the_cache(tmp_path, versions):
    ranges = [pep440(">=3.12")]
    assert pv.read_requested_version(tmp_path, versions, "3.11.2", pv.VersionSources(tuple(ranges))).text == "3.14"
    (tmp_path / ".python-version").write_text("3.13\n")
    assert pv.read_requested_version(tmp_path, versions, None, pv.VersionSources(tuple(ranges))).origin == ".python-version"


def test_check_ranges():
    requested = pv.RequestedVersion("3.12", ".python-version")
    pv.check_ranges(requested, "3.12.1", [pep440(">=3.12")], "uv lock")
    with pytest.raises(BuildError) as error:
        pv.check_ranges(pv.RequestedVersion("3.11", ".python-version"), "3.11.14",
                        [poetry(">=3.11", "requires-python"), poetry("^3.12")], "poetry lock")
    assert (error.value.id, error.value.detail) == ("pyproject-toml::python-version-conflict", "3.11.14")
    assert error.value.body.startswith(
        ".python-version asks for Python 3.11 (3.11.14), but pyproject.toml's\n"
        "[tool.poetry.dependencies] python = '^3.12' doesn't allow it."
    )
    assert "the version in .python-version, or\n[tool.poetry.dependencies] python in pyproject.toml" in error.value.body
    assert "'poetry lock'" in error.value.body and "Note:" not in error.value.body


def test_check_ranges_explains_a_bare_poetry_version():
    with pytest.raises(BuildError) as error:
        pv.check_ranges(pv.RequestedVersion("3.12", ".python-version"), "3.12.14", [poetry("3.12")], "poetry lock")
    assert "'3.12' allows\nPython 3.12.0 only. For any 3.12 release, write '3.12.*' or '~3.12'." in error.value.body


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


def test_unreadable_uv_and_poetry_lockfiles(tmp_path):
    (tmp_path / "uv.lock").mkdir()
    with pytest.raises(BuildError) as error:
        Uv().dependencies(tmp_path)
    assert (error.value.id, error.value.detail) == ("app-files::unreadable", "uv.lock")
    (tmp_path / "poetry.lock").write_bytes(b"\xff\xfe")
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\npackage-mode = false\n")
    with pytest.raises(BuildError) as error:
        Poetry().dependencies(tmp_path)
    assert (error.value.id, error.value.detail) == ("app-files::not-utf8", "poetry.lock")


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


POETRY_PYPROJECT = "[project]\nname = 'x'\nrequires-python = '>=3.11'\n[tool.poetry.dependencies]\npython = '^3.12'\n"


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


def test_uv_reads_requires_python_as_pep_440(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nrequires-python = '^3.12'\n")
    with pytest.raises(BuildError) as error:
        Uv().python_ranges(tmp_path)
    assert (error.value.id, error.value.detail) == ("pyproject-toml::invalid-python-range", "requires-python")
    (tmp_path / "pyproject.toml").write_text(POETRY_PYPROJECT)
    assert [r.text for r in Uv().python_ranges(tmp_path)] == [">=3.11"]


def test_pip_reads_requires_python_only_when_no_file_names_a_version(tmp_path):
    from python_buildpack.pip import Pip

    (tmp_path / "pyproject.toml").write_text("[project\n")
    (tmp_path / ".python-version").write_text("3.12\n")
    assert Pip().python_ranges(tmp_path) == () and not Pip().enforces_python_range
    (tmp_path / ".python-version").unlink()
    (tmp_path / "pyproject.toml").write_text(POETRY_PYPROJECT)
    assert [r.text for r in Pip().python_ranges(tmp_path)] == [">=3.11"]
