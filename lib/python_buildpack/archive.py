"""Streaming, checked extraction of `.tar.zst` archives.

The download is piped through `zstd -d` and unpacked as it arrives, while
its sha256 is computed. Members that would land outside the destination
(absolute names, `..`, links pointing out, device files) are refused.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import tarfile
import threading
from pathlib import Path
from typing import Iterable, Optional

from . import errors


class UnsafeArchive(Exception):
    """The archive is malformed or has a member that escapes the destination."""


class WriteFailed(Exception):
    """Writing the unpacked files failed (a full disk, say): not the archive's fault."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


# Write errors that say nothing about the archive: the file system's state.
_FILE_SYSTEM_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG)
# How long to wait, once unpacking has failed or been interrupted, for the
# thread feeding zstd: the download under it stops on its own (see download.py).
_FEEDER_GRACE = 2.0


def zstd_command() -> str:
    path = shutil.which("zstd")
    if not path:
        raise errors.zstd_missing()
    return path


def extract_zstd_tar(chunks: Iterable[bytes], dest: Path) -> str:
    """Unpack a zstd-compressed tar stream into `dest`; return its sha256."""
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WriteFailed(error) from None
    digest = hashlib.sha256()
    # --long=31: zstd refuses a frame whose window is over 128 MiB unless told
    # (zstd(1): "If windowLog is set to larger than 27, --long=windowLog or
    # --memory=windowSize needs to be passed to the decompressor").
    zstd = subprocess.Popen(
        [zstd_command(), "--decompress", "--stdout", "--quiet", "--long=31"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert zstd.stdin and zstd.stdout and zstd.stderr
    feed_error: list[BaseException] = []

    def feed() -> None:
        try:
            for chunk in chunks:
                digest.update(chunk)
                zstd.stdin.write(chunk)  # type: ignore[union-attr]
        except BrokenPipeError:
            pass
        except BaseException as error:  # re-raised in the calling thread
            feed_error.append(error)
        finally:
            try:
                zstd.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    extract_error: Optional[BaseException] = None
    finished = False
    try:
        _extract_stream(zstd.stdout, dest)
        # Drain anything after the end-of-archive marker, so feeding finishes.
        while zstd.stdout.read(1 << 16):
            pass
        finished = True
    except (tarfile.TarError, UnsafeArchive, EOFError, OSError) as error:
        extract_error = error
        # Stop zstd (SIGPIPE), but let it finish if it is failing on its own:
        # its message says more than tarfile's.
        zstd.stdout.close()
        try:
            zstd.wait(timeout=5)
        except subprocess.TimeoutExpired:
            zstd.kill()
    finally:
        if not finished:
            # Failed or interrupted (SIGTERM): don't wait for the download.
            zstd.kill()
        feeder.join(None if finished else _FEEDER_GRACE)
        stderr = zstd.stderr.read().decode("utf-8", errors="replace").strip()
        zstd.stdout.close()
        zstd.stderr.close()
        returncode = zstd.wait()
    if feed_error:
        raise feed_error[0]
    if isinstance(extract_error, UnsafeArchive):
        raise extract_error
    if isinstance(extract_error, OSError) and extract_error.errno in _FILE_SYSTEM_ERRORS:
        raise WriteFailed(extract_error)
    if returncode > 0:
        raise UnsafeArchive(f"isn't a valid zstd archive ({stderr or f'zstd exit status {returncode}'})")
    if extract_error is not None:
        raise UnsafeArchive(f"couldn't be unpacked ({extract_error})")
    return digest.hexdigest()


def _extract_stream(stream, dest: Path) -> None:
    root = os.path.realpath(dest)
    # The members are checked here, so they are unpacked as archived: without a
    # filter, Python 3.14 applies its "data" filter and 3.12-3.13 warn (PEP 706);
    # 3.10 releases before 3.10.12 have no filters at all.
    extra = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            name = _checked_name(member.name)
            if name is None:
                continue
            _check_member(member, name, root)
            member.name = name
            # As root, tarfile gives each file the archive's owner (TarFile.chown
            # when geteuid() == 0): the build's user keeps them instead.
            member.uid, member.gid = os.getuid(), os.getgid()
            member.uname = member.gname = ""
            archive.extract(member, root, numeric_owner=True, **extra)


def _checked_name(name: str) -> Optional[str]:
    """The member's path relative to the destination, or None for the root."""
    if name.startswith("/") or "\\" in name:
        raise UnsafeArchive(f"has a member with an absolute or Windows path: {name}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"has a member that would be written outside the install directory: {name}")
    return "/".join(parts) or None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _check_member(member: tarfile.TarInfo, name: str, root: str) -> None:
    target_dir = os.path.realpath(os.path.join(root, os.path.dirname(name)))
    if not _inside(target_dir, root):
        raise UnsafeArchive(f"has a member that would be written through a link outside the install directory: {name}")
    if member.isfile() or member.isdir():
        return
    if member.issym():
        if os.path.isabs(member.linkname):
            raise UnsafeArchive(f"has a link to an absolute path: {name} -> {member.linkname}")
        resolved = os.path.realpath(os.path.join(target_dir, member.linkname))
        if not _inside(resolved, root):
            raise UnsafeArchive(f"has a link pointing outside the install directory: {name} -> {member.linkname}")
        return
    if member.islnk():
        link = _checked_name(member.linkname)
        if link is None or not _inside(os.path.realpath(os.path.join(root, link)), root):
            raise UnsafeArchive(f"has a hard link pointing outside the install directory: {name}")
        member.linkname = link
        return
    raise UnsafeArchive(f"has a member that isn't a file, directory or link: {name}")
