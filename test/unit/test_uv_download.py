"""uv_download: uv's wheel straight from the index's simple page."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from http_server import ScriptedServer
from python_buildpack import uv_download
from python_buildpack.download import Timeouts

LIB = Path(uv_download.__file__).resolve().parents[1]

WHEEL = "uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"


def make_wheel(path, with_binary=True, binary="\x7fELF"):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("uv/__init__.py", "")
        archive.writestr("uv-0.13.9.dist-info/METADATA", "Name: uv\nVersion: 0.13.9\n")
        if with_binary:
            archive.writestr("uv-0.13.9.data/scripts/uv", binary)
            archive.writestr("uv-0.13.9.data/scripts/uvx", "\x7fELF")
        archive.writestr("../escape", "no")
    return path


def page(href):
    return f'<html><body><a href="{href}">{href.rsplit("/", 1)[-1]}</a></body></html>'


def test_the_wheel_for_the_architecture_with_its_hash():
    digest = "a" * 64
    links = page(f"../../packages/ab/{WHEEL}#sha256={digest}") + page(
        f"../../packages/cd/uv-0.13.9-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl#sha256={'b' * 64}")
    url, sha = uv_download.wheel_link(links, "https://pypi.org/simple/uv/", "0.13.9", "amd64")
    assert url == f"https://pypi.org/packages/ab/{WHEEL}" and sha == digest
    assert uv_download.wheel_link(links, "https://pypi.org/simple/uv/", "0.13.9", "arm64")[1] == "b" * 64


@pytest.mark.parametrize("links, problem", [
    (page(f"/p/{WHEEL}"), "no sha256"),
    (page(f"/p/{WHEEL.replace('0.13.9', '0.13.8')}#sha256={'a' * 64}"), "no uv 0.13.9 wheel"),
    (page(f"/p/{WHEEL.replace('manylinux', 'musllinux')}#sha256={'a' * 64}"), "no uv 0.13.9 wheel"),
])
def test_what_isnt_there_is_unavailable(links, problem):
    with pytest.raises(uv_download.Unavailable, match=problem):
        uv_download.wheel_link(links, "https://pypi.org/simple/uv/", "0.13.9", "amd64")


def test_unpacked_as_pip_install_target_lays_it_out(tmp_path):
    target = tmp_path / "target"
    uv_download.unpack(make_wheel(tmp_path / WHEEL), target)
    assert sorted(p.name for p in target.iterdir()) == ["bin", "uv", "uv-0.13.9.dist-info"]
    assert (target / "bin" / "uv").stat().st_mode & 0o111
    assert not (tmp_path / "escape").exists()
    with pytest.raises(uv_download.Unavailable, match="no uv binary"):
        uv_download.unpack(make_wheel(tmp_path / "other.whl", with_binary=False), tmp_path / "other")


@pytest.fixture
def index():
    server = ScriptedServer()
    yield server
    server.close()


def start_fetch(index):
    return uv_download.Fetching.start("0.13.9", "amd64", index.url("/simple"), Timeouts())


@pytest.mark.uv_fetch
def test_a_download_that_doesnt_match_its_hash_is_refused(tmp_path, index):
    """The child process's whole run: the page, the wheel, its check, unpacking."""
    wheel = make_wheel(tmp_path / WHEEL).read_bytes()
    index.route(f"/p/{WHEEL}", (200, wheel))
    index.route("/simple/uv/", (200, page(f"/p/{WHEEL}#sha256={'0' * 64}").encode()))
    download = uv_download.fetch_uv("0.13.9", "amd64", index.url("/simple"), Timeouts())
    assert download.unpacked() is None and "doesn't match the sha256" in download.problem

    index.route("/simple/uv/", (200, page(f"/p/{WHEEL}#sha256={hashlib.sha256(wheel).hexdigest()}").encode()))
    download = uv_download.fetch_uv("0.13.9", "amd64", index.url("/simple"), Timeouts())
    directory = download.unpacked()
    assert directory is not None and (directory / "bin" / "uv").is_file()
    assert not list(directory.parent.glob("*.whl"))  # only what pip --target would leave
    download.discard()
    assert not directory.exists()


@pytest.mark.uv_fetch
def test_a_fetch_the_build_no_longer_needs_is_killed(tmp_path, index):
    def stall(handler):
        time.sleep(30)

    index.route("/simple/uv/", stall)
    fetching = start_fetch(index)
    time.sleep(0.3)
    started = time.monotonic()
    fetching.cancel()
    assert fetching.process.returncode is not None and time.monotonic() - started < 5
    assert not fetching.staging.exists()


