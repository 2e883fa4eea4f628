"""Fixtures for the integration suite: the stack environment, runtime
archives made from this machine's CPython builds, and a runtime mirror
serving them on 127.0.0.1."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import http.server
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from stack_env import REPO, ChrootStack, HerokuishBuild, NativeStack

FIXTURES = REPO / "test" / "fixtures"
CACHE_ROOT = Path(os.environ.get("STACK_ROOTFS_CACHE", "/var/tmp/python-buildpack-stack"))
# The majors the suite builds apps with; each is packaged from this
# machine's newest CPython build of that major (pyenv).
RUNTIME_MAJORS = ("3.11", "3.12", "3.13")


def pytest_report_header(config):
    return f"stack: {stack_name()} in {stack_kind()}"


def stack_name() -> str:
    return os.environ.get("TEST_STACK", "heroku-24")


def stack_kind() -> str:
    return os.environ.get("TEST_STACK_ENV", "chroot")


@pytest.fixture(scope="session")
def rootfs() -> Path | None:
    if stack_kind() == "native":
        return None
    result = subprocess.run(
        [str(REPO / "test" / "stack" / "make-rootfs")], capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.fail(f"Unable to make the stand-in stack rootfs:\n{result.stderr}")
    return Path(result.stdout.strip().splitlines()[-1])


def pyenv_builds() -> dict[str, Path]:
    """The newest pyenv CPython build of each major in RUNTIME_MAJORS."""
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
    found: dict[str, tuple[tuple[int, ...], Path]] = {}
    for prefix in Path(root, "versions").iterdir():
        if not re.fullmatch(r"\d+\.\d+\.\d+", prefix.name):
            continue
        major = prefix.name.rsplit(".", 1)[0]
        key = tuple(int(p) for p in prefix.name.split("."))
        if major in RUNTIME_MAJORS and (major not in found or key > found[major][0]):
            found[major] = (key, prefix)
    return {major: prefix for major, (_key, prefix) in found.items()}


@dataclass(frozen=True)
class RuntimeArchives:
    directory: Path
    versions: dict[str, str]  # major -> exact version


@pytest.fixture(scope="session")
def runtime_archives() -> RuntimeArchives:
    """Archives for RUNTIME_MAJORS, in a machine-level cache.

    Made once per machine (and tool change) with builds/package_runtime.py,
    under a lock, as pytest-xdist workers may ask at the same time.
    """
    tool = REPO / "builds" / "package_runtime.py"
    key = hashlib.sha256(tool.read_bytes()).hexdigest()[:12]
    directory = CACHE_ROOT / f"runtimes-{stack_name()}-{key}"
    directory.mkdir(parents=True, exist_ok=True)
    builds = pyenv_builds()
    with open(CACHE_ROOT / ".runtimes.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for major, prefix in builds.items():
            if not list(directory.glob(f"python-{prefix.name}-*.tar.zst")):
                subprocess.run(
                    [str(tool), str(prefix), str(directory), "--stack", stack_name(), "--level", "3"],
                    check=True, capture_output=True,
                )
    return RuntimeArchives(directory, {major: prefix.name for major, prefix in builds.items()})


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class MirrorServer:
    """Serves mirror directories: /mirror (with SHA256SUMS), /no-manifest
    (archives only, like Heroku's bucket) and /bad-checksum (a SHA256SUMS
    whose checksums are wrong)."""

    def __init__(self, root: Path):
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, kind: str = "mirror") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{kind}"


@pytest.fixture(scope="session")
def mirror(runtime_archives, tmp_path_factory) -> MirrorServer:
    source = runtime_archives.directory
    root = tmp_path_factory.mktemp("mirrors")
    for kind in ("mirror", "no-manifest", "bad-checksum"):
        (root / kind).mkdir()
        for archive in source.glob("*.tar.zst"):
            (root / kind / archive.name).symlink_to(archive)
    shutil.copy(source / "SHA256SUMS", root / "mirror" / "SHA256SUMS")
    bad = re.sub(r"^[0-9a-f]{64}", "0" * 64, (source / "SHA256SUMS").read_text(), flags=re.M)
    (root / "bad-checksum" / "SHA256SUMS").write_text(bad)
    server = MirrorServer(root)
    yield server
    server.server.shutdown()


@pytest.fixture
def stack(rootfs, tmp_path):
    if rootfs is None:
        return NativeStack(tmp_path)
    return ChrootStack(rootfs, tmp_path)


@pytest.fixture
def herokuish(stack, mirror) -> HerokuishBuild:
    """A herokuish-style builder whose app config points at the test mirror."""
    return HerokuishBuild(stack, stack_name(), config={"PYTHON_RUNTIME_BASE_URL": mirror.url()})


@pytest.fixture
def fixture_app(tmp_path):
    """Copy of a fixture app, optionally changed: fixture_app(name, files)."""

    def make(name: str, files: dict[str, str | bytes | None] | None = None) -> Path:
        target = tmp_path / "source" / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(FIXTURES / name, target)
        for relative, content in (files or {}).items():
            path = target / relative
            if content is None:
                path.unlink()
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return target

    return make
