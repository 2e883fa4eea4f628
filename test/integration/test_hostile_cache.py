"""The build cache under attack and under faults, in the stack environment.

Written as an attacker (or bad luck) would: links and FIFOs planted in the
cache, a cached install gutted behind the buildpack's back, a full disk,
two builds of one app at once on one cache, builds killed while restoring
or saving. Each build ends correct, or fails with one clear message; and
the next build on the same cache is correct: it succeeds and its Python
runs with its standard library whole.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Optional

import pytest

from stack_env import BUILD_UID, HerokuishBuild, chown_tree, make_stack, stack_kind, stack_name
from test_builds import failed, ok

# Imports that span the standard library: a gutted install fails one.
PYTHON_CHECK = ("python -c 'import ssl, sqlite3, json, email.mime.text, xml.dom.minidom, "
                "http.client, sys; print(sys.version_info[:2])'")


def cache_dir(stack) -> Path:
    """The host path of the builds' CACHE_DIR (a test's own file system, if mounted)."""
    inside = f"{stack.tmp_dir}/cache"
    return getattr(stack, "extra_mounts", {}).get(inside) or stack.host_path(inside)


def namespace(stack) -> Path:
    return cache_dir(stack) / "python-buildpack"


def python_runs(builder: HerokuishBuild) -> None:
    result = builder.run_in_app(PYTHON_CHECK)
    assert result.returncode == 0 and result.stdout.startswith("(3, "), result.output
    slug_python = builder.stack.host_path("/app/.heroku/python")
    assert slug_python.is_dir() and not slug_python.is_symlink()


def no_leftovers(stack) -> None:
    """Nothing half-saved (or planted) stays in the cache."""
    odd = [p.name for p in namespace(stack).iterdir() if p.name.startswith((".saving-", ".writing-"))]
    odd += [p.name for p in namespace(stack).iterdir() if p.is_symlink()]
    assert odd == []


def next_build_is_correct(builder: HerokuishBuild, source: Path) -> str:
    """A normal build on the same cache succeeds, and its Python runs."""
    log = ok(builder.build(source)).output
    python_runs(builder)
    no_leftovers(builder.stack)
    return log


def requires_mounts(stack) -> None:
    if stack_kind() == "native":
        pytest.skip("a test's own file system for the cache needs the stand-in's mount namespaces")


@pytest.fixture
def cache_on_tmpfs(stack, tmp_path) -> Callable[[str], Path]:
    """cache_on_tmpfs(size): the builds' CACHE_DIR becomes a tmpfs of that
    size, the same one for every build of the test."""
    requires_mounts(stack)
    mounted = []

    def mount(size: str) -> Path:
        path = tmp_path / f"cache-fs-{len(mounted)}"
        path.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755,uid={BUILD_UID},gid={BUILD_UID}",
                        "tmpfs", str(path)], check=True)
        mounted.append(path)
        stack.extra_mounts[f"{stack.tmp_dir}/cache"] = path
        return path

    yield mount
    for path in mounted:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


# --- planted links, FIFOs and a gutted install ------------------------------------

def _move_elsewhere(stack, path: Path) -> str:
    """Move `path` out of the cache to /tmp/elsewhere; its path inside."""
    inside = f"{stack.tmp_dir}/elsewhere"
    shutil.move(str(path), str(stack.host_path(inside)))
    return inside


def plant_python_link(stack) -> str:
    # A complete install, but outside the cache: following the link would
    # put a link to it, not Python, into the slug.
    (namespace(stack) / "python").symlink_to(_move_elsewhere(stack, namespace(stack) / "python"))
    return "- The cached Python install is a symbolic link or not a directory"


def plant_root_link(stack) -> str:
    namespace(stack).symlink_to(_move_elsewhere(stack, namespace(stack)))
    return "- The cache directory is corrupt or belongs to something else"


def plant_fifos(stack) -> str:
    # Reading any of them would block for ever.
    for name in ("metadata.json", "python-version", ".lock"):
        (namespace(stack) / name).unlink()
        os.mkfifo(namespace(stack) / name)
    return "- The cache is incomplete, corrupt or from another buildpack version"


def plant_metadata_and_lock_links(stack) -> str:
    # Valid metadata, but not the cache's own; a lock file elsewhere.
    (namespace(stack) / "metadata.json").symlink_to(_move_elsewhere(stack, namespace(stack) / "metadata.json"))
    (namespace(stack) / ".lock").unlink()
    (namespace(stack) / ".lock").symlink_to(f"{stack.tmp_dir}/elsewhere")
    return "- The cache is incomplete, corrupt or from another buildpack version"


def gut_the_install(stack) -> str:
    # What a concurrent build deleting the cache used to leave: an install
    # that still starts (python_works) but has lost most of its files.
    stdlib = next((namespace(stack) / "python" / "lib").glob("python3.*"))
    for name in ("xml", "email", "http", "json"):
        shutil.rmtree(stdlib / name)
    return "- The cached Python install is incomplete or changed since it was saved"


PLANTS = {
    "python dir links to an install elsewhere": plant_python_link,
    "cache dir links elsewhere": plant_root_link,
    "metadata.json, python-version and the lock are FIFOs": plant_fifos,
    "metadata.json and the lock link elsewhere": plant_metadata_and_lock_links,
    "the install lost files since it was saved": gut_the_install,
}


@pytest.mark.parametrize("plant", PLANTS)
def test_planted_cache_contents_are_discarded_never_followed(herokuish, fixture_app, stack, plant):
    source = fixture_app("minimal_app")
    ok(herokuish.build(source))
    expected = PLANTS[plant](stack)
    chown_tree(cache_dir(stack))
    log = ok(herokuish.build(source)).output
    assert expected in log
    python_runs(herokuish)
    elsewhere = stack.host_path(f"{stack.tmp_dir}/elsewhere")
    if elsewhere.is_dir():  # what the links pointed at is left alone
        assert any(elsewhere.rglob("python3"))
    elif elsewhere.exists():
        assert '"format"' in elsewhere.read_text()
    assert "-----> Using cached install of Python" in next_build_is_correct(herokuish, source)


# --- a full disk -------------------------------------------------------------------

def test_a_full_disk_while_saving_the_cache(herokuish, fixture_app, stack, cache_on_tmpfs):
    cache_on_tmpfs("48m")  # room for uv (38 MB) and its download cache, not for Python (75 MB)
    source = fixture_app("minimal_app")
    for _build in range(2):  # the second finds what the first left: nothing it would reuse
        result = ok(herokuish.build(source))
        assert "Warning: Unable to save the build cache: no space left on device." in result.stderr
        assert f"The file system of the build cache ({stack.tmp_dir}/cache) is full." in result.stderr
        assert "--recursive" not in result.output and "Internal error" not in result.output
        assert "-----> Installing Python" in result.stdout
        assert not os.path.lexists(namespace(stack) / "python")
        assert not os.path.lexists(namespace(stack) / "metadata.json")
        no_leftovers(stack)
        python_runs(herokuish)


def test_a_cache_too_small_for_uv(herokuish, fixture_app, stack, cache_on_tmpfs):
    # uv, which installs requirements.txt, lives in the cache: a full cache
    # (like one too full to save the install in) doesn't fail the build. The
    # next build, on a cache with room, is correct.
    cache_on_tmpfs("8m")
    source = fixture_app("minimal_app", {"requirements.txt": "six==1.17.0\n"})
    result = ok(herokuish.build(source))
    assert "Internal error" not in result.output
    assert "Warning: uv couldn't be saved in the build cache." in result.stderr
    python_runs(herokuish)
    assert herokuish.run_in_app("python -c 'import six'").returncode == 0
    no_leftovers(stack)
    cache_on_tmpfs("256m")
    next_build_is_correct(herokuish, source)


# --- builds killed while restoring or saving -------------------------------------

def _compile_pid(marker: str) -> Optional[int]:
    """The host PID of the buildpack's Python running compile with `marker` in its environment."""
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes():
                command = (entry / "cmdline").read_bytes().split(b"\0")
                if any(arg.endswith(b"main.py") for arg in command) and b"compile" in command:
                    return int(entry.name)
        except OSError:
            continue
    return None


