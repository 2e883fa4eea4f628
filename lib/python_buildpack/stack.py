"""The stack (build/run image) and CPU architecture the build targets."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from . import errors

SUPPORTED_STACKS = ("heroku-22", "heroku-24", "heroku-26")
SUPPORTED_ARCHITECTURES = ("amd64", "arm64")
_END_OF_LIFE = re.compile(r"^(cedar.*|heroku-1[68]|heroku-20)$")


@dataclass(frozen=True)
class Stack:
    name: str
    arch: str

    @property
    def ubuntu_version(self) -> str:
        """heroku-24 runs Ubuntu 24.04, and so on."""
        return f"{self.name.split('-')[1]}.04"


def check_stack_name(name: str | None) -> str:
    if not name:
        raise errors.stack_missing(SUPPORTED_STACKS)
    if name in SUPPORTED_STACKS:
        return name
    if _END_OF_LIFE.match(name):
        raise errors.stack_end_of_life(name, SUPPORTED_STACKS)
    raise errors.stack_unknown(name, SUPPORTED_STACKS)


def detect_architecture() -> str:
    try:
        result = subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError) as error:
        raise errors.architecture_unknown(str(error)) from None
    arch = result.stdout.strip()
    if arch not in SUPPORTED_ARCHITECTURES:
        raise errors.architecture_unsupported(arch)
    return arch


def current_stack(environ: dict[str, str]) -> Stack:
    name = check_stack_name(environ.get("STACK"))
    return Stack(name=name, arch=detect_architecture())
