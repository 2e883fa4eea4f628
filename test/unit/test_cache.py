from __future__ import annotations

import json
from dataclasses import replace

import pytest

from python_buildpack.cache import BuildCache, CacheKey

KEY = CacheKey("heroku-24", "amd64", "3.12.1", "pip", "26.3", "abc")


def make_install(path, marker="installed"):
    (path / "bin").mkdir(parents=True)
    (path / "bin" / "python3").write_text(marker)
    (path / "bin" / "python").symlink_to("python3")
    (path / "lib").mkdir()
    (path / "lib" / "broken-link").symlink_to("nowhere")


@pytest.fixture
def dirs(tmp_path):
    build = tmp_path / "build" / ".heroku" / "python"
    build.parent.mkdir(parents=True)
    return tmp_path / "cache", build


def saved(dirs, key=KEY):
    cache_dir, install = dirs
    make_install(install)
    cache = BuildCache(cache_dir)
    assert cache.save(key, install) is None
    return cache


def test_empty_cache(dirs):
    cache_dir, install = dirs
    cache = BuildCache(cache_dir)
    assert cache.cached_python_version() is None
    assert cache.restore(KEY, install, "requirements.txt").reused is False


def test_save_then_restore(dirs, capsys):
    cache_dir, install = dirs
    cache = saved(dirs)
    assert cache.cached_python_version() == "3.12.1"
    saved_file = cache_dir / "python-buildpack" / "python" / "bin" / "python3"
    assert saved_file.stat().st_ino == (install / "bin" / "python3").stat().st_ino  # hardlinked
    assert (cache_dir / "python-buildpack" / "python" / "lib" / "broken-link").is_symlink()

    restored = BuildCache(cache_dir)
    other_build = install.parent.parent.parent / "build2" / ".heroku" / "python"
    assert restored.restore(KEY, other_build, "requirements.txt").reused is True
    assert (other_build / "bin" / "python3").read_text() == "installed"
    assert not (cache_dir / "python-buildpack" / "python").exists()  # moved, not copied
    assert "Restoring cache" in capsys.readouterr().out


@pytest.mark.parametrize("change, reason", [
    ({"stack": "heroku-22"}, "The stack has changed from heroku-24 to heroku-22"),
    ({"arch": "arm64"}, "The CPU architecture has changed from amd64 to arm64"),
    ({"python_version": "3.12.2"}, "The Python version has changed from 3.12.1 to 3.12.2"),
    ({"package_manager_version": "26.4"}, "The pip version has changed from 26.3 to 26.4"),
    ({"dependencies": "def"}, "The contents of requirements.txt changed"),
    ({"package_manager": "uv"}, "The package manager has changed from pip to uv"),
])
def test_changes_discard_the_cache(dirs, capsys, change, reason):
    cache_dir, install = dirs
    cache = saved(dirs)
    (cache.pip_dir / "wheel").mkdir(parents=True)
    capsys.readouterr()
    assert cache.restore(replace(KEY, **change), install.with_name("other"), "requirements.txt").reused is False
    out = capsys.readouterr().out
    assert "-----> Discarding cache since:" in out and f"       - {reason}" in out
    assert not cache.python_dir.exists() and not cache.metadata_path.exists()
    assert (cache.pip_dir / "wheel").exists()  # pip's cache is still good


def test_all_reasons_are_listed():
    reasons = replace(KEY, stack="heroku-26", python_version="3.13.0", dependencies="x").changes_from(KEY, "requirements.txt")
    assert len(reasons) == 3


@pytest.mark.parametrize("metadata", ["", "{not json", "[]", json.dumps({"format": 99}), json.dumps({"format": 1})])
def test_corrupt_or_foreign_metadata_is_discarded(dirs, capsys, metadata):
    cache_dir, install = dirs
    cache = saved(dirs)
    cache.metadata_path.write_text(metadata)
    assert cache.restore(KEY, install.with_name("other"), "requirements.txt").reused is False
    assert "The cache is incomplete, corrupt or from another buildpack version" in capsys.readouterr().out
    assert not cache.python_dir.exists()


