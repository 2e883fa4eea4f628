from __future__ import annotations

import json

import pytest

from python_buildpack import managers
from python_buildpack.cache import BuildCache
from python_buildpack.install_base import InstallBase
from python_buildpack.poetry import Poetry
from python_buildpack.uv import Uv
from cache_worker import KEY, key


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
    assert cache.restore(KEY, install).reused is False


def test_save_then_restore(dirs, capsys):
    cache_dir, install = dirs
    cache = saved(dirs)
    assert cache.cached_python_version() == "3.12.1"
    saved_file = cache_dir / "python-buildpack" / "python" / "bin" / "python3"
    assert saved_file.stat().st_ino == (install / "bin" / "python3").stat().st_ino  # hardlinked
    assert (cache_dir / "python-buildpack" / "python" / "lib" / "broken-link").is_symlink()

    restored = BuildCache(cache_dir)
    other_build = install.parent.parent.parent / "build2" / ".heroku" / "python"
    assert restored.restore(KEY, other_build).reused is True
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
    assert cache.restore(key(**change), install.with_name("other")).reused is False
    out = capsys.readouterr().out
    assert "-----> Discarding cache since:" in out and f"       - {reason}" in out
    assert not cache.python_dir.exists() and not cache.metadata_path.exists()
    assert (cache.pip_dir / "wheel").exists()  # pip's cache is still good


def test_all_reasons_are_listed():
    changed = key(stack="heroku-26", python_version="3.13.0", dependencies="x")
    assert len(changed.changes_from(KEY)) == 2  # the runtime's: the install is discarded
    # The dependency file's change only reinstalls the dependencies, on the kept Python.
    assert changed.dependencies.reinstall_reasons(KEY.dependencies) == ["The contents of requirements.txt changed"]
    assert key(dependencies="x", syncs=True).dependencies.reinstall_reasons(KEY.dependencies) == []


@pytest.mark.parametrize("metadata", ["", "{not json", "[]", json.dumps({"format": 99}), json.dumps({"format": 1})])
def test_corrupt_or_foreign_metadata_is_discarded(dirs, capsys, metadata):
    cache_dir, install = dirs
    cache = saved(dirs)
    cache.metadata_path.write_text(metadata)
    assert cache.restore(KEY, install.with_name("other")).reused is False
    assert "The cache is incomplete, corrupt or from another buildpack version" in capsys.readouterr().out
    assert not cache.python_dir.exists()


def test_interrupted_save_is_discarded(dirs, capsys):
    cache_dir, install = dirs
    cache = saved(dirs)
    cache.metadata_path.unlink()  # a save that died before its last step
    assert cache.restore(KEY, install.with_name("other")).reused is False
    assert "Discarding cache since:" in capsys.readouterr().out


def test_missing_install_is_discarded(dirs, capsys):
    cache_dir, install = dirs
    cache = saved(dirs)
    import shutil
    shutil.rmtree(cache.python_dir / "bin")
    assert cache.restore(KEY, install.with_name("other")).reused is False
    assert "The cached Python install is incomplete" in capsys.readouterr().out


def test_namespace_taken_by_a_file(dirs, capsys):
    """A file where the cache directory should be: discarded, then saved over."""
    cache_dir, install = dirs
    cache_dir.mkdir()
    (cache_dir / "python-buildpack").write_text("someone else's")
    cache = BuildCache(cache_dir)
    assert cache.restore(KEY, install).reused is False
    assert "belongs to something else" in capsys.readouterr().out
    assert not (cache_dir / "python-buildpack").exists()
    make_install(install)
    assert cache.save(KEY, install) is None


def test_only_a_pip_cache_is_not_reported(dirs, capsys):
    cache_dir, install = dirs
    (cache_dir / "python-buildpack" / "pip").mkdir(parents=True)
    assert BuildCache(cache_dir).restore(KEY, install).reused is False
    assert capsys.readouterr().out == ""


def test_other_buildpacks_files_are_left_alone(dirs):
    cache_dir, install = dirs
    (cache_dir / "node_modules").mkdir(parents=True)
    cache = saved(dirs)
    cache.restore(key(python_version="3.13.0"), install.with_name("other")).reused
    assert (cache_dir / "node_modules").exists()


