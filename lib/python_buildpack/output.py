"""Build log output in the Heroku style.

Steps are `-----> ` lines on stdout, detail and command output is indented by
seven spaces, and warnings, notices and errors are marked blocks on stderr.
"""

from __future__ import annotations

import os
import sys
from typing import Iterable, TextIO

INDENT = " " * 7

_COLOURS = {
    "error": "\033[1;31m",
    "warning": "\033[1;33m",
    "notice": "\033[1;34m",
}
_RESET = "\033[0m"


def _use_colour() -> bool:
    return not os.environ.get("NO_COLOR")


def step(message: str) -> None:
    """A build step: `-----> message`."""
    _write(sys.stdout, f"-----> {message}\n")


def info(message: str = "") -> None:
    """Detail under the current step, indented."""
    lines = message.split("\n") if message else [""]
    _write(sys.stdout, "".join(f"{INDENT}{line}".rstrip() + "\n" for line in lines))


def indented_line(line: str) -> None:
    """One line of a command's output, indented."""
    _write(sys.stdout, f"{INDENT}{line.rstrip()}".rstrip() + "\n")


def warning(text: str) -> None:
    _box("warning", text)


def notice(text: str) -> None:
    _box("notice", text)


def error(text: str) -> None:
    _box("error", text)


def format_box(kind: str, text: str, colour: bool = False) -> str:
    start, end = (_COLOURS[kind], _RESET) if colour else ("", "")
    lines: Iterable[str] = text.rstrip("\n").split("\n")
    body = "".join(f"{start} !     {line}".rstrip() + f"{end}\n" for line in lines)
    return f"\n{body}\n"


def _box(kind: str, text: str) -> None:
    sys.stdout.flush()
    _write(sys.stderr, format_box(kind, text, colour=_use_colour()))


def _write(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()
