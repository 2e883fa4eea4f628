#!/usr/bin/env python3
"""Build CPython from the source tarball in Debian's archive, once per machine.

    builds/build_cpython_from_debian.py [--major 3.14] [--refresh]

Prints the install prefix (a CPython built with --enable-shared, ready for
builds/package_runtime.py) on stdout; progress goes to stderr.

Why Debian's archive: python.org isn't reachable from this project's
machines, but Debian's archive is, and it carries CPython's release
tarballs unchanged as `python3.X_<version>.orig.tar.xz`. The chain of
trust: the suite's InRelease is checked with gpgv against Debian's archive
keyring, InRelease gives the SHA256 of the Sources index, and the Sources
index gives the SHA256 of the tarball (Checksums-Sha256).

The build is plain (no PGO/LTO, so minutes, not an hour): --enable-shared
--with-ensurepip=no --disable-test-modules, `make -j$(nproc)`. It goes into
$CPYTHON_BUILD_CACHE (default $STACK_ROOTFS_CACHE, else
/var/tmp/python-buildpack-stack) under a
lock, so concurrent callers build it once. A finished build of the major
is reused without looking at the archive again; --refresh looks for a
newer release. Missing build dependencies are installed with apt-get.

Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian),
DEBIAN_SOURCE_SUITE (default sid, where new CPython releases land first).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian").rstrip("/")
SUITE = os.environ.get("DEBIAN_SOURCE_SUITE", "sid")
CACHE = Path(os.environ.get("CPYTHON_BUILD_CACHE")
             or os.environ.get("STACK_ROOTFS_CACHE", "/var/tmp/python-buildpack-stack"))
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
CONFIGURE_OPTIONS = ("--enable-shared", "--with-ensurepip=no", "--disable-test-modules")
# The -dev packages CPython's optional stdlib modules need; without one the
# module is silently skipped, so they are checked up front.
BUILD_DEPENDENCIES = (
    "build-essential", "pkg-config", "xz-utils", "libssl-dev", "libffi-dev", "libsqlite3-dev",
    "zlib1g-dev", "libbz2-dev", "liblzma-dev", "libreadline-dev", "libncurses-dev", "uuid-dev",
    "libgdbm-dev", "libgdbm-compat-dev", "libzstd-dev", "libdb-dev", "libexpat1-dev",
)
# Checked after the build: a missing one means a missing -dev package.
CHECKED_MODULES = (
    "_uuid", "bz2", "ctypes", "curses", "dbm.gnu", "dbm.ndbm", "decimal", "lzma", "readline",
    "sqlite3", "ssl", "xml.parsers.expat", "zlib",
)
MODULES_SINCE = {"compression.zstd": (3, 14)}
# A finished build's directory name carries this, so changing how CPython
# is built (not how this script talks) makes a new build.
RECIPE = hashlib.sha256(repr((CONFIGURE_OPTIONS, BUILD_DEPENDENCIES)).encode()).hexdigest()[:8]


class BuildError(Exception):
    pass


def say(message: str) -> None:
    print(f"build_cpython: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Tarball:
    version: str  # upstream version, e.g. 3.14.9
    url: str
    sha256: str
    size: int


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def parse_stanzas(text: str) -> list[dict[str, str]]:
    """Debian control-file stanzas; continuation lines joined with newlines."""
    stanzas: list[dict[str, str]] = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        name = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and name:
                fields[name] += "\n" + line.strip()
            elif ":" in line:
                name, value = line.split(":", 1)
                fields[name] = value.strip()
        if fields:
            stanzas.append(fields)
    return stanzas


def checksum_lines(field: str) -> dict[str, tuple[str, int]]:
    """A Checksums-Sha256/SHA256 field: name -> (sha256, size)."""
    found = {}
    for line in field.splitlines():
        parts = line.split()
        if len(parts) == 3:
            found[parts[2]] = (parts[0], int(parts[1]))
    return found


def verified_sources_index() -> str:
    """The suite's main Sources index, checked against its signed InRelease."""
    return verified_index(SUITE, "main/source/Sources.xz")