def test_discard_restored(dirs):
    cache_dir, install = dirs
    cache = saved(dirs)
    target = install.with_name("other")
    cache.restore(KEY, target).reused
    cache.discard_restored(target, "The cached Python install doesn't run")
    assert not target.exists()


def test_a_build_that_failed_after_restoring_leaves_an_empty_cache(dirs, capsys):
    cache_dir, install = dirs
    saved(dirs)
    cache = BuildCache(cache_dir)
    assert cache.restore(KEY, install.with_name("other")).reused is True
    capsys.readouterr()
    # ... the build fails here, so nothing is saved ...
    assert BuildCache(cache_dir).restore(KEY, install.with_name("third")).reused is False
    assert capsys.readouterr().out == ""
    assert BuildCache(cache_dir).cached_python_version() == "3.12.1"


def test_the_sticky_version_survives_a_discard(dirs):
    cache_dir, install = dirs
    cache = saved(dirs)
    cache.restore(key(package_manager_version="27.0"), install.with_name("other")).reused
    assert not cache.python_dir.exists()
    assert BuildCache(cache_dir).cached_python_version() == "3.12.1"


def test_dependency_changes_needn_t_discard(dirs):
    """For uv and Poetry, sync removes stale packages: the install is reused."""
    cache_dir, install = dirs
    saved(dirs)
    restored = BuildCache(cache_dir).restore(key(dependencies="new lock", syncs=True), install.with_name("other"))
    assert restored.reused and not restored.dependencies_unchanged
    saved_again = BuildCache(cache_dir)
    assert saved_again.save(KEY, install.with_name("other")) is None
    assert saved_again.restore(key(syncs=True), install.with_name("third")).dependencies_unchanged


def test_switching_managers_drops_the_old_tools(dirs):
    cache_dir, install = dirs
    cache = saved(dirs)
    for name in ("pip", "uv", "uv-cache", "poetry", "poetry-cache"):
        (cache.root / name).mkdir()
    assert managers.unused_cache_dirs(Poetry()) == ("pdm", "pdm-cache")  # Poetry is installed with uv
    unused = managers.unused_cache_dirs(Uv())
    assert unused == ("pdm", "pdm-cache", "poetry", "poetry-cache")
    cache.restore(key(package_manager="uv", syncs=True), install.with_name("other"), unused)
    assert sorted(p.name for p in cache.root.iterdir() if p.is_dir()) == ["pip", "uv", "uv-cache"]


# --- hostile caches: links, FIFOs and odd files are removed, never followed ---

import errno
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from python_buildpack import cache as cache_module
from python_buildpack.cache import FORMAT, LOCK_WAIT_SECONDS

LIB = Path(cache_module.__file__).resolve().parents[1]
WORKER = Path(__file__).with_name("cache_worker.py")


def finishes(call, seconds=10):
    """`call()`'s result, failing the test if it hangs (a FIFO read would)."""
    result = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert result, f"{call} hung"
    return result[0]


def test_saved_metadata_names_the_install_size(dirs):
    cache = saved(dirs)
    data = json.loads(cache.metadata_path.read_text())
    assert data["format"] == FORMAT == 2
    assert data["install"] == {"files": 3, "bytes": len("installed") + len("python3") + len("nowhere")}


def test_python_dir_that_is_a_link_is_discarded_not_followed(dirs, tmp_path, capsys):
    cache_dir, install = dirs
    cache = saved(dirs)
    elsewhere = tmp_path / "elsewhere"
    cache.python_dir.rename(elsewhere)  # a complete install, outside the cache
    cache.python_dir.symlink_to(elsewhere)
    assert cache.has_install() is False
    assert cache.restore(KEY, install.with_name("other")).reused is False
    assert "- The cached Python install is a symbolic link or not a directory" in capsys.readouterr().out
    assert not os.path.lexists(cache.python_dir) and not install.with_name("other").exists()
    assert (elsewhere / "bin" / "python3").read_text() == "installed"  # the target is left alone