def test_interrupted_save_is_discarded(dirs, capsys):
    cache_dir, install = dirs
    cache = saved(dirs)
    cache.metadata_path.unlink()  # a save that died before its last step
    assert cache.restore(KEY, install.with_name("other"), "requirements.txt").reused is False
    assert "Discarding cache since:" in capsys.readouterr().out


def test_missing_install_is_discarded(dirs, capsys):
    cache_dir, install = dirs
    cache = saved(dirs)
    import shutil
    shutil.rmtree(cache.python_dir / "bin")
    assert cache.restore(KEY, install.with_name("other"), "requirements.txt").reused is False
    assert "The cached Python install is incomplete" in capsys.readouterr().out


def test_namespace_taken_by_a_file(dirs, capsys):
    """A file where the cache directory should be: discarded, then saved over."""
    cache_dir, install = dirs
    cache_dir.mkdir()
    (cache_dir / "python-buildpack").write_text("someone else's")
    cache = BuildCache(cache_dir)
    assert cache.restore(KEY, install, "requirements.txt").reused is False
    assert "belongs to something else" in capsys.readouterr().out
    assert not (cache_dir / "python-buildpack").exists()
    make_install(install)
    assert cache.save(KEY, install) is None


def test_only_a_pip_cache_is_not_reported(dirs, capsys):
    cache_dir, install = dirs
    (cache_dir / "python-buildpack" / "pip").mkdir(parents=True)
    assert BuildCache(cache_dir).restore(KEY, install, "requirements.txt").reused is False
    assert capsys.readouterr().out == ""


def test_other_buildpacks_files_are_left_alone(dirs):
    cache_dir, install = dirs
    (cache_dir / "node_modules").mkdir(parents=True)
    cache = saved(dirs)
    cache.restore(replace(KEY, python_version="3.13.0"), install.with_name("other"), "requirements.txt").reused
    assert (cache_dir / "node_modules").exists()


def test_discard_restored(dirs):
    cache_dir, install = dirs
    cache = saved(dirs)
    target = install.with_name("other")
    cache.restore(KEY, target, "requirements.txt").reused
    cache.discard_restored(target, "The cached Python install doesn't run")
    assert not target.exists()


def test_a_build_that_failed_after_restoring_leaves_an_empty_cache(dirs, capsys):
    cache_dir, install = dirs
    saved(dirs)
    cache = BuildCache(cache_dir)
    assert cache.restore(KEY, install.with_name("other"), "requirements.txt").reused is True
    capsys.readouterr()
    # ... the build fails here, so nothing is saved ...
    assert BuildCache(cache_dir).restore(KEY, install.with_name("third"), "requirements.txt").reused is False
    assert capsys.readouterr().out == ""
    assert BuildCache(cache_dir).cached_python_version() == "3.12.1"


def test_the_sticky_version_survives_a_discard(dirs):
    cache_dir, install = dirs
    cache = saved(dirs)
    cache.restore(replace(KEY, package_manager_version="27.0"), install.with_name("other"), "requirements.txt").reused
    assert not cache.python_dir.exists()
    assert BuildCache(cache_dir).cached_python_version() == "3.12.1"


def test_dependency_changes_needn_t_discard(dirs):
    """For uv and Poetry, sync removes stale packages: the install is reused."""
    cache_dir, install = dirs
    saved(dirs)
    restored = BuildCache(cache_dir).restore(replace(KEY, dependencies="new lock"), install.with_name("other"), None)
    assert restored.reused and not restored.dependencies_unchanged
    saved_again = BuildCache(cache_dir)
    assert saved_again.save(KEY, install.with_name("other")) is None
    assert saved_again.restore(KEY, install.with_name("third"), None).dependencies_unchanged


def test_switching_managers_drops_the_old_tools(dirs):
    cache_dir, install = dirs
    cache = saved(dirs)
    for name in ("pip", "uv", "uv-cache", "poetry", "poetry-cache"):
        (cache.root / name).mkdir()
    cache.restore(replace(KEY, package_manager="poetry"), install.with_name("other"), None)
    assert sorted(p.name for p in cache.root.iterdir() if p.is_dir()) == ["pip", "poetry", "poetry-cache"]
