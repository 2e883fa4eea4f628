"""Streaming, checked extraction of `.tar.zst` archives.

The download is piped through `zstd -d` and unpacked by GNU tar as it
arrives, while its sha256 is computed. tar unpacks several times faster
than Python's tarfile, but it is only ever given members this module has
checked: tarfile's parser reads each member's header from the decompressed
stream, and the member's bytes reach tar once its header is approved (a
file's data by splice(2), from pipe to pipe).
Members that would land outside the destination (absolute names, `..`,
links pointing out, device files) are refused.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
import threading
from pathlib import Path
from typing import IO, Iterable, Optional

from . import errors


class UnsafeArchive(Exception):
    """The archive is malformed or has a member that escapes the destination."""


class WriteFailed(Exception):
    """Writing the unpacked files failed (a full disk, say): not the archive's fault."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


# Write errors that say nothing about the archive: the file system's state,
# and how tar words them.
_FILE_SYSTEM_ERRORS = {
    errno.ENOSPC: "No space left on device",
    errno.EDQUOT: "Disk quota exceeded",
    errno.EROFS: "Read-only file system",
    errno.EIO: "Input/output error",
    errno.EFBIG: "File too large",
}
# How long to wait, once unpacking has failed or been interrupted, for the
# thread feeding zstd: the download under it stops on its own (see download.py).
_FEEDER_GRACE = 2.0
_READ_SIZE = 1 << 18
# The most the parser may read at once: a header, or a member's extended
# header (its long name or PAX records), a few hundred bytes in a runtime.
_HEADER_LIMIT = 1 << 20
# The most of a command's messages that is read.
_MESSAGES_LIMIT = 1 << 16


