from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from python_buildpack import python_version as pv
from python_buildpack.errors import BuildError
from conftest import classic_cache, pep440, poetry


def requested(tmp_path: Path, versions, files: dict[str, bytes | str], cached: str | None = None):
    for name, content in files.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return pv.read_requested_version(tmp_path, versions, cached)


@pytest.mark.parametrize("text", ["3.12", "3.12.4", "3.0", "10.20.30", "3.12.0"])
def test_valid_versions(text):
    assert pv.is_valid_version(text)


@pytest.mark.parametrize("text", ["3", "3.12.", "03.12", "3.09", "3.12.x", "python-3.12", "^3.12", "3.12.1.1", " 3.12", "3.12rc1"])
def test_invalid_versions(text):
    assert not pv.is_valid_version(text)


@pytest.mark.parametrize(
    "content, expected",
    [
        ("3.12\n", "3.12"),
        ("3.12.4", "3.12.4"),
        ("  3.12  \r\n", "3.12"),
        ("# the app's Python\n\n   # indented comment\n3.13\n\n", "3.13"),
        ("3.11\r\n# CRLF comment\r\n", "3.11"),
    ],
)
def test_python_version_file(tmp_path, versions, content, expected):
    result = requested(tmp_path, versions, {".python-version": content})
    assert result == pv.RequestedVersion(expected, ".python-version")


@pytest.mark.parametrize(
    "content, error_id, in_body",
    [
        (b"\xef\xbb\xbf3.12\n", "python-version-file::invalid-encoding", "byte order mark"),
        ("3.12\n".encode("utf-16"), "python-version-file::invalid-encoding", "UTF-16"),
        ("3.12\n".encode("utf-16-le"), "python-version-file::invalid-encoding", "UTF-16"),
        (b"3.12\xff\n", "python-version-file::invalid-encoding", "isn't valid UTF-8"),
        (b"", "python-version-file::no-version", "empty"),
        (b"# only a comment\n\n", "python-version-file::no-version", "only comments"),
        (b"3.12\n3.13\n", "python-version-file::multiple-versions", "    3.12\n    3.13"),
        (b"python-3.12\n", "python-version-file::invalid-version", "Remove the 'python' prefix."),
        (b'"3.12"\n', "python-version-file::invalid-version", "Remove the quotes."),
        (b"3.12.*\n", "python-version-file::invalid-version", "Wildcards aren't supported."),
        (b">=3.12\n", "python-version-file::invalid-version", "Version ranges aren't supported."),
        (b"3.12 # pinned\n", "python-version-file::invalid-version", "comment onto a line of its own"),
        (b"garbage\x07here\n", "python-version-file::invalid-version", "garbage\ufffdhere"),
        (b"3.12\nnonsense\n", "python-version-file::invalid-version", "nonsense"),
    ],
)
def test_python_version_file_errors(tmp_path, versions, content, error_id, in_body):
    with pytest.raises(BuildError) as error:
        requested(tmp_path, versions, {".python-version": content})
    assert error.value.id == error_id
    assert in_body in error.value.body


def test_python_version_directory_is_an_error(tmp_path, versions):
    (tmp_path / ".python-version").mkdir()
    with pytest.raises(BuildError) as error:
        pv.read_requested_version(tmp_path, versions, None)
    assert (error.value.id, error.value.detail) == ("app-files::not-a-file", ".python-version")


@pytest.mark.parametrize("name", ["python-version", ".python-version.txt", "python_version.txt", ".Python-version"])
def test_misspelled_version_file(tmp_path, versions, name):
    with pytest.raises(BuildError) as error:
        requested(tmp_path, versions, {name: "3.12", ".python-version": "3.12"})
    assert (error.value.id, error.value.detail) == ("python-version-file::misspelled", name)
    assert f"'{name}'" in error.value.body and "'.python-version'" in error.value.body


@pytest.mark.parametrize("content, expected", [("python-3.12", "3.12"), ("python-3.12.4\n", "3.12.4"), ("# c\npython-3.11\r\n", "3.11")])
def test_runtime_txt(tmp_path, versions, content, expected):
    result = requested(tmp_path, versions, {"runtime.txt": content, ".python-version": "3.13"})
    assert result == pv.RequestedVersion(expected, "runtime.txt")


@pytest.mark.parametrize("content", ["3.12", "python-3.12.x", "python-3.12\npython-3.13", "", "python 3.12"])
def test_runtime_txt_errors(tmp_path, versions, content):
    with pytest.raises(BuildError) as error:
        requested(tmp_path, versions, {"runtime.txt": content})
    assert error.value.id == "runtime-txt::invalid-version"
    assert ".python-version" in error.value.body


def test_runtime_txt_skips_the_misspelling_check(tmp_path, versions):
    result = requested(tmp_path, versions, {"runtime.txt": "python-3.12", "python-version": "3.11"})
    assert result.origin == "runtime.txt"


def test_cached_version_is_sticky_by_major(tmp_path, versions):
    assert requested(tmp_path, versions, {}, cached="3.11.7") == pv.RequestedVersion("3.11", "cached")


@pytest.mark.parametrize("cached", [None, "", "pypy-7.3", "3.11", "garbage"])
def test_default_without_usable_cached_version(tmp_path, versions, cached):
    assert requested(tmp_path, versions, {}, cached=cached) == pv.RequestedVersion("3.14", "default")