@pytest.mark.uv_fetch
def test_the_child_dies_with_the_build(tmp_path, index):
    """A build killed outright (SIGKILL: no atexit) takes its uv download with it."""
    def stall(handler):
        time.sleep(30)

    index.route("/simple/uv/", stall)
    pid_file = tmp_path / "child"
    script = (f"import sys, time; sys.path.insert(0, {str(LIB)!r}); from python_buildpack import uv_download; "
              "from python_buildpack.download import Timeouts; "
              f"f = uv_download.Fetching.start('0.13.9', 'amd64', {index.url('/simple')!r}, Timeouts()); "
              f"open({str(pid_file)!r}, 'w').write(str(f.process.pid)); time.sleep(60)")
    build = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child = int(pid_file.read_text())
    time.sleep(0.3)  # the child has set PR_SET_PDEATHSIG
    build.kill()
    build.wait()
    wait_until_gone(child, "the uv download outlived the build")


# A uv that records each run (its arguments, directory and one variable of
# its environment) in $RECORD, then takes $UV_TAKES seconds. Meanwhile, as
# uv does, it holds a shared lock on its cache and has work in progress there.
RECORDING_UV = """#!/bin/sh
{ printf '%s\\n' "$@"; echo "cwd=$(pwd)"; echo "secret=$PRIVATE_INDEX_TOKEN"; echo "--"; } >> "$RECORD"
echo $$ > "$RECORD.pid"
exec 9>"$UV_CACHE_DIR/.lock"
flock -s 9
mkdir -p "$UV_CACHE_DIR/.tmpWork$$/django" "$UV_CACHE_DIR/archive-v0/done"
exec sleep "${UV_TAKES:-0}"
"""


def serve_uv(index, tmp_path, binary=RECORDING_UV):
    wheel = make_wheel(tmp_path / WHEEL, binary=binary).read_bytes()
    index.route(f"/p/{WHEEL}", (200, wheel))
    index.route("/simple/uv/", (200, page(f"/p/{WHEEL}#sha256={hashlib.sha256(wheel).hexdigest()}").encode()))


def warm_up_request(tmp_path, limit=60.0, takes="0"):
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "RECORD": str(tmp_path / "record"), "UV_TAKES": takes,
           "PRIVATE_INDEX_TOKEN": "s3cret", "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    (tmp_path / "uv-cache").mkdir(exist_ok=True)
    return uv_download.WarmUp([["pip==26.3"], ["-r", "requirements.txt"]], "3.12.1", env, str(app), limit)


def warmed(index, tmp_path, **request_options):
    """A fetch asked to warm the cache, its result, and how long result() took."""
    serve_uv(index, tmp_path)
    fetching = start_fetch(index)
    fetching.warm_up(warm_up_request(tmp_path, **request_options))
    started = time.monotonic()
    download = fetching.result()
    return fetching, download, time.monotonic() - started


@pytest.mark.parametrize("arch, glibc, expected", [
    ("amd64", "glibc 2.39", "x86_64-manylinux_2_39"),
    ("arm64", "glibc 2.35", "aarch64-manylinux_2_35"),
    ("amd64", "glibc 2.42", "x86_64-manylinux_2_40"),  # the newest uv knows
    ("amd64", "glibc 2.30", "x86_64-manylinux_2_28"),
    ("amd64", "glibc 2.12", None),
    ("amd64", "", None),
    ("s390x", "glibc 2.39", None),
])
def test_the_platform_the_warm_up_asks_for(arch, glibc, expected):
    assert uv_download.python_platform(arch, glibc) == expected


@pytest.mark.uv_fetch
def test_the_child_warms_uv_s_cache_as_the_build_asks(tmp_path, index):
    fetching, download, _seconds = warmed(index, tmp_path)
    assert download.unpacked() is not None
    runs = [run.splitlines() for run in (tmp_path / "record").read_text().split("--\n") if run]
    where = [f"cwd={tmp_path / 'app'}", "secret=s3cret"]
    assert [run[-3:] for run in runs] == [["pip==26.3", *where], ["requirements.txt", *where]]
    assert runs[1][-4] == "-r"
    args = runs[0]
    assert args[:4] == ["pip", "install", "--no-config", "--target"] and "--no-build" in args
    assert args[args.index("--python-version") + 1] == "3.12.1"
    assert args[args.index("--python-platform") + 1].startswith("x86_64-manylinux_2_")
    target = Path(args[args.index("--target") + 1])
    assert target.parent == fetching.staging and not target.exists()
    assert not any("s3cret" in arg for run in runs for arg in run[:-1])  # by the environment, never by argv
    assert not (fetching.staging / uv_download.WARM_UP_FILE).exists()
    download.discard()


