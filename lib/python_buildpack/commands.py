"""Running the build's commands with their output in the build log."""

from __future__ import annotations

import codecs
import errno
import io
import os
import queue
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping, Optional, Sequence

from . import errors, output

# How long the build keeps reading a command's output once the command has
# exited. What it wrote is already in the pipe and is read in moments; a
# background process it started may hold the pipe open for ever, and mustn't
# hold up the build.
DRAIN_SECONDS = 2.0
# How often the build checks whether the command has exited while it is quiet.
_POLL_SECONDS = 0.1
# Linux's limit on one "NAME=value" string passed to a program (MAX_ARG_STRLEN):
# past it, or past the total, execve(2) fails with E2BIG and the program never starts.
ENV_ENTRY_LIMIT = 32 * 4096


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    output: str
    # Why the command couldn't be started at all (the OS's words), if it wasn't.
    start_error: Optional[str] = None
    start_errno: Optional[int] = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def mentions(self, *phrases: str) -> bool:
        """Whether the output holds any of the phrases, however it was wrapped."""
        text = " ".join(self.output.split())
        return any(phrase in text for phrase in phrases)


def run_streamed(
    args: Sequence[str],
    env: Mapping[str, str],
    cwd: Optional[Path] = None,
    quiet: bool = False,
    line_filter: Optional[Callable[[str], Optional[str]]] = None,
) -> CommandResult:
    """Run a command, showing its merged stdout and stderr indented.

    With `quiet`, the output is only shown if the command fails.
    `line_filter` may rewrite a line or drop it (return None).
    """
    try:
        process = subprocess.Popen(
            list(args),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    except OSError as error:
        if error.errno == errno.E2BIG:
            raise errors.environment_too_large(_shown_program(args[0], cwd), oversized_variables(env)) from None
        message = f"{args[0]}: {error.strerror or error}"
        output.indented_line(message)
        return CommandResult(127, message, error.strerror or str(error), error.errno)
    captured: list[str] = []
    assert process.stdout is not None
    for line in _lines_until_exit(process, process.stdout):
        captured.append(line)
        shown = line_filter(line) if line_filter else line
        if shown is not None and not quiet:
            output.indented_line(shown)
    returncode = process.wait()
    if quiet and returncode != 0:
        for line in captured:
            output.indented_line(line)
    return CommandResult(returncode, "".join(captured))


def _lines_until_exit(process: subprocess.Popen, stream: io.IOBase) -> Iterator[str]:
    """The command's output, line by line, until the pipe closes or, once the
    command has exited, DRAIN_SECONDS have passed."""
    chunks = _read_in_background(stream)
    decoder = io.IncrementalNewlineDecoder(codecs.getincrementaldecoder("utf-8")(errors="replace"), translate=True)
    pending = ""
    deadline: Optional[float] = None
    while True:
        if deadline is None and process.poll() is not None:
            deadline = time.monotonic() + DRAIN_SECONDS
        wait = _POLL_SECONDS if deadline is None else deadline - time.monotonic()
        if wait <= 0:
            break
        try:
            chunk = chunks.get(timeout=wait)
        except queue.Empty:
            continue
        if chunk is None:
            break
        pending += decoder.decode(chunk)
        *lines, pending = pending.split("\n")
        yield from (f"{line}\n" for line in lines)
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def _read_in_background(stream: io.IOBase) -> "queue.Queue[Optional[bytes]]":
    """A queue of what a thread reads from `stream`, then None at its end.

    The thread reads a duplicate of the pipe's descriptor with os.read: if a
    background process keeps the pipe open, the thread stays blocked after
    the build stops listening, and must hold no lock of an object the
    interpreter closes at exit (nor a descriptor number it may reuse): CPython
    aborts on one ("Fatal Python error: _enter_buffered_busy: could not acquire
    lock for <_io.BufferedReader ...> at interpreter shutdown, possibly due to
    daemon threads").
    """
    chunks: "queue.Queue[Optional[bytes]]" = queue.Queue()
    try:
        fd: Optional[int] = os.dup(stream.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        fd = None  # not a real pipe (a test's stand-in)

    def read() -> None:
        try:
            while True:
                chunk = os.read(fd, 65536) if fd is not None else stream.read(65536)
                if not chunk:
                    break
                chunks.put(chunk)
        except (OSError, ValueError):
            pass
        finally:
            if fd is not None:
                os.close(fd)
            chunks.put(None)

    threading.Thread(target=read, name="command-output", daemon=True).start()
    return chunks


def _shown_program(program: str, cwd: Optional[Path]) -> str:
    """The program as the build log names it: relative to the app (bin/post_compile), or its name."""
    if cwd is not None and program.startswith(f"{cwd}{os.sep}"):
        return os.path.relpath(program, cwd)
    return Path(program).name


def oversized_variables(env: Mapping[str, str], limit: int = ENV_ENTRY_LIMIT, largest: int = 3) -> list[tuple[str, int]]:
    """The variables too large to pass to a program, with their sizes in
    bytes; if none is too large alone, the largest few (all of them together
    are then over the system's limit)."""
    sizes = sorted(((name, len(f"{name}={value}".encode(errors="surrogateescape")) + 1) for name, value in env.items()),
                   key=lambda item: -item[1])
    too_large = [item for item in sizes if item[1] > limit]
    return too_large or sizes[:largest]