def verified_index(suite: str, name: str) -> str:
    """An index of `suite` (e.g. main/source/Sources.xz), decompressed, checked
    against the SHA256 its InRelease gives, InRelease against its signature."""
    base = f"{MIRROR}/dists/{suite}"
    index = fetch(f"{base}/{name}")
    if shutil.which("gpgv") and KEYRING.exists():
        with tempfile.NamedTemporaryFile(suffix=".InRelease") as release:
            release.write(fetch(f"{base}/InRelease"))
            release.flush()
            # --output: only what the signature covers.
            check = subprocess.run(["gpgv", "--keyring", str(KEYRING), "--output", "-", release.name],
                                   capture_output=True, text=True)
            if check.returncode != 0:
                raise BuildError(f"the signature of {base}/InRelease doesn't verify:\n{check.stderr}")
        release_fields = parse_stanzas(check.stdout)[0]
        expected = checksum_lines(release_fields.get("SHA256", "")).get(name)
        if expected is None or hashlib.sha256(index).hexdigest() != expected[0]:
            raise BuildError(f"{base}/{name} doesn't match the SHA256 in its InRelease")
    else:
        say(f"note: gpgv or {KEYRING} is missing (apt-get install gpgv debian-archive-keyring):"
            f" the signature of {base}/{name} is not checked")
    return lzma.decompress(index).decode("utf-8", "replace")


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def newest_tarball(sources: str, major: str) -> Tarball:
    """The newest final release of `major` among the python3.X source packages."""
    candidates = []
    for stanza in parse_stanzas(sources):
        if stanza.get("Package") != f"python{major}":
            continue
        for name, (sha256, size) in checksum_lines(stanza.get("Checksums-Sha256", "")).items():
            match = re.fullmatch(rf"python{re.escape(major)}_({re.escape(major)}\.\d+)\.orig\.tar\.xz", name)
            if match:  # prereleases (3.14.0~rc1) don't match: only final releases
                url = f"{MIRROR}/{stanza['Directory']}/{name}"
                candidates.append(Tarball(match.group(1), url, sha256, size))
    if not candidates:
        raise BuildError(f"no python{major} orig tarball in {MIRROR}/dists/{SUITE}/main/source/Sources.xz")
    return max(candidates, key=lambda tarball: version_key(tarball.version))