@pytest.mark.uv_fetch
def test_without_a_warm_up_request_the_child_only_fetches_uv(tmp_path, index):
    serve_uv(index, tmp_path)
    download = start_fetch(index).result()
    assert download.unpacked() is not None and not (tmp_path / "record").exists()
    download.discard()


@pytest.mark.uv_fetch
def test_a_slow_warm_up_is_cut_at_its_limit_and_uv_is_still_taken(tmp_path, index):
    _fetching, download, seconds = warmed(index, tmp_path, limit=1.0, takes="30")
    assert download.unpacked() is not None and seconds < 10
    assert len((tmp_path / "record").read_text().split("--\n")) == 2  # the first run; no time for the second
    download.discard()


@pytest.mark.uv_fetch
def test_the_build_waits_for_a_warm_up_only_so_long_then_stops_it(tmp_path, index, monkeypatch):
    """A warm-up whose download stalls costs the build WARM_UP_WAIT, not the
    index's timeout: the child and its uv are stopped, and uv is taken."""
    monkeypatch.setattr(uv_download, "WARM_UP_WAIT", 0.5)
    fetching, download, seconds = warmed(index, tmp_path, limit=60.0, takes="30")
    assert download.unpacked() is not None and seconds < 10
    assert fetching.process.returncode is not None
    warming_uv = int((tmp_path / "record.pid").read_text())
    wait_until_gone(warming_uv, "the warm-up's uv outlived its child")
    # What the stopped uv had in progress goes once it has let go of its cache.
    cache = tmp_path / "uv-cache"
    assert list(cache.glob(".tmp*"))
    uv_download.remove_stopped_uv_leftovers(cache, wait=0.5)
    assert not list(cache.glob(".tmp*")) and (cache / "archive-v0" / "done").is_dir()
    download.discard()


def test_a_stopped_uv_s_leftovers_go_only_once_no_uv_uses_the_cache(tmp_path):
    import fcntl
    import os

    cache = tmp_path / "uv-cache"
    (cache / ".tmpAbC123" / "django").mkdir(parents=True)
    (cache / "archive-v0" / "kept").mkdir(parents=True)
    (cache / ".lock").write_text("")
    descriptor = os.open(cache / ".lock", os.O_RDWR)
    fcntl.flock(descriptor, fcntl.LOCK_SH)  # a uv is running
    started = time.monotonic()
    uv_download.remove_stopped_uv_leftovers(cache, wait=0.3)
    assert (cache / ".tmpAbC123").is_dir() and time.monotonic() - started < 2
    os.close(descriptor)
    uv_download.remove_stopped_uv_leftovers(cache)
    assert not (cache / ".tmpAbC123").exists() and (cache / "archive-v0" / "kept").is_dir()
    uv_download.remove_stopped_uv_leftovers(tmp_path / "never-used")  # no cache: nothing to do


def test_without_locks_a_stopped_uv_s_leftovers_stay(tmp_path, monkeypatch):
    import errno
    import fcntl

    cache = tmp_path / "uv-cache"
    (cache / ".tmpAbC123").mkdir(parents=True)
    (cache / ".lock").write_text("")

    def no_locks(descriptor, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    uv_download.remove_stopped_uv_leftovers(cache)
    assert (cache / ".tmpAbC123").is_dir()


@pytest.mark.uv_fetch
def test_a_warm_up_request_to_a_child_that_failed_is_harmless(tmp_path, index):
    index.route("/simple/uv/", (404, b"no"))
    fetching = start_fetch(index)
    fetching.process.wait()
    fetching.warm_up(warm_up_request(tmp_path))
    download = fetching.result()
    assert download.unpacked() is None and download.problem
    assert not fetching.staging.exists()


def wait_until_gone(pid: int, what: str) -> None:
    deadline = time.monotonic() + 5
    while _running(pid):
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