def _saving(stack) -> bool:
    return namespace(stack).is_dir() and any(p.name.startswith(".saving-") for p in namespace(stack).iterdir())


def _restoring(stack) -> bool:
    # Restoring removes metadata.json first, then copies the install out.
    return (namespace(stack) / "python").is_dir() and not (namespace(stack) / "metadata.json").exists()


AFTER_THE_RESTORE = ("python", "package_manager", "dependencies", "nltk", "collectstatic", "post_compile", "sbom",
                     "cache_save")


@pytest.mark.parametrize("signum, during", [
    (signal.SIGKILL, "save"), (signal.SIGTERM, "save"), (signal.SIGKILL, "restore"),
], ids=["SIGKILL-save", "SIGTERM-save", "SIGKILL-restore"])
def test_a_build_killed_while_using_the_cache(herokuish, fixture_app, stack, cache_on_tmpfs, signum, during):
    # On its own file system the cache is copied file by file both ways:
    # slow enough to be killed in the middle.
    cache_on_tmpfs("1g")
    source = fixture_app("minimal_app")
    ok(herokuish.build(source))
    marker = str(uuid.uuid4())
    herokuish.env["HOSTILE_CACHE_TEST"] = marker
    outcomes = []
    builder = threading.Thread(target=lambda: outcomes.append(herokuish.build(source)), daemon=True)
    builder.start()
    in_progress = _saving if during == "save" else _restoring
    deadline = time.monotonic() + 120
    while not in_progress(stack):
        assert builder.is_alive() and time.monotonic() < deadline, f"the build never got to the {during}"
        time.sleep(0.002)
    pid = _compile_pid(marker)
    assert pid is not None, "bin/compile's process wasn't found"
    os.kill(pid, signum)
    builder.join(60)
    assert outcomes, "the killed build didn't end"
    if signum == signal.SIGTERM:
        failed(outcomes[0], "build::interrupted")
    else:
        # Killed outright: bin/report still says how far the build got.
        assert outcomes[0].compile.returncode != 0
        report = outcomes[0].report
        assert report["status"] == "running", report
        # The save starts as soon as the install is final: in this unchanged
        # rebuild, in the python step, right after the restore.
        assert report["current_step"] in (AFTER_THE_RESTORE if during == "save" else ("python",)), report
    del herokuish.env["HOSTILE_CACHE_TEST"]
    next_build_is_correct(herokuish, source)