@pytest.mark.parametrize("target", ["directory", "nowhere"])
def test_cache_root_that_is_a_link_is_discarded_not_followed(dirs, tmp_path, capsys, target):
    cache_dir, install = dirs
    elsewhere = tmp_path / "elsewhere"
    saved((elsewhere, install))  # a complete cache, outside CACHE_DIR
    shutil.rmtree(install)
    cache_dir.mkdir()
    (cache_dir / "python-buildpack").symlink_to(elsewhere / "python-buildpack" if target == "directory" else tmp_path / "nowhere")
    cache = BuildCache(cache_dir)
    assert cache.cached_python_version() is None and cache.read_key() is None
    assert cache.restore(KEY, install).reused is False
    assert "belongs to something else" in capsys.readouterr().out
    assert not os.path.lexists(cache.root) and not install.exists()
    assert (elsewhere / "python-buildpack" / "python" / "bin" / "python3").exists()
    make_install(install)
    assert cache.save(KEY, install) is None and _is_dir(cache.root)


def _is_dir(path):
    return path.is_dir() and not path.is_symlink()


@pytest.mark.parametrize("kind", ["link", "fifo", "directory", "huge"])
def test_odd_metadata_is_discarded_without_hanging(dirs, tmp_path, capsys, kind):
    cache_dir, install = dirs
    cache = saved(dirs)
    good = tmp_path / "good-metadata.json"
    cache.metadata_path.rename(good)
    if kind == "link":
        cache.metadata_path.symlink_to(good)  # valid metadata, but not ours to follow
    elif kind == "fifo":
        os.mkfifo(cache.metadata_path)
    elif kind == "directory":
        cache.metadata_path.mkdir()
    else:
        cache.metadata_path.write_text(good.read_text() + " " * 100_000)
    restored = finishes(lambda: cache.restore(KEY, install.with_name("other")))
    assert restored.reused is False
    assert "- The cache is incomplete, corrupt or from another buildpack version" in capsys.readouterr().out
    assert not os.path.lexists(cache.metadata_path) and not os.path.lexists(cache.python_dir)


@pytest.mark.parametrize("which", ["python-version", "classic"])
def test_a_fifo_for_the_sticky_version_does_not_hang(dirs, which):
    cache_dir, install = dirs
    cache = saved(dirs)
    path = cache.version_path if which == "python-version" else cache.classic_version_path
    path.parent.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    sticky = finishes(cache.sticky_python_version)
    assert sticky is None or sticky.version == "3.12.1"


@pytest.mark.parametrize("kind", ["link", "fifo", "directory"])
def test_odd_lock_file_is_replaced(dirs, tmp_path, kind):
    cache_dir, install = dirs
    cache = saved(dirs)
    cache.lock_path.unlink()
    if kind == "link":
        (tmp_path / "target").write_text("precious")
        cache.lock_path.symlink_to(tmp_path / "target")
    elif kind == "fifo":
        os.mkfifo(cache.lock_path)
    else:
        cache.lock_path.mkdir()
    assert finishes(lambda: cache.restore(KEY, install.with_name("other"))).reused is True
    assert cache.lock_path.is_file() and not cache.lock_path.is_symlink()
    if kind == "link":
        assert (tmp_path / "target").read_text() == "precious"


@pytest.mark.parametrize("damage", ["a file removed", "a file added", "bin is a link", "lib is missing"])
def test_install_changed_since_it_was_saved_is_discarded(dirs, tmp_path, capsys, damage):
    cache_dir, install = dirs
    cache = saved(dirs)
    if damage == "a file removed":
        (cache.python_dir / "lib" / "broken-link").unlink()
    elif damage == "a file added":
        (cache.python_dir / "lib" / "extra").write_text("")
    elif damage == "bin is a link":
        shutil.rmtree(cache.python_dir / "bin")
        (cache.python_dir / "bin").symlink_to("/usr/bin")
    else:
        shutil.rmtree(cache.python_dir / "lib")
    assert cache.restore(KEY, install.with_name("other")).reused is False
    assert "- The cached Python install is incomplete or changed since it was saved" in capsys.readouterr().out
    assert not os.path.lexists(cache.python_dir) and not install.with_name("other").exists()


def test_metadata_from_before_install_sizes_is_discarded(dirs, capsys):
    cache = saved(dirs)
    data = json.loads(cache.metadata_path.read_text())
    del data["install"]
    cache.metadata_path.write_text(json.dumps({**data, "format": 1}))
    assert cache.restore(KEY, dirs[1].with_name("other")).reused is False
    assert "from another buildpack version" in capsys.readouterr().out