def test_version_file_wins_over_cache(tmp_path, versions):
    assert requested(tmp_path, versions, {".python-version": "3.13"}, cached="3.11.7").origin == ".python-version"


def test_pipfile_lock_hook_comes_after_python_version_file(tmp_path, versions):
    reader = pv.VersionSources(lockfile_version=lambda _dir: "3.12.2", lockfile_name="Pipfile.lock")
    assert pv.read_requested_version(tmp_path, versions, "3.11.1", reader) == pv.RequestedVersion("3.12.2", "Pipfile.lock")
    (tmp_path / ".python-version").write_text("3.13")
    assert pv.read_requested_version(tmp_path, versions, None, reader).origin == ".python-version"


@pytest.mark.parametrize("text, origin, error_id, detail", [
    ("3.9", ".python-version", "python-version::eol", "3.9"),
    ("2.7.18", "runtime.txt", "python-version::eol", "2.7"),
    ("3.9", "cached", "python-version::eol", "3.9"),
    ("3.15", ".python-version", "python-version::unknown-major", "3.15"),
    ("4.0.1", ".python-version", "python-version::unknown-major", "4.0.1"),
    ("3.15", "cached", "python-version::unknown-major", "3.15"),
])
def test_unsupported_versions(versions, text, origin, error_id, detail):
    with pytest.raises(BuildError) as error:
        pv.check_supported(pv.RequestedVersion(text, origin), versions)
    assert (error.value.id, error.value.detail) == (error_id, detail)
    # A cached version is explained as the last build's, not as a file's.
    assert ("last build" in error.value.body) == (origin == "cached")


@pytest.mark.parametrize("text", ["3.10", "3.14", "3.12.0", "3.13.99"])
def test_supported_versions(versions, text):
    pv.check_supported(pv.RequestedVersion(text, ".python-version"), versions)


def test_resolve(versions):
    assert pv.resolve(pv.RequestedVersion("3.12", "default"), versions) == "3.12.14"
    assert pv.resolve(pv.RequestedVersion("3.12.3", ".python-version"), versions) == "3.12.3"
    mirror = ["3.11.7", "3.12.1", "3.12.10", "3.12.9"]
    assert pv.resolve(pv.RequestedVersion("3.12", ".python-version"), versions, mirror) == "3.12.10"
    assert pv.resolve(pv.RequestedVersion("3.13", ".python-version"), versions, mirror) == "3.13.15"


def warning_titles(requested, full, versions):
    return [w.splitlines()[0] for w in pv.warnings_for(requested, full, versions)]


def test_warnings(versions):
    assert warning_titles(pv.RequestedVersion("3.12", ".python-version"), "3.12.14", versions) == []
    assert warning_titles(pv.RequestedVersion("3.12", "runtime.txt"), "3.12.14", versions) == [
        "Warning: The runtime.txt file is deprecated."]
    assert warning_titles(pv.RequestedVersion("3.14", "default"), "3.14.7", versions) == [
        "Warning: No Python version was specified."]
    assert warning_titles(pv.RequestedVersion("3.11", "cached"), "3.11.16", versions) == [
        "Warning: No Python version was specified."]
    assert warning_titles(pv.RequestedVersion("3.10.2", ".python-version"), "3.10.2", versions) == [
        "Warning: Support for Python 3.10 is deprecated.", "Warning: A Python patch update is available."]
    assert warning_titles(pv.RequestedVersion("3.12.99", ".python-version"), "3.12.99", versions) == []


def test_patch_warning_names_the_newest_patch(versions):
    (text,) = pv.warnings_for(pv.RequestedVersion("3.12.1", ".python-version"), "3.12.1", versions)
    assert "Python 3.12.1" in text and "3.12.14" in text and ".python-version" in text


def test_step_lines():
    assert pv.describe_choice(pv.RequestedVersion("3.14", "default")) == (
        "No Python version was specified. Using the buildpack default: Python 3.14")
    assert pv.describe_choice(pv.RequestedVersion("3.11", "cached")) == (
        "No Python version was specified. Using the same major version as the last build: Python 3.11")
    assert pv.describe_choice(pv.RequestedVersion("3.12.4", ".python-version")) == (
        "Using Python 3.12.4 specified in .python-version")


def test_data_file_is_consistent():
    data = json.loads((Path(pv.__file__).with_name("python_versions.json")).read_text())
    versions = pv.load_versions()
    assert versions.default_major == versions.newest_major
    assert set(versions.deprecated) <= set(versions.latest_patch)
    for major, latest in data["latest_patch"].items():
        assert latest.rsplit(".", 1)[0] == major and pv.is_valid_version(latest)


# --- pyproject.toml's ranges: choosing a version, and checking the one chosen ---


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


def test_classic_cache_gives_the_major_and_the_log_says_so(tmp_path, versions):
    cache = classic_cache(tmp_path / "cache", "python-3.12.4\n")
    (tmp_path / "app").mkdir()
    requested = pv.read_requested_version(tmp_path / "app", versions, cache.sticky_python_version().version)
    assert requested == pv.RequestedVersion("3.12", pv.ORIGIN_CACHED)
    described = pv.describe_choice(replace(requested, detail=pv.CLASSIC_BUILDPACK))
    assert described == ("No Python version was specified. Using the same major version as the last build "
                         "(made by the classic Python buildpack): Python 3.12")
    assert pv.describe_choice(requested) == (
        "No Python version was specified. Using the same major version as the last build: Python 3.12")
