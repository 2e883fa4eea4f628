"""uv straight from the package index, without running pip.

uv's wheel holds a static binary, so the build fetches it itself, from the
index's simple API (PEP 503, the only one the proxies in front of private
indexes are sure to serve), checks it against the sha256 the index gives,
and unpacks it as `pip install --target` would, without pip's start-up and
resolution. Anything unexpected (no such wheel, no hash, an index that needs
pip's keyring) just means uv is installed with pip, as before.

On a first build the same child then warms uv's download cache (WarmUp):
once uv is unpacked it runs `uv pip install --target` of what the build
will install next (Pipenv, Poetry or PDM), for the runtime's version and
platform, into a throwaway directory. The runtime is still unpacking
meanwhile; the tool's install then takes the wheels from the cache instead
of the index.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import urljoin

from . import file_lock
from .download import DownloadError, Timeouts, fetch, fetch_text

DEFAULT_INDEX = "https://pypi.org/simple"
# The wheel's platform tag for each Debian architecture.
MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}
# uv's simple page lists every file of every release: a few MB.
PAGE_LIMIT = 32 * 1024 * 1024
WHEEL_LIMIT = 256 * 1024 * 1024
# The manylinux_2_N platforms uv's --python-platform takes (uv 0.13): the
# warm-up asks for the newest one the build image's glibc can run.
UV_MANYLINUX = (17, 28, *range(31, 41))
# The file in the child's staging directory that asks it to warm the cache,
# and the line on its stdin that says it is there.
WARM_UP_FILE, WARM_UP_LINE = "warm-up.json", b"warm-up\n"
# The file the child makes once uv is unpacked, before any warm-up.
READY_FILE = "uv-ready"
# How long the build waits, once uv is there, for a warm-up still running
# (a tool's downloads take a second or two). It is then stopped: the build's
# own install downloads what it hadn't, and a request that stalls costs the
# build this, not uv's 30-second read timeout.
WARM_UP_WAIT = 5.0
# What a uv that was stopped leaves in its cache's root: its work in
# progress, renamed into place only once complete.
UV_TEMPORARY = ".tmp*"
# How long the build waits for a stopped uv to let go of its cache.
SWEEP_WAIT = 2.0


class Unavailable(Exception):
    """Why uv couldn't be fetched directly (the build installs it with pip)."""


@dataclass
class Download:
    """A fetched and unpacked wheel (`unpacked()`), or why there is none (`problem`)."""

    staging: Optional[Path] = None
    problem: str = ""

    def unpacked(self) -> Optional[Path]:
        target = None if self.staging is None else self.staging / "target"
        return target if target is not None and (target / "bin" / "uv").is_file() else None

    def discard(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)


@dataclass
class WarmUp:
    """What the child downloads into uv's cache once uv is unpacked: each of
    `installs` is the arguments of one `uv pip install` (one that fails to
    resolve costs the others nothing). `env` holds uv's settings and the app's
    index settings, credentials included: it goes by a file only the build
    can read, never on a command line."""

    installs: list[list[str]]
    python_version: str  # the runtime's X.Y.Z, which the markers see
    env: dict[str, str]
    cwd: str  # where requirement files (and their -r includes) are read
    limit: float  # seconds; then the build goes on without the rest


