"""Download and install the app's Python into BUILD_DIR/.heroku/python."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional
from urllib.parse import urlsplit

from . import errors, output
from .download import (
    AuthenticationFailed, DownloadError, NotFound, Timeouts, TooLarge, fetch, fetch_text, looks_like_html,
)
from .runtime_mirror import MANIFEST_NAME, Manifest, Mirror, archive_name, parse_manifest
from .python_version import RequestedVersion
from .stack import Stack

# A manifest lists a few archives, a line each: anything much larger isn't one.
MANIFEST_LIMIT = 1024 * 1024
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


@dataclass(frozen=True)
class PythonChoice:
    """The Python version to install, and where it comes from (python_choice.py)."""

    requested: RequestedVersion
    version: str
    mirror: Mirror
    # The mirror's checksums; None when it publishes none, or when the
    # mirror was unreachable and the cached install serves the build.
    manifest: Optional[Manifest]


def fetch_manifest(mirror: Mirror, timeouts: Timeouts) -> Optional[Manifest]:
    """A custom mirror's SHA256SUMS, or None when it publishes none."""
    if mirror.is_default:
        return None
    check_local_mirror(mirror)
    url = mirror.url_for(MANIFEST_NAME)
    try:
        text = fetch_text(url, timeouts, limit=MANIFEST_LIMIT)
    except DownloadError as error:
        raise _download_failed(url, error) from None
    if text is None:
        output.info(f"The runtime mirror has no {MANIFEST_NAME}: downloads can't be checksummed.")
        return None
    if looks_like_html(text[:4096].encode("utf-8", errors="replace")):
        raise errors.runtime_mirror_served_html(url, f"the {MANIFEST_NAME} manifest")
    return parse_manifest(text, url)


def check_local_mirror(mirror: Mirror) -> None:
    """A file:// mirror must be a directory the build can read: otherwise
    every file in it would be "not found", and the build would say the
    Python version isn't available, or retry a local file as if the network
    had failed."""
    directory = mirror.local_directory
    if directory is None:
        return
    try:
        is_dir = directory.is_dir()
        exists = is_dir or directory.exists() or directory.is_symlink()
    except OSError:
        is_dir = exists = False
    if not exists:
        raise errors.runtime_base_url_not_a_directory(mirror.base_url, "doesn't exist (or can't be reached)")
    if not is_dir:
        raise errors.runtime_base_url_not_a_directory(mirror.base_url, "is a file, not a directory")
    if not os.access(directory, os.R_OK | os.X_OK):
        raise errors.runtime_base_url_not_a_directory(mirror.base_url, "is a directory the build's user can't read")


def _download_failed(url: str, error: DownloadError) -> errors.BuildError:
    if isinstance(error, AuthenticationFailed):
        return errors.runtime_mirror_authentication_failed(url, error.code, "@" in urlsplit(url).netloc)
    if isinstance(error, TooLarge):
        return errors.runtime_manifest_too_large(url, error.limit)
    return errors.runtime_download_failed(url, error.cause, temporary=error.transient)


def check_available(
    requested: RequestedVersion, version: str, stack: Stack, mirror: Mirror, manifest: Optional[Manifest]
) -> None:
    """Fail early when the mirror's manifest doesn't list the version."""
    if manifest is None:
        return
    available = manifest.versions_for(stack)
    if version not in available:
        raise errors.python_version_not_on_mirror(
            requested.text, version, requested.origin, mirror.base_url, available)


def install(python_dir: Path, python: PythonChoice, stack: Stack, timeouts: Timeouts) -> None:
    """Install the chosen Python into `python_dir`, all or nothing.

    The archive is unpacked next to `python_dir` and renamed into place only
    once it is complete and its checksum (when the mirror has one) matches.
    """
    # Imported here: a build with Python cached never loads tarfile.
    from . import archive

    version, mirror, manifest = python.version, python.mirror, python.manifest
    name = archive_name(version, stack)
    url = mirror.url_for(name)
    expected = manifest.sha256_for(name) if manifest else None
    staging = python_dir.with_name(f".python-partial-{os.getpid()}")
    head = bytearray()

    def unpack(chunks: Iterable[bytes]) -> str:
        shutil.rmtree(staging, ignore_errors=True)
        head.clear()
        return archive.extract_zstd_tar(_keeping_head(chunks, head), staging)

    # The finally also runs on SIGTERM (a KeyboardInterrupt): an interrupted
    # build leaves no partial install behind.
    try:
        try:
            actual = fetch(url, unpack, timeouts)
        except NotFound as error:
            available = manifest.versions_for(stack) if manifest else None
            output.info(f"The mirror answered: {error.cause}")
            raise errors.python_version_not_on_mirror(
                python.requested.text, version, python.requested.origin, mirror.base_url, available
            ) from None
        except DownloadError as error:
            raise _download_failed(url, error) from None
        except archive.UnsafeArchive as error:
            if looks_like_html(bytes(head)):
                raise errors.runtime_mirror_served_html(url, "the Python runtime archive") from None
            raise errors.runtime_archive_invalid(url, str(error)) from None
        except archive.WriteFailed as error:
            raise _write_failed(python_dir.parent, error.error) from None
        if expected and actual != expected:
            raise errors.runtime_checksum_mismatch(url, expected, actual)
        interpreter = staging / "bin" / "python3"
        if not interpreter.exists():
            raise errors.runtime_archive_invalid(url, "has no bin/python3.")
        try:
            if not (staging / "bin" / "python").exists():
                (staging / "bin" / "python").symlink_to("python3")
            shutil.rmtree(python_dir, ignore_errors=True)
            staging.rename(python_dir)
        except OSError as error:
            raise _write_failed(python_dir.parent, error) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _keeping_head(chunks: Iterable[bytes], head: bytearray, size: int = 4096) -> Iterator[bytes]:
    """`chunks`, keeping their first `size` bytes in `head`: when the archive
    doesn't unpack, they tell a web page from a corrupt archive."""
    for chunk in chunks:
        if len(head) < size:
            head += chunk[: size - len(head)]
        yield chunk


def _write_failed(directory: Path, error: OSError) -> errors.BuildError:
    if error.errno in _NO_SPACE:
        return errors.runtime_disk_full(str(directory), _size_of(directory))
    return errors.runtime_unpack_failed(str(directory), error.strerror or str(error))


def _size_of(directory: Path) -> str:
    try:
        total = shutil.disk_usage(directory).total
    except OSError:
        return ""
    return f"{total / 2**20:,.0f} MB in all"


def python_works(python_home: Path, env: dict[str, str]) -> bool:
    """Whether the installed interpreter starts (used to vet a restored cache)."""
    try:
        result = subprocess.run(
            # -S: the standard library is what is vetted; the .pth files in
            # site-packages are the app's, and may take a while.
            [str(python_home / "bin" / "python"), "-S", "-c", "import encodings, ssl"],
            env=env,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0
