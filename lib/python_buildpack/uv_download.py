"""uv straight from the package index, without running pip.

uv's wheel holds a static binary, so the build fetches it itself, from the
index's simple API (PEP 503, the only one the proxies in front of private
indexes are sure to serve), checks it against the sha256 the index gives,
and unpacks it as `pip install --target` would, without pip's start-up and
resolution. Anything unexpected (no such wheel, no hash, an index that needs
pip's keyring) just means uv is installed with pip, as before.
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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import urljoin

from .download import DownloadError, Timeouts, fetch, fetch_text

DEFAULT_INDEX = "https://pypi.org/simple"
# The wheel's platform tag for each Debian architecture.
MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}
# uv's simple page lists every file of every release: a few MB.
PAGE_LIMIT = 32 * 1024 * 1024
WHEEL_LIMIT = 256 * 1024 * 1024


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

    @classmethod
    def start(cls, version: str, arch: str, index: Optional[str], timeouts: Timeouts) -> "Fetching":
        staging = Path(tempfile.mkdtemp(prefix="python-buildpack-uv-"))
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", _CHILD, str(Path(__file__).resolve().parents[1]), str(os.getpid()),
             version, arch, index or DEFAULT_INDEX, json.dumps(asdict(timeouts)), str(staging)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        fetching = cls(process, staging, wait=timeouts.total + 15)
        atexit.register(fetching.cancel)
        return fetching

    def result(self) -> Download:
        """Wait for the child; what it fetched, or why it couldn't."""
        try:
            out, _ = self.process.communicate(timeout=self.wait)
        except subprocess.TimeoutExpired:
            self.cancel()
            return Download(problem="it took too long")
        if self.process.returncode == 0:
            return Download(self.staging)
        lines = [line for line in out.decode("utf-8", errors="replace").splitlines() if line.strip()]
        shutil.rmtree(self.staging, ignore_errors=True)
        return Download(problem=lines[-1] if lines else f"exit status {self.process.returncode}")

    def cancel(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.staging, ignore_errors=True)


# The child: python3 -I -c _CHILD LIB_DIR PARENT_PID VERSION ARCH INDEX TIMEOUTS STAGING
_CHILD = ("import sys; sys.path.insert(0, sys.argv[1]); "
          "from python_buildpack import uv_download; sys.exit(uv_download.child(sys.argv[2:]))")


def fetch_uv(version: str, arch: str, index: Optional[str], timeouts: Timeouts) -> Download:
    """Fetch uv `version`'s wheel and unpack it, now."""
    return Fetching.start(version, arch, index, timeouts).result()


def child(args: list[str]) -> int:
    """Fetch and unpack uv into STAGING/target; print why not, and exit 1."""
    import zipfile  # here and in unpack: a build that has uv cached never loads it

    parent, version, arch, index, timeouts, staging = args
    _die_with(int(parent))
    try:
        wheel = fetch_wheel(version, arch, index, Timeouts(**json.loads(timeouts)), Path(staging))
        unpack(wheel, Path(staging) / "target")
        wheel.unlink()
    except DownloadError as error:
        print(error.cause)
        return 1
    except (Unavailable, OSError, zipfile.BadZipFile) as error:
        print(error)
        return 1
    return 0


def _die_with(parent: int) -> None:
    """Be killed when the build is (Linux's PR_SET_PDEATHSIG, prctl(2))."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before the line above
        sys.exit(1)


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
