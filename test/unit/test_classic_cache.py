from __future__ import annotations

from dataclasses import replace

import pytest

from python_buildpack import python_version
from python_buildpack.cache import BuildCache, StickyVersion, read_classic_python_version


def classic_cache(tmp_path, content: str):
    (tmp_path / ".heroku").mkdir(parents=True)
    (tmp_path / ".heroku" / "python-version").write_text(content)
    return BuildCache(tmp_path)


@pytest.mark.parametrize("content, version", [
    ("python-3.12.7\n", "3.12.7"),
    ("  python-3.11.10  \n", "3.11.10"),
    ("pypy3.10-7.3.17\n", None),
    ("python-3.12\n", None),
    ("3.12.7\n", None),
    ("python-3.12.7\npython-3.13.0\n", None),
    ("", None),
])
def test_classic_version_file(tmp_path, content, version):
    (tmp_path / "python-version").write_text(content)
    assert read_classic_python_version(tmp_path / "python-version") == version


def test_classic_version_unreadable(tmp_path):
    (tmp_path / "python-version").write_bytes(b"\xff\xfe3\x00")
    assert read_classic_python_version(tmp_path / "python-version") is None
    assert read_classic_python_version(tmp_path / "missing") is None


def test_sticky_version_prefers_this_buildpacks(tmp_path):
    cache = classic_cache(tmp_path, "python-3.11.9\n")
    assert cache.sticky_python_version() == StickyVersion("3.11.9", from_classic_buildpack=True)
    cache.root.mkdir()
    cache.version_path.write_text("3.13.2\n")
    assert cache.sticky_python_version() == StickyVersion("3.13.2")


def test_no_sticky_version(tmp_path):
    assert BuildCache(tmp_path).sticky_python_version() is None
    assert classic_cache(tmp_path, "pypy3.10-7.3.17").sticky_python_version() is None


def test_classic_cache_gives_the_major_and_the_log_says_so(tmp_path, versions):
    cache = classic_cache(tmp_path / "cache", "python-3.12.4\n")
    (tmp_path / "app").mkdir()
    requested = python_version.read_requested_version(tmp_path / "app", versions, cache.sticky_python_version().version)
    assert requested == python_version.RequestedVersion("3.12", python_version.ORIGIN_CACHED)
    described = python_version.describe_choice(replace(requested, detail=python_version.CLASSIC_BUILDPACK))
    assert described == ("No Python version was specified. Using the same major version as the last build "
                         "(made by the classic Python buildpack): Python 3.12")
    assert python_version.describe_choice(requested) == (
        "No Python version was specified. Using the same major version as the last build: Python 3.12")