@dataclass
class Fetching:
    """uv being fetched and unpacked by a child process (this module, on the
    buildpack's Python), so that the build can start it while the runtime
    downloads. A process, not a thread: a build interrupted while a thread
    was inside OpenSSL crashed the interpreter's shutdown. The child is
    killed when the build exits (atexit) and, if the build is killed, by the
    kernel (PR_SET_PDEATHSIG)."""

    process: subprocess.Popen
    staging: Path
    wait: float
    warming_up: bool = False

    @classmethod
    def start(cls, version: str, arch: str, index: Optional[str], timeouts: Timeouts) -> "Fetching":
        staging = Path(tempfile.mkdtemp(prefix="python-buildpack-uv-"))
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", _CHILD, str(Path(__file__).resolve().parents[1]), str(os.getpid()),
             version, arch, index or DEFAULT_INDEX, json.dumps(asdict(timeouts)), str(staging)],
            # stdin: the warm-up request (warm_up), or its end when there is none.
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        fetching = cls(process, staging, wait=timeouts.total + 15)
        atexit.register(fetching.cancel)
        return fetching

    def warm_up(self, request: WarmUp) -> None:
        """Ask the child to warm uv's cache after unpacking uv; result() then
        waits for that too (at most WARM_UP_WAIT more), so the build's own
        installs find the cache warm and don't race the child for the same files."""
        if self.process.stdin is None or self.process.stdin.closed or not request.installs:
            return
        spec = self.staging / WARM_UP_FILE
        try:
            descriptor = os.open(spec, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with open(descriptor, "w", encoding="utf-8") as handle:
                json.dump(asdict(request), handle)
            self.process.stdin.write(WARM_UP_LINE)
            self.process.stdin.flush()  # left open: communicate() closes it
        except OSError:  # the child is gone (uv couldn't be fetched): no warm-up
            spec.unlink(missing_ok=True)
            return
        self.warming_up = True

    def result(self) -> Download:
        """Wait for the child; what it fetched, or why it couldn't."""
        give_up = time.monotonic() + self.wait
        if self.warming_up:
            self._end_warm_up(give_up)
        try:
            # communicate() closes stdin first: a child still waiting for a
            # warm-up request goes on without one.
            out, _ = self.process.communicate(timeout=max(give_up - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            self.cancel()
            return Download(problem="it took too long")
        if self.process.returncode == 0 or (self.warming_up and self._uv_ready()):
            return Download(self.staging)
        lines = [line for line in out.decode("utf-8", errors="replace").splitlines() if line.strip()]
        shutil.rmtree(self.staging, ignore_errors=True)
        return Download(problem=lines[-1] if lines else f"exit status {self.process.returncode}")

    def _end_warm_up(self, give_up: float) -> None:
        """Wait for uv (until `give_up`, as without a warm-up), then for the
        warm-up for at most WARM_UP_WAIT; stop the child if it is still
        warming (its uv dies with it: PR_SET_PDEATHSIG)."""
        while not self._uv_ready() and self.process.poll() is None and time.monotonic() < give_up:
            time.sleep(0.02)
        if not self._uv_ready():
            return  # the child failed, or takes too long: result() says which
        try:
            self.process.wait(timeout=WARM_UP_WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _uv_ready(self) -> bool:
        return (self.staging / READY_FILE).exists()

    def cancel(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:  # what the child will never read
            pass
        shutil.rmtree(self.staging, ignore_errors=True)


# The child: python3 -I -c _CHILD LIB_DIR PARENT_PID VERSION ARCH INDEX TIMEOUTS STAGING
_CHILD = ("import sys; sys.path.insert(0, sys.argv[1]); "
          "from python_buildpack import uv_download; sys.exit(uv_download.child(sys.argv[2:]))")


def remove_stopped_uv_leftovers(cache_dir: Path, wait: float = SWEEP_WAIT) -> None:
    """Remove the work in progress of a uv that was stopped (a warm-up cut
    short, a build killed) from its cache, or it stays there, saved with the
    cache, build after build. Only while no uv uses the cache: a running uv
    holds a shared lock on the cache's .lock, which `uv cache prune` takes
    exclusively, as this does (waiting `wait` seconds at most for a stopped
    one to go)."""
    leftovers = list(cache_dir.glob(UV_TEMPORARY))
    if not leftovers:
        return
    try:
        descriptor = os.open(cache_dir / ".lock", os.O_RDWR)
    except OSError:
        return
    try:
        # Busy: a uv still uses it, and the next build tries again. A file
        # system without locks: nothing says no uv is using it.
        if file_lock.lock_exclusively(descriptor, wait, 0.02) is not file_lock.Outcome.LOCKED:
            return
        for leftover in leftovers:
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
    finally:
        os.close(descriptor)  # and with it the lock


def fetch_uv(version: str, arch: str, index: Optional[str], timeouts: Timeouts) -> Download:
    """Fetch uv `version`'s wheel and unpack it, now."""
    return Fetching.start(version, arch, index, timeouts).result()


def child(args: list[str]) -> int:
    """Fetch and unpack uv into STAGING/target; print why not, and exit 1.
    Then warm uv's cache if the build asks to (it exits 0 whatever that gives)."""
    import zipfile  # here and in unpack: a build that has uv cached never loads it

    parent, version, arch, index, timeouts, staging = args
    _die_with(int(parent))
    target = Path(staging) / "target"
    try:
        wheel = fetch_wheel(version, arch, index, Timeouts(**json.loads(timeouts)), Path(staging))
        unpack(wheel, target)
        wheel.unlink()
    except DownloadError as error:
        print(error.cause)
        return 1
    except (Unavailable, OSError, zipfile.BadZipFile) as error:
        print(error)
        return 1
    try:
        (Path(staging) / READY_FILE).touch()
    except OSError:
        pass  # the build then waits for this process to end, as without a warm-up
    if sys.stdin.buffer.readline() == WARM_UP_LINE:
        spec = Path(staging) / WARM_UP_FILE
        try:
            request = WarmUp(**json.loads(spec.read_text(encoding="utf-8")))
            spec.unlink()
        except (OSError, ValueError, TypeError):
            return 0
        warm_cache(target / "bin" / "uv", request, arch, Path(staging) / "warm-up-target")
    return 0


def warm_cache(uv: Path, request: WarmUp, arch: str, target: Path) -> None:
    """Run the requested installs into `target`, a directory thrown away
    after, for the runtime's Python version and platform: what lands in uv's
    cache is what the build's own installs will look for. Whatever fails here
    fails again, with its message, in the build's own install."""
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):  # not glibc
        glibc = ""
    platform = python_platform(arch, glibc)
    if platform is None:
        return
    deadline = time.monotonic() + request.limit
    try:
        for install in request.installs:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                subprocess.run(
                    [str(uv), "pip", "install", "--no-config", "--target", str(target), "--python", sys.executable,
                     "--python-version", request.python_version, "--python-platform", platform,
                     # Wheels only: a build would run on this image's Python, not the runtime.
                     "--no-build", "--quiet", "--no-progress", *install],
                    env=request.env, cwd=request.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, timeout=left, preexec_fn=_die_with_parent, check=False,
                )
            except (OSError, subprocess.TimeoutExpired):
                return
    finally:
        shutil.rmtree(target, ignore_errors=True)


def python_platform(arch: str, glibc: str) -> Optional[str]:
    """uv's --python-platform for this image ("glibc 2.39" on amd64:
    x86_64-manylinux_2_39), or None where uv has none (another libc)."""
    machine = MACHINES.get(arch)
    found = re.fullmatch(r"glibc 2\.(\d+)", glibc.strip())
    if machine is None or found is None:
        return None
    usable = [each for each in UV_MANYLINUX if each <= int(found.group(1))]
    return f"{machine}-manylinux_2_{usable[-1]}" if usable else None


def _die_with(parent: int) -> None:
    """Be killed when the build is (Linux's PR_SET_PDEATHSIG, prctl(2))."""
    _die_with_parent()
    if os.getppid() != parent:  # it died before the line above
        sys.exit(1)


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def wheel_link(page: str, page_url: str, version: str, arch: str) -> tuple[str, str]:
    """The URL and sha256 of uv's manylinux wheel for `arch` on a simple page."""
    machine = MACHINES.get(arch)
    if machine is None:
        raise Unavailable(f"no uv wheel is known for {arch}")
    name = re.compile(rf"uv-{re.escape(version)}-py3-none-manylinux[^/#]*_{machine}\.whl")
    for match in re.finditer(r"""<a\s[^>]*href\s*=\s*["']([^"']+)["']""", page, re.IGNORECASE):
        href = html.unescape(match.group(1))
        url, _, fragment = href.partition("#")
        if name.fullmatch(url.rsplit("/", 1)[-1]):
            digest = re.fullmatch(r"sha256=([0-9a-f]{64})", fragment)
            if digest is None:
                raise Unavailable("the index gives no sha256 for it")
            return urljoin(page_url, url), digest.group(1)
    raise Unavailable(f"the index has no uv {version} wheel for {machine}")


def fetch_wheel(version: str, arch: str, index: str, timeouts: Timeouts, directory: Path) -> Path:
    page_url = f"{index.rstrip('/')}/uv/"
    page = fetch_text(page_url, timeouts, limit=PAGE_LIMIT)
    if page is None:
        raise Unavailable("the index has no page for uv")
    url, expected = wheel_link(page, page_url, version, arch)
    wheel = directory / url.rsplit("/", 1)[-1]

    def save(chunks: Iterator[bytes]) -> str:
        digest, size = hashlib.sha256(), 0
        with open(wheel, "wb") as handle:
            for chunk in chunks:
                size += len(chunk)
                if size > WHEEL_LIMIT:
                    raise Unavailable("the wheel is larger than any uv wheel")
                digest.update(chunk)
                handle.write(chunk)
        return digest.hexdigest()

    if fetch(url, save, timeouts) != expected:
        raise Unavailable("the wheel doesn't match the sha256 the index gives")
    return wheel


def unpack(wheel: Path, target: Path) -> None:
    """The wheel as `pip install --target` lays it out: its files at the
    top, its scripts (the uv binaries) in bin/."""
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            parts = Path(member.filename).parts
            if member.filename.startswith("/") or ".." in parts or member.is_dir():
                continue
            data_dir = parts[0].endswith(".data")
            if data_dir and len(parts) > 2 and parts[1] == "scripts":
                destination = target / "bin" / Path(*parts[2:])
            elif data_dir:
                continue
            else:
                destination = target / Path(*parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(destination, "wb") as sink:
                shutil.copyfileobj(source, sink)
            if data_dir:
                os.chmod(destination, 0o755)
    if not (target / "bin" / "uv").is_file():
        raise Unavailable("the wheel has no uv binary")
