"""Download and install the app's Python into BUILD_DIR/.heroku/python."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from . import archive, errors, output
from .download import DownloadError, NotFound, Timeouts, fetch, fetch_text
from .runtime_mirror import MANIFEST_NAME, Manifest, Mirror, archive_name, parse_manifest
from .stack import Stack


def fetch_manifest(mirror: Mirror, timeouts: Timeouts) -> Optional[Manifest]:
    """A custom mirror's SHA256SUMS, or None when it publishes none."""
    if mirror.is_default:
        return None
    url = mirror.url_for(MANIFEST_NAME)
    try:
        text = fetch_text(url, timeouts)
    except DownloadError as error:
        raise errors.runtime_download_failed(url, error.cause) from None
    if text is None:
        output.info(f"The runtime mirror has no {MANIFEST_NAME}: downloads can't be checksummed.")
        return None
    return parse_manifest(text, url)


def check_available(
    requested: str, version: str, origin: str, stack: Stack, mirror: Mirror, manifest: Optional[Manifest]
) -> None:
    """Fail early when the mirror's manifest doesn't list the version."""
    if manifest is None:
        return
    available = manifest.versions_for(stack)
    if version not in available:
        raise errors.python_version_not_on_mirror(requested, version, origin, mirror.base_url, available)


def install(
    python_dir: Path,
    requested: str,
    version: str,
    origin: str,
    stack: Stack,
    mirror: Mirror,
    manifest: Optional[Manifest],
    timeouts: Timeouts,
) -> None:
    """Install Python `version` into `python_dir`, all or nothing.

    The archive is unpacked next to `python_dir` and renamed into place only
    once it is complete and its checksum (when the mirror has one) matches.
    """
    name = archive_name(version, stack)
    url = mirror.url_for(name)
    expected = manifest.sha256_for(name) if manifest else None
    staging = python_dir.with_name(f".python-partial-{os.getpid()}")

    def unpack(chunks) -> str:
        shutil.rmtree(staging, ignore_errors=True)
        return archive.extract_zstd_tar(chunks, staging)

    try:
        try:
            actual = fetch(url, unpack, timeouts)
        except NotFound as error:
            available = manifest.versions_for(stack) if manifest else None
            output.info(f"The mirror answered: {error.cause}")
            raise errors.python_version_not_on_mirror(
                requested, version, origin, mirror.base_url, available
            ) from None
        except DownloadError as error:
            raise errors.runtime_download_failed(url, error.cause) from None
        except archive.UnsafeArchive as error:
            raise errors.runtime_archive_invalid(url, str(error)) from None
        if expected and actual != expected:
            raise errors.runtime_checksum_mismatch(url, expected, actual)
        interpreter = staging / "bin" / "python3"
        if not interpreter.exists():
            raise errors.runtime_archive_invalid(url, "has no bin/python3.")
        if not (staging / "bin" / "python").exists():
            (staging / "bin" / "python").symlink_to("python3")
        shutil.rmtree(python_dir, ignore_errors=True)
        staging.rename(python_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def python_works(python_home: Path, env: dict[str, str]) -> bool:
    """Whether the installed interpreter starts (used to vet a restored cache)."""
    try:
        result = subprocess.run(
            [str(python_home / "bin" / "python"), "-c", "import encodings, ssl"],
            env=env,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0