# --- a full disk, a failed copy ---

def fake_full_disk(tmp_path, monkeypatch):
    """A `cp` that fails the way GNU cp does on a full disk."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    (bin_dir / "cp").write_text(
        "#!/bin/sh\necho \"cp: cannot create regular file '$7/bin/python3': No space left on device\" >&2\nexit 1\n")
    (bin_dir / "cp").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")


def nothing_saved(cache):
    assert not os.path.lexists(cache.python_dir) and not os.path.lexists(cache.metadata_path)
    assert [p.name for p in cache.root.iterdir() if p.name.startswith(".") and p.name != ".lock"] == []


def test_full_disk_while_copying(dirs, tmp_path, monkeypatch):
    cache_dir, install = dirs
    fake_full_disk(tmp_path, monkeypatch)
    make_install(install)
    cache = BuildCache(cache_dir)
    warning = cache.save(KEY, install)
    assert warning.startswith("Warning: Unable to save the build cache: no space left on device.")
    assert str(cache_dir) in warning and "--recursive" not in warning
    nothing_saved(cache)
    assert (install / "bin" / "python3").read_text() == "installed"  # the build is untouched


def test_full_disk_while_writing_metadata(dirs, monkeypatch):
    cache_dir, install = dirs
    make_install(install)
    cache = BuildCache(cache_dir)
    real_replace = os.replace

    def replace(source, target):
        if Path(target).name == "metadata.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    assert "no space left on device" in cache.save(KEY, install)
    nothing_saved(cache)


def test_where_hardlinks_are_refused_the_install_is_copied(dirs, tmp_path, monkeypatch):
    """Two bind mounts of one file system: one st_dev, but no links between them."""
    cache_dir, install = dirs
    make_install(install)
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    (bin_dir / "cp").write_text(
        '#!/bin/sh\ncase "$*" in *--link*) echo "cp: cannot create hard link \'x\' to \'y\': '
        'Invalid cross-device link" >&2; exit 1;; esac\nexec /bin/cp "$@"\n')
    (bin_dir / "cp").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    cache = BuildCache(cache_dir)
    assert cache.save(KEY, install) is None
    copied = cache.python_dir / "bin" / "python3"
    assert copied.read_text() == "installed" and copied.stat().st_ino != (install / "bin" / "python3").stat().st_ino
    assert BuildCache(cache_dir).restore(KEY, install.with_name("other")).reused


def test_other_save_failures_name_the_file_and_cause(dirs, monkeypatch):
    cache_dir, install = dirs
    make_install(install)
    cache = BuildCache(cache_dir)

    def fail(*args, **kwargs):
        raise OSError(errno.EACCES, "Permission denied", str(cache_dir / "python-buildpack" / "x"))

    monkeypatch.setattr(cache_module.os, "rename", fail)
    warning = cache.save(KEY, install)
    assert warning.startswith("Warning: Unable to save the build cache.\n")
    assert "python-buildpack/x: Permission denied" in warning
    nothing_saved(cache)


def test_a_failed_copy_out_of_the_cache_discards_it(dirs, tmp_path, monkeypatch, capsys):
    cache_dir, install = dirs
    cache = saved(dirs)
    fake_full_disk(tmp_path, monkeypatch)

    def cross_device(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(cache_module.os, "rename", cross_device)
    target = install.with_name("other")
    assert BuildCache(cache_dir).restore(KEY, target).reused is False
    out = capsys.readouterr().out
    assert "- Copying it into the build failed: cannot create regular file" in out and "No space left on device" in out
    assert not target.exists()
    nothing_saved(cache)


# --- interrupted builds ---

def test_leftovers_of_a_killed_save_are_removed(dirs):
    cache_dir, install = dirs
    cache = saved(dirs)
    (cache.root / ".saving-deadbeef" / "bin").mkdir(parents=True)
    (cache.root / ".writing-x1y2").write_text("{")
    assert cache.restore(KEY, install.with_name("other")).reused is True
    assert sorted(p.name for p in cache.root.iterdir()) == [".lock", "python-version"]


def test_sigterm_during_save_leaves_nothing(dirs, monkeypatch):
    cache_dir, install = dirs
    make_install(install)
    cache = BuildCache(cache_dir)

    def interrupted(source, target, link):
        target.mkdir()
        (target / "bin").mkdir()
        raise KeyboardInterrupt  # what bin/compile's SIGTERM handler raises

    monkeypatch.setattr(cache_module, "_copy_tree", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.save(KEY, install)
    nothing_saved(cache)


def test_discarding_a_broken_restore_leaves_another_builds_save_alone(dirs):
    cache_dir, install = dirs
    cache = saved(dirs)
    target = install.with_name("other")
    assert cache.restore(KEY, target).reused is True
    assert BuildCache(cache_dir).save(KEY, install) is None  # a concurrent build's save
    cache.discard_restored(target, "The cached Python install doesn't run")
    assert not target.exists()
    assert BuildCache(cache_dir).restore(KEY, install.with_name("third")).reused is True


# --- concurrent builds ---

@pytest.fixture
def held_lock(dirs, monkeypatch):
    """The cache's lock, held by "another build" (an open file of this process:
    flock locks of two opens conflict even in one process)."""
    monkeypatch.setattr(cache_module, "LOCK_WAIT_SECONDS", 0.3)
    cache = saved(dirs)
    with open(cache.lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield cache


def test_restore_goes_on_without_the_cache_when_another_build_holds_it(dirs, held_lock, capsys):
    started = time.monotonic()
    assert held_lock.restore(KEY, dirs[1].with_name("other")).reused is False
    assert time.monotonic() - started < 5
    captured = capsys.readouterr()
    assert "Waiting for another build of this app to finish with the build cache" in captured.out
    assert "Warning: Another build of this app is using the build cache." in captured.err
    assert "Python is installed afresh" in captured.err
    assert held_lock.python_dir.is_dir() and held_lock.metadata_path.exists()  # the other build's, untouched


def test_save_gives_up_when_another_build_holds_the_lock(dirs, held_lock, capsys):
    warning = held_lock.save(key(python_version="3.13.0"), dirs[1])
    assert "Another build of this app is using the build cache" in warning and "isn't saved" in warning
    assert held_lock.read_key() == KEY


def test_the_wait_for_the_lock_is_bounded():
    assert 0 < LOCK_WAIT_SECONDS <= 120


def big_install(path: Path, files: int = 400) -> Path:
    make_install(path)
    for index in range(files):
        package = path / "lib" / "site-packages" / f"package{index % 20}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"module{index}.py").write_text("x = 1\n" * 50)
    return path


def worker(cache_dir: Path, builds: Path, template: Path, seconds: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(LIB)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(cache_dir), str(builds), str(template), str(seconds)],
        env=env, stderr=subprocess.PIPE, text=True,
    )


def test_two_builds_racing_on_one_cache_never_reuse_a_broken_install(tmp_path):
    """Two processes restoring and saving one cache as fast as they can: a
    reused install is always complete (before the lock, one build could
    restore the directory the other was deleting)."""
    template = big_install(tmp_path / "template")
    processes = [worker(tmp_path / "cache", tmp_path / f"builds{n}", template, 4) for n in (1, 2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in processes]
    assert [code for code, _ in results] == [0, 0], results
    assert sum(int(err.split("reused=")[1]) for _, err in results) > 0, results


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_build_killed_while_restoring_or_saving_leaves_a_usable_cache(tmp_path, signum):
    template = big_install(tmp_path / "template")
    expected = sum(len(files) for _r, _d, files in os.walk(template))
    cache_dir = tmp_path / "cache"
    for attempt in range(4):  # killed at a different point of its rounds each time
        process = worker(cache_dir, tmp_path / f"builds{attempt}", template, 30)
        time.sleep(0.15 + attempt * 0.11)
        process.send_signal(signum)
        process.wait(timeout=60)
        target = tmp_path / f"next{attempt}" / ".heroku" / "python"
        cache = BuildCache(cache_dir)
        if cache.restore(KEY, target).reused:
            assert sum(len(files) for _r, _d, files in os.walk(target)) == expected
        else:
            shutil.copytree(template, target, symlinks=True)
        assert cache.save(KEY, target) is None
        assert BuildCache(cache_dir).restore(KEY, target.with_name("again")).reused


# --- the classic buildpack's cache: its .heroku/python-version ---

from python_buildpack.cache import StickyVersion, read_classic_python_version
from conftest import classic_cache


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


# --- a dependency change keeps Python and the tool --------------------------------

def saved_after_base(dirs, changed: str, text: str) -> tuple[InstallBase, Path]:
    """An install saved with its base recorded before `changed` was written;
    and where a restore moves it."""
    cache_dir, install = dirs
    make_install(install)
    base = InstallBase.record(install)
    (install / changed).write_text(text)
    assert BuildCache(cache_dir).save(KEY, install, base) is None
    return base, install.with_name("other")


def test_changed_dependencies_reset_the_install_to_its_base(dirs, capsys):
    base, target = saved_after_base(dirs, "lib/six.py", "a dependency")
    capsys.readouterr()
    restored = BuildCache(dirs[0]).restore(key(dependencies="changed"), target)
    assert restored.reused and not restored.dependencies_unchanged
    assert restored.reset_reasons == ("The contents of requirements.txt changed",) and restored.base == base
    assert (target / "bin" / "python3").exists() and not (target / "lib" / "six.py").exists()
    out = capsys.readouterr().out
    assert "Keeping the cached Python; installing the dependencies afresh since:" in out
    assert "- The contents of requirements.txt changed" in out and "Discarding" not in out


def test_changed_dependencies_without_a_saved_base_discard_the_install(dirs, capsys):
    cache = saved(dirs)  # saved by an older buildpack: no base.txt
    restored = cache.restore(key(dependencies="changed"), dirs[1].with_name("other"))
    assert not restored.reused and restored.status == "discarded"
    assert "- The contents of requirements.txt changed" in capsys.readouterr().out


def test_a_base_changed_since_discards_the_install(dirs, capsys):
    _base, target = saved_after_base(dirs, "bin/python3", "replaced by a dependency")
    restored = BuildCache(dirs[0]).restore(key(dependencies="changed"), target)
    assert not restored.reused and not target.exists()
    assert "changed since its dependencies were installed" in capsys.readouterr().out


def test_a_synced_lockfile_change_keeps_the_whole_install(dirs):
    cache_dir, install = dirs
    make_install(install)
    (install / "lib" / "six.py").write_text("a dependency")
    assert BuildCache(cache_dir).save(key(syncs=True), install, InstallBase.record(install)) is None
    restored = BuildCache(cache_dir).restore(key(dependencies="changed", syncs=True), install.with_name("other"))
    assert restored.reused and not restored.dependencies_unchanged and restored.reset_reasons == ()
    assert (install.with_name("other") / "lib" / "six.py").exists()  # the tool syncs it


# --- the early save: copied beside the build's last steps ---------------------

@pytest.fixture
def copies(monkeypatch):
    """How many times the install was copied into the cache."""
    made = []
    real = cache_module._link_or_copy_tree

    def counted(source, target):
        made.append(target)
        return real(source, target)

    monkeypatch.setattr(cache_module, "_link_or_copy_tree", counted)
    return made


def started_early(dirs):
    cache_dir, install = dirs
    make_install(install)
    (install / "lib" / "module.py").write_text("one")
    return start_early(cache_dir, install)


def start_early(cache_dir, install):
    cache = BuildCache(cache_dir)
    cache.start_save(install)
    cache._early.thread.join()  # copied: what follows happens after the copy
    return cache


def test_an_early_save_of_an_unchanged_install_is_kept(dirs, copies):
    cache_dir, install = dirs
    cache = started_early(dirs)
    assert cache.save(KEY, install) is None
    assert len(copies) == 1 and cache.saved_by == cache_module.EARLY_COPY
    assert (cache.python_dir / "lib" / "module.py").stat().st_ino == (install / "lib" / "module.py").stat().st_ino
    assert sorted(p.name for p in cache.root.iterdir()) == [".lock", "metadata.json", "python", "python-version"]
    assert BuildCache(cache_dir).restore(KEY, install.with_name("other")).reused


def replace_file(install):
    replacement = install / "lib" / "new-module.py"
    replacement.write_text("two")  # the same size, another file
    os.replace(replacement, install / "lib" / "module.py")


@pytest.mark.parametrize("change", [
    lambda install: (install / "lib" / "added.py").write_text("added"),
    lambda install: (install / "lib" / "module.py").unlink(),
    lambda install: (install / "lib" / "empty").mkdir(),
    replace_file,
], ids=["file added", "file removed", "directory added", "file replaced"])
def test_an_install_changed_after_the_early_copy_is_copied_again(dirs, copies, change):
    cache_dir, install = dirs
    cache = started_early(dirs)
    change(install)
    assert cache.save(KEY, install) is None
    assert len(copies) == 2 and cache.saved_by == cache_module.COPIED_AT_THE_END
    assert cache_module._entries(cache.python_dir, True) == cache_module._entries(install, True)
    assert not any(p.name.startswith(".saving-") for p in cache.root.iterdir())
    assert BuildCache(cache_dir).restore(KEY, install.with_name("other")).reused


def test_an_early_copy_made_without_hardlinks_is_checked_by_size_and_time(dirs, copies, monkeypatch):
    cache_dir, install = dirs
    real = cache_module._copy_tree

    def no_links(source, target, link):
        if link:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real(source, target, link)

    monkeypatch.setattr(cache_module, "_copy_tree", no_links)
    cache = started_early(dirs)
    assert cache.save(KEY, install) is None and len(copies) == 1
    started_early_again = start_early(cache_dir, install)
    (install / "lib" / "module.py").write_text("changed in place")  # no new inode, but a copy is stale
    assert started_early_again.save(KEY, install) is None and len(copies) == 3
    assert (started_early_again.python_dir / "lib" / "module.py").read_text() == "changed in place"


def test_a_failed_early_copy_is_made_again_at_the_end(dirs, copies, monkeypatch):
    cache_dir, install = dirs
    real = cache_module._copy_tree
    calls = []

    def fails_once(source, target, link):
        calls.append(link)
        if len(calls) <= 2:  # the early copy: hardlinks, then the copy it falls back to
            raise OSError(errno.EIO, "Input/output error")
        real(source, target, link)

    monkeypatch.setattr(cache_module, "_copy_tree", fails_once)
    cache = started_early(dirs)
    assert cache._early.failed
    assert cache.save(KEY, install) is None and len(copies) == 2
    assert BuildCache(cache_dir).restore(KEY, install.with_name("other")).reused


def test_no_early_save_while_another_build_holds_the_lock(dirs, held_lock, capsys):
    cache_dir, install = dirs
    started = time.monotonic()
    held_lock.start_save(install)
    assert time.monotonic() - started < 0.2 and held_lock._early is None  # no wait: `save` waits
    assert "another build" in held_lock.save(KEY, install).lower() and held_lock.saved_by is None


def test_the_hardlinked_copy_in_shares_is_the_tree_as_it_was(tmp_path):
    source = tmp_path / "python"
    site = source / "lib" / "python3.13" / "site-packages"
    for package in range(12):  # enough subdirectories to be split among the cp processes
        (site / f"package{package}" / "sub").mkdir(parents=True)
        (site / f"package{package}" / "sub" / "module.py").write_text(str(package))
    (source / "bin").mkdir()
    (source / "bin" / "python").symlink_to("python3.13")
    (site / "package3" / "sub").chmod(0o555)
    os.utime(site / "package5", ns=(1_000_000_000, 2_000_000_000))
    target = tmp_path / "copy"
    cache_module._copy_tree(source, target, link=True)

    def described(root):
        found = {}
        for path in sorted(root.rglob("*")):
            info = path.lstat()
            found[str(path.relative_to(root))] = (
                "dir", oct(info.st_mode), info.st_mtime_ns) if path.is_dir() and not path.is_symlink() else info.st_ino
        return found

    assert described(target) == described(source)
    assert os.readlink(target / "bin" / "python") == "python3.13"


def test_discarding_a_restored_install_abandons_its_early_save(dirs, copies):
    cache_dir, install = dirs
    cache = started_early(dirs)
    cache.discard_restored(install, "The cached Python install doesn't run")
    assert not install.exists() and cache._early is None
    assert not any(p.name.startswith(".saving-") for p in cache.root.iterdir())
    make_install(install, marker="installed afresh")
    assert cache.save(KEY, install) is None  # the lock was released: no wait, no warning
    assert (cache.python_dir / "bin" / "python3").read_text() == "installed afresh"