def _command(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise errors.unpack_command_missing(name)
    return path


def _tar_arguments(dest: Path) -> list[str]:
    return [
        _command("tar"), "--extract", "--file=-", f"--directory={dest}",
        # The build's user owns the files; their modes are the archive's
        # (umask aside), as a runtime built elsewhere needs.
        "--no-same-owner", "--preserve-permissions",
        # Without --absolute-names, GNU tar also refuses `..` in names and
        # creates a link whose target is absolute or has `..` only once
        # every file is written, so that nothing is written through one
        # ("Extracting Archives", GNU tar manual): the checks below come first.
        "--warning=no-unknown-keyword",
    ]


def extract_zstd_tar(chunks: Iterable[bytes], dest: Path) -> str:
    """Unpack a zstd-compressed tar stream into `dest` (a new directory);
    return the stream's sha256."""
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WriteFailed(error) from None
    digest = hashlib.sha256()
    # The commands' messages go to files, not pipes: a hostile archive can make
    # tar write more than a pipe holds, and tar would stop, waiting for a reader.
    with tempfile.TemporaryFile() as zstd_messages, tempfile.TemporaryFile() as tar_messages:
        # --long=31: zstd refuses a frame whose window is over 128 MiB unless told
        # (zstd(1): "If windowLog is set to larger than 27, --long=windowLog or
        # --memory=windowSize needs to be passed to the decompressor").
        zstd = subprocess.Popen([_command("zstd"), "--decompress", "--stdout", "--quiet", "--long=31"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=zstd_messages)
        try:
            tar = subprocess.Popen(_tar_arguments(dest), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=tar_messages)
        except BaseException:
            zstd.kill()
            zstd.wait()
            raise
        links, failure, feed_error = _run(chunks, digest, zstd, tar)
        zstd_status, tar_status = zstd.returncode, tar.returncode
        zstd_stderr, tar_stderr = _text(zstd_messages), _text(tar_messages)
    if feed_error:
        raise feed_error
    if isinstance(failure, UnsafeArchive):
        raise failure
    if zstd_status > 0:
        raise UnsafeArchive(f"isn't a valid zstd archive ({zstd_stderr or f'zstd exit status {zstd_status}'})")
    # A broken pipe: tar stopped on its own, and says why.
    if tar_status > 0 and (failure is None or isinstance(failure, BrokenPipeError)):
        raise _tar_failed(tar_stderr, tar_status)
    if failure is not None:
        raise UnsafeArchive(f"couldn't be unpacked ({failure})")
    _check_links(dest, links)
    return digest.hexdigest()


def _run(chunks: Iterable[bytes], digest, zstd: subprocess.Popen, tar: subprocess.Popen,
         ) -> tuple[list[str], Optional[BaseException], Optional[BaseException]]:
    """Feed the download to zstd (in a thread) and zstd's output, checked, to
    tar; return the links to check, what stopped the unpacking, and the
    download's error, once both commands have ended."""
    assert zstd.stdin and zstd.stdout and tar.stdin
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
            _close(zstd.stdin)  # type: ignore[arg-type]

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    links: list[str] = []
    failure: Optional[BaseException] = None
    finished = False
    try:
        gate = _Gate(zstd.stdout.fileno(), tar.stdin.fileno())
        links = _check_stream(gate)
        gate.pass_the_end()
        finished = True
    except (tarfile.TarError, UnsafeArchive, EOFError, OSError) as error:
        failure = error
        if not isinstance(error, UnsafeArchive):
            # zstd may be failing on its own: its message says more than
            # tarfile's. Closing its output stops it (SIGPIPE) if it isn't.
            zstd.stdout.close()
            try:
                zstd.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
    finally:
        _close(tar.stdin)
        if not finished:
            # Failed or interrupted (SIGTERM): stop both, don't wait for the download.
            tar.kill()
            zstd.kill()
        feeder.join(None if finished else _FEEDER_GRACE)
        zstd.stdout.close()
        zstd.wait()
        tar.wait()
    return links, failure, feed_error[0] if feed_error else None


def _text(messages: IO[bytes]) -> str:
    messages.seek(0)
    return messages.read(_MESSAGES_LIMIT).decode("utf-8", errors="replace").strip()


class _Gate:
    """The decompressed stream as a forward-only file for tarfile's parser
    (seekable mode, "r:"): the headers it reads are held until the member
    is approved, then passed on to tar; a file's data, which the parser
    skips by seeking, goes from zstd's pipe to tar's with splice(2), never
    through Python (most of the stream's bytes: a runtime unpacks in three
    quarters of the time it took when they all went through)."""

    def __init__(self, source: int, sink: int):
        self._source = source
        self._sink = sink
        self._position = 0  # the stream offset of the next byte from zstd
        self._held = bytearray()  # read by the parser, not yet passed on
        self._approved = 0  # tar may have the bytes before this offset
        self._splice = hasattr(os, "splice")

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        """The parser reads only headers (a file's data is seeked past): a
        header larger than any real one is refused, not held in memory."""
        if size is None or size < 0 or size > _HEADER_LIMIT:
            raise UnsafeArchive(f"has a member header of {size} bytes, more than the {_HEADER_LIMIT} "
                                "any real archive needs")
        data = bytearray()
        while len(data) < size:
            chunk = os.read(self._source, size - len(data))
            if not chunk:
                break
            data += chunk
        self._held += data
        self._position += len(data)
        self._pass_on()
        return bytes(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Skip to `offset`: a file's data, approved with its header."""
        if whence != os.SEEK_SET or offset < self._position or offset > self._approved or self._held:
            raise UnsafeArchive(f"has a member the checks can't follow (at byte {offset})")
        self._forward(offset - self._position)
        return self._position

    def approve(self, member: tarfile.TarInfo) -> None:
        """tar may have the member: its headers and, for a file, its data."""
        self._approved = member.offset_data + (_blocks(member.size) if member.isreg() else 0)
        self._pass_on()

    def pass_the_end(self) -> None:
        """After the end-of-archive marker: tar has the rest if it is zeros
        (the marker and padding). Anything else would reach tar unchecked:
        tarfile takes a broken header for the end, tar skips to the next."""
        rest = bytes(self._held)
        self._held = bytearray()
        while rest:
            if rest.strip(b"\0"):
                raise UnsafeArchive("has data after a broken header or its end-of-archive marker")
            _write_all(self._sink, rest)
            rest = os.read(self._source, _READ_SIZE)

    def _pass_on(self) -> None:
        count = min(len(self._held), self._approved - (self._position - len(self._held)))
        if count > 0:
            _write_all(self._sink, self._held[:count])
            del self._held[:count]

    def _forward(self, count: int) -> None:
        """Pass `count` bytes from zstd straight on to tar (all held bytes
        are approved by now: seek comes after approve)."""
        while count > 0:
            if self._splice:
                try:
                    moved = os.splice(self._source, self._sink, min(count, _READ_SIZE))
                except OSError as error:
                    if error.errno not in (errno.EINVAL, errno.ENOSYS):
                        raise
                    self._splice = False  # not on this kernel or file system: copy
                    continue
            else:
                data = os.read(self._source, min(count, _READ_SIZE))
                _write_all(self._sink, data)
                moved = len(data)
            if not moved:
                return  # the stream ended early: the parser's next read says so
            self._position += moved
            count -= moved


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _blocks(size: int) -> int:
    return (size + tarfile.BLOCKSIZE - 1) // tarfile.BLOCKSIZE * tarfile.BLOCKSIZE


def _check_stream(gate: _Gate) -> list[str]:
    """Check every member's header, approving it for tar; return the names of
    the symbolic links, to check once they exist."""
    links = []
    with tarfile.open(fileobj=gate, mode="r:") as archive:  # type: ignore[call-overload]
        while (member := archive.next()) is not None:
            archive.members.clear()  # kept for getmembers(), never used here: a long archive holds none
            name = _checked_name(member.name)
            if name is not None:
                _check_member(member, name)
                if member.issym():
                    links.append(name)
            gate.approve(member)
    return links


def _checked_name(name: str) -> Optional[str]:
    """The member's path relative to the destination, or None for the root."""
    if name.startswith("/") or "\\" in name:
        raise UnsafeArchive(f"has a member with an absolute or Windows path: {name}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"has a member that would be written outside the install directory: {name}")
    return "/".join(parts) or None


def _check_member(member: tarfile.TarInfo, name: str) -> None:
    """The checks that need only the header; links are checked again once
    unpacked (_check_links), when the links they pass through exist."""
    if (member.isfile() and not member.issparse()) or member.isdir():
        return
    if member.issym():
        if posixpath.isabs(member.linkname):
            raise UnsafeArchive(f"has a link to an absolute path: {name} -> {member.linkname}")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
        if target == ".." or target.startswith("../"):
            raise UnsafeArchive(f"has a link pointing outside the install directory: {name} -> {member.linkname}")
        return
    if member.islnk():
        if _checked_name(member.linkname) is None:
            raise UnsafeArchive(f"has a hard link pointing outside the install directory: {name}")
        return
    raise UnsafeArchive(f"has a member that isn't a file, directory or link: {name}")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _check_links(dest: Path, links: list[str]) -> None:
    """Every symbolic link, resolved through the others, stays inside."""
    root = os.path.realpath(dest)
    for name in links:
        path = os.path.join(root, name)
        if os.path.islink(path) and not _inside(os.path.realpath(path), root):
            raise UnsafeArchive(f"has a link pointing outside the install directory: {name} -> {os.readlink(path)}")


def _tar_failed(stderr: str, status: int) -> Exception:
    for code, words in _FILE_SYSTEM_ERRORS.items():
        if words in stderr:
            return WriteFailed(OSError(code, os.strerror(code)))
    first = next((line for line in stderr.splitlines() if line.strip()), f"tar exit status {status}")
    return UnsafeArchive(f"couldn't be unpacked ({first.removeprefix('tar: ')})")


def _close(stream: IO[bytes]) -> None:
    try:
        stream.close()
    except BrokenPipeError:
        pass
