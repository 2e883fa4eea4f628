"""python_choice.choose: the Python version a build installs, with fakes for
the mirror and the cache."""

from __future__ import annotations

import pytest

from python_buildpack import errors, python_choice, python_runtime, python_version
from python_buildpack.cache import CacheKey, DependenciesKey, RuntimeKey
from python_buildpack.errors import BuildError
from python_buildpack.pip import Pip
from python_buildpack.pipenv import Pipenv
from python_buildpack.uv import Uv
from conftest import make_build

LATEST = python_version.load_versions().latest_patch


def build_with(tmp_path, files=None, environ=None):
    build = make_build(tmp_path, environ=environ)
    for name, content in (files or {}).items():
        (build.app_dir / name).write_text(content)
    return build


def cache_install(build, version):
    """A saved install of Python `version` in the build's cache."""
    install = build.dirs.build.parent / "saved" / ".heroku" / "python"
    for name in ("bin", "lib"):
        (install / name).mkdir(parents=True)
    key = CacheKey(RuntimeKey("heroku-24", "amd64", version), DependenciesKey("pip", Pip().version, "abc"))
    assert build.cache.save(key, install) is None


def unreachable(monkeypatch):
    def fail(mirror, timeouts):
        raise errors.runtime_download_failed("https://mirror.example.com/SHA256SUMS", "Connection refused")
    monkeypatch.setattr(python_runtime, "fetch_manifest", fail)


def test_a_version_file_is_resolved_to_the_newest_patch(tmp_path):
    choice = python_choice.choose(build_with(tmp_path, {".python-version": "3.12\n"}), Pip())
    assert choice.version == LATEST["3.12"] and choice.requested.origin == ".python-version"


def test_no_version_keeps_the_last_builds_major(tmp_path, capsys):
    build = build_with(tmp_path)
    cache_install(build, "3.12.1")
    choice = python_choice.choose(build, Pip())
    assert choice.requested == python_version.RequestedVersion("3.12", python_version.ORIGIN_CACHED)
    assert choice.version == LATEST["3.12"]
    assert "Using the same major version as the last build: Python 3.12" in capsys.readouterr().out


def test_the_classic_buildpacks_cached_version_is_sticky_too(tmp_path, capsys):
    build = build_with(tmp_path)
    (build.dirs.cache / ".heroku").mkdir(parents=True)
    (build.dirs.cache / ".heroku" / "python-version").write_text("python-3.11.9\n")
    choice = python_choice.choose(build, Pip())
    assert choice.requested.major == "3.11" and choice.requested.detail == python_version.CLASSIC_BUILDPACK
    assert "(made by the classic Python buildpack)" in capsys.readouterr().out


def test_an_unreachable_mirror_falls_back_to_the_cached_install(tmp_path, monkeypatch, capsys):
    build = build_with(tmp_path, {".python-version": "3.12\n"},
                       environ={"PYTHON_RUNTIME_BASE_URL": "https://mirror.example.com"})
    cache_install(build, "3.12.1")
    unreachable(monkeypatch)
    choice = python_choice.choose(build, Pip())
    assert choice.version == "3.12.1" and choice.manifest is None
    assert "using the cached Python 3.12.1" in capsys.readouterr().err


@pytest.mark.parametrize("cached, asked", [(None, "3.12"), ("3.11.4", "3.12"), ("3.12.1", "3.12.2")])
def test_an_unreachable_mirror_fails_when_the_cache_cant_serve(tmp_path, monkeypatch, cached, asked):
    build = build_with(tmp_path, {".python-version": f"{asked}\n"},
                       environ={"PYTHON_RUNTIME_BASE_URL": "https://mirror.example.com"})
    if cached:
        cache_install(build, cached)
    unreachable(monkeypatch)
    with pytest.raises(errors.DownloadFailed):
        python_choice.choose(build, Pip())


def test_the_manager_adds_its_version_source(tmp_path):
    lock = '{"_meta": {"requires": {"python_version": "3.11"}}, "default": {}, "develop": {}}'
    build = build_with(tmp_path, {"Pipfile.lock": lock})
    choice = python_choice.choose(build, Pipenv())
    assert choice.requested == python_version.RequestedVersion("3.11", "Pipfile.lock")
    # pip doesn't read Pipfile.lock
    assert python_choice.choose(build, Pip()).requested.origin == python_version.ORIGIN_DEFAULT


@pytest.mark.parametrize("files, error_id", [
    ({}, "python-version-file::not-found"),
    ({"runtime.txt": "python-3.12\n"}, "runtime-txt::not-supported"),
])
def test_the_manager_refuses_what_it_cant_build(tmp_path, files, error_id):
    with pytest.raises(BuildError) as raised:
        python_choice.choose(build_with(tmp_path, {"uv.lock": "", **files}), Uv())
    assert raised.value.id == error_id


def test_the_manager_checks_the_range_of_the_chosen_version(tmp_path):
    files = {".python-version": "3.12\n", "uv.lock": "", "pyproject.toml": '[project]\nrequires-python = ">=3.13"\n'}
    with pytest.raises(BuildError):
        python_choice.choose(build_with(tmp_path, files), Uv())
    files["pyproject.toml"] = '[project]\nrequires-python = ">=3.12"\n'
    assert python_choice.choose(build_with(tmp_path, files), Uv()).version == LATEST["3.12"]
