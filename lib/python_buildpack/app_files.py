"""Reading the app's files (and config vars) whatever they turn out to be.

An app's source, its hooks and its config var directory may hold anything:
a named pipe or a device where a file should be (reading one blocks for
ever, or never ends), a symbolic link out of the app, a huge file, bytes in
another encoding. Every file the build reads whole goes through here.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, TypeVar

from . import errors

# The most the build reads of one of the app's files: dependency files and
# lockfiles are kilobytes; nothing a package manager reads is this large.
MAX_BYTES = 50 * 1024 * 1024

# Byte order marks pip honours in requirements files (pip/_internal/utils/
# encoding.py, auto_decode), longest first (UTF-32's little-endian mark starts
# with UTF-16's).
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# A PEP 263 encoding line, which pip honours in the first two lines.
_CODING_LINE = re.compile(rb"^#.*coding[:=]\s*([-\w.]+)")


T = TypeVar("T")
# parse_once's results, by file and content.
_PARSED: dict[tuple, object] = {}


class NotUsable(Exception):
    """The path isn't a regular file, or is too large; str() completes "... is"."""


@dataclass(frozen=True)
class BadByte:
    offset: int  # from 0
    line: int  # from 1


def read_bytes(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The file's content: NotUsable if it isn't a regular file (after
    following links) or is larger than `limit`; OSError if it can't be read."""
    status = os.stat(path)
    if not stat.S_ISREG(status.st_mode):
        raise NotUsable(f"{kind(status.st_mode)}, not a regular file")
    # O_NONBLOCK: had it become a named pipe since, opening it won't block
    # (fifo(7): opening a FIFO for reading blocks until a writer opens it).
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotUsable(f"{kind(mode)}, not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise NotUsable(f"larger than {_megabytes(limit)}")
    return data


def read_app_file(path: Path, name: str, limit: int = MAX_BYTES) -> bytes:
    """read_bytes for a file the build needs: an error naming it (as `name`)
    if it can't be read or isn't a regular file."""
    try:
        return read_bytes(path, limit)
    except NotUsable as problem:
        raise errors.file_unreadable(name, f"it is {problem}") from None
    except OSError as error:
        raise errors.file_unreadable(name, error.strerror or str(error)) from None


def kind(mode: int) -> str:
    """What a file of this mode is, for messages."""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISREG, "a file"))
    return next((name for test, name in kinds if test(mode)), "a special file")


def first_bad_utf8(data: bytes) -> Optional[BadByte]:
    """Where `data` stops being UTF-8, or None."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return BadByte(error.start, data.count(b"\n", 0, error.start) + 1)
    return None


def first_bad_byte_as_pip_reads(data: bytes) -> Optional[BadByte]:
    """Where a requirements file stops being text as pip decodes it (with
    a UTF-8 locale): a byte order mark or an encoding line names the
    encoding, else it is UTF-8. None if it decodes."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _first_bad(data, encoding, skip=len(bom))
    for line in data.split(b"\n", 2)[:2]:
        declared = _CODING_LINE.match(line)
        if declared:
            try:
                return _first_bad(data, codecs.lookup(declared.group(1).decode("ascii")).name)
            except LookupError:
                return None  # pip's own error names the unknown encoding
    return first_bad_utf8(data)


def _first_bad(data: bytes, encoding: str, skip: int = 0) -> Optional[BadByte]:
    try:
        data[skip:].decode(encoding)
    except UnicodeDecodeError as error:
        offset = skip + error.start
        return BadByte(offset, data.count(b"\n", 0, offset) + 1)
    return None


def decoded(data: bytes) -> str:
    """Text of a file first_bad_byte_as_pip_reads accepted, as pip reads it."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    return data.decode("utf-8", errors="replace")


def _megabytes(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"


def read_text(path: Path) -> str:
    """One of the app's dependency files, as UTF-8 text, which the tools
    require: an error naming the file if it can't be read or isn't text."""
    data = read_app_file(path, path.name)
    bad = first_bad_utf8(data)
    if bad is not None:
        raise errors.file_not_utf8(path.name, bad.offset, bad.line)
    return data.decode("utf-8")


def fingerprint(*paths: Path) -> str:
    """sha256 over the named files' names and contents (missing files count)."""
    digest = hashlib.sha256()
    for path in paths:
        try:
            content = read_bytes(path)
        except (OSError, NotUsable):
            content = b"\0missing\0"
        digest.update(f"{path.name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def hash_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def list_directory(directory: Path, limit: int = 40) -> str:
    """The directory's entries, one a line, indented; directories end in '/'
    (for messages that show what the app has instead of what was expected)."""
    entries = sorted(
        f"{entry.name}/" if entry.is_dir() and not entry.is_symlink() else entry.name
        for entry in directory.iterdir()
    )
    shown = entries[:limit] + ([f"... and {len(entries) - limit} more"] if len(entries) > limit else [])
    return "\n".join(f"    {name}" for name in shown) if shown else "    (nothing: the directory is empty)"


def present(path: Path) -> bool:
    """Whether anything is at `path`, a broken link included."""
    return path.exists() or path.is_symlink()


def parse_once(path: Path, parse: Callable[[Path], T]) -> T:
    """`parse(path)`, parsed once per build however many steps ask (a
    lockfile names the Python version, the cache key and what to reinstall),
    and again if the file changed since (a hook may rewrite it). Keyed by
    content, not mtime: Linux stamps mtimes from a coarse clock, so a rewrite
    moments later may keep the same one."""
    try:
        content = hashlib.sha256(read_bytes(path)).hexdigest()
    except (OSError, NotUsable):
        return parse(path)  # its own error, naming the file
    key = (str(path), parse.__module__, parse.__qualname__, content)
    if key not in _PARSED:
        _PARSED[key] = parse(path)
    return _PARSED[key]  # type: ignore[return-value]


def read_small_text(path: Path, limit: int) -> Optional[str]:
    """The UTF-8 text of a small regular file the buildpack wrote itself (in
    the cache, the report), or None for anything else in its place: never
    follows a link at `path`, nor blocks on a FIFO, nor reads a huge file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        chunks = []
        while chunk := os.read(fd, limit + 1):
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    finally:
        os.close(fd)