# --- two builds of one app at once, on one cache ----------------------------------

def test_two_builds_of_one_app_at_once_on_one_cache(rootfs, mirror, fixture_app, tmp_path):
    """Two builders (each its own /tmp and /app, as two containers would
    have) sharing one CACHE_DIR, building at the same moment: first on an
    empty cache (both save), then on a saved one (one restores it while the
    other may be saving)."""
    if rootfs is None:
        pytest.skip("two builders at once need the stand-in's mount namespaces")
    shared = tmp_path / "shared-cache"
    shared.mkdir()
    os.chown(shared, BUILD_UID, BUILD_UID)
    builders = []
    for n in (1, 2):
        stack = make_stack(rootfs, tmp_path / f"builder{n}")
        stack.extra_mounts[f"{stack.tmp_dir}/cache"] = shared
        builders.append(HerokuishBuild(stack, stack_name(), config={"PYTHON_RUNTIME_BASE_URL": mirror.url()}))
    source = fixture_app("minimal_app")
    for round_ in ("empty cache", "saved cache"):
        outcomes: dict[int, object] = {}
        threads = [threading.Thread(target=lambda n=n: outcomes.update({n: builders[n].build(source)}))
                   for n in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert sorted(outcomes) == [0, 1], "a build didn't end"
        for n in (0, 1):
            ok(outcomes[n])
            python_runs(builders[n])
        assert _stdlib_files(builders[0]) == _stdlib_files(builders[1])
        if round_ == "saved cache":
            assert any("-----> Using cached install of Python" in outcomes[n].compile.stdout for n in (0, 1))
    log = next_build_is_correct(builders[0], source)
    assert "-----> Using cached install of Python" in log


def _stdlib_files(builder: HerokuishBuild) -> int:
    stdlib = next((builder.stack.host_path("/app/.heroku/python") / "lib").glob("python3.*"))
    return sum(len(files) for root, _dirs, files in os.walk(stdlib)
               if "site-packages" not in root and "__pycache__" not in root)
