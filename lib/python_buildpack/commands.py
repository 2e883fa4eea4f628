"""Running the build's commands with their output in the build log."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from . import output


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    output: str

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
            text=True,
            errors="replace",
            bufsize=1,
        )
    except OSError as error:
        message = f"{args[0]}: {error.strerror or error}"
        output.indented_line(message)
        return CommandResult(127, message)
    captured: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        captured.append(line)
        shown = line_filter(line) if line_filter else line
        if shown is not None and not quiet:
            output.indented_line(shown)
    returncode = process.wait()
    if quiet and returncode != 0:
        for line in captured:
            output.indented_line(line)
    return CommandResult(returncode, "".join(captured))