def download(tarball: Tarball, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / tarball.url.rsplit("/", 1)[1]
    if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != tarball.sha256:
        say(f"downloading {tarball.url} ({tarball.size // 1_000_000} MB)")
        partial = path.with_suffix(".partial")
        try:
            urllib.request.urlretrieve(tarball.url, partial)
        except urllib.error.HTTPError as error:
            # Seen behind proxies that pass binary packages (.deb) and the
            # indexes but refuse source files: say so, not just "404".
            raise BuildError(
                f"{tarball.url}: HTTP {error.code}. The Sources index lists it, but this mirror or"
                f" proxy doesn't serve it: point DEBIAN_MIRROR at a Debian mirror that serves source"
                f" packages, or put the file (SHA256 {tarball.sha256}) in {directory}") from error
        digest = hashlib.sha256(partial.read_bytes()).hexdigest()
        if digest != tarball.sha256:
            partial.unlink()
            raise BuildError(f"{tarball.url} has SHA256 {digest}, but the Sources index says {tarball.sha256}")
        partial.replace(path)
    say(f"{path.name}: SHA256 matches the Sources index")
    return path


def ensure_build_dependencies() -> None:
    missing = [package for package in BUILD_DEPENDENCIES if not _installed(package)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise BuildError(f"these build dependencies are missing; install them as root:\n"
                         f"  apt-get install {' '.join(missing)}")
    say(f"installing build dependencies with apt-get: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise BuildError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


def _installed(package: str) -> bool:
    result = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", package],
                            capture_output=True, text=True)
    return result.stdout.strip() == "installed"


def run_logged(step: str, estimate: str, args: Sequence[str], log: Path, cwd: Path,
               env: Optional[dict[str, str]] = None) -> None:
    """Run a long step with its output in `log`, saying every minute how it goes."""
    say(f"{step} (about {estimate}; log: {log})")
    started = time.monotonic()
    with open(log, "a") as handle:
        handle.write(f"\n$ {' '.join(args)}\n")
        handle.flush()
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT)
        while True:
            try:
                process.wait(timeout=60)
                break
            except subprocess.TimeoutExpired:
                say(f"  ... {step}: {_elapsed(started)} so far; last line: {_last_line(log)}")
    if process.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise BuildError(f"{step} failed (exit status {process.returncode}); the end of {log}:\n{tail}")
    say(f"{step}: done in {_elapsed(started)}")


def _elapsed(started: float) -> str:
    seconds = int(time.monotonic() - started)
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _last_line(log: Path) -> str:
    lines = log.read_text(errors="replace").splitlines()
    return lines[-1][:120] if lines else ""


def check_modules(prefix: Path, version: str) -> None:
    modules = list(CHECKED_MODULES)
    modules += [m for m, since in MODULES_SINCE.items() if version_key(version)[:2] >= since]
    result = subprocess.run([str(prefix / "bin" / "python3"), "-I", "-c", f"import {', '.join(modules)}"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"the built Python lacks a stdlib module (a -dev package missing?):\n{result.stderr}")


def build(tarball: Path, version: str, prefix: Path) -> None:
    log = prefix.with_name(prefix.name + ".log")
    log.write_text("")
    with tempfile.TemporaryDirectory(prefix=".cpython-build-", dir=prefix.parent) as work:
        say(f"unpacking {tarball.name}")
        with tarfile.open(tarball) as archive:
            archive.extractall(work, filter="data")
        source = Path(work) / f"Python-{version}"
        # The rpath lets the installed interpreter find its libpython;
        # package_runtime.py replaces it with $ORIGIN/../lib.
        env = {**os.environ, "LDFLAGS": f"-Wl,-rpath,{prefix}/lib"}
        env = {k: v for k, v in env.items() if not k.startswith("PYTHON")}
        jobs = str(os.cpu_count() or 1)
        run_logged("configure", "1 minute", ["./configure", f"--prefix={prefix}", *CONFIGURE_OPTIONS],
                   log, source, env)
        run_logged(f"make -j{jobs}", "4 minutes on 2 cores", ["make", f"-j{jobs}"], log, source, env)
        run_logged("make install", "1 minute", ["make", "install"], log, source, env)
    check_modules(prefix, version)


def finished_builds(major: str) -> list[Path]:
    found = [p for p in CACHE.glob(f"cpython-{major}.*-{RECIPE}") if (p / ".complete").exists()]
    return sorted(found, key=lambda p: version_key(p.name.split("-")[1]))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--major", default="3.14", help="the CPython major version (default 3.14)")
    parser.add_argument("--refresh", action="store_true", help="look for a newer release than a finished build")
    options = parser.parse_args(argv)
    return make_once(f".cpython-{options.major}.lock", lambda: _build_once(options.major, options.refresh), say)


def make_once(lock_name: str, make: Callable[[], Path], report: Callable[[str], None]) -> int:
    """Run `make` under a lock in the machine cache (so concurrent callers
    make the prefix once) and print the prefix it returns: the scripts'
    shared ending. Its failures are reported as `error: ...`, status 1."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / lock_name, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report("another process is making it; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            prefix = make()
        except (BuildError, OSError, subprocess.SubprocessError, StopIteration) as error:
            report(f"error: {error}")
            return 1
    print(prefix)
    return 0


def _build_once(major: str, refresh: bool) -> Path:
    done = finished_builds(major)
    if done and not refresh:
        return done[-1]
    started = time.monotonic()
    say(f"looking for the newest CPython {major} in {MIRROR}/dists/{SUITE}/main/source/Sources.xz")
    tarball = newest_tarball(verified_sources_index(), major)
    prefix = CACHE / f"cpython-{tarball.version}-{RECIPE}"
    if (prefix / ".complete").exists():
        return prefix
    say(f"the newest is CPython {tarball.version}")
    source = download(tarball, CACHE / "downloads")
    ensure_build_dependencies()
    say(f"building CPython {tarball.version} into {prefix} (about 6 minutes on 2 cores, once per machine)")
    shutil.rmtree(prefix, ignore_errors=True)  # an interrupted build's leftovers
    prefix.mkdir()
    build(source, tarball.version, prefix)
    (prefix / ".complete").touch()
    say(f"CPython {tarball.version} built in {_elapsed(started)}")
    return prefix


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
