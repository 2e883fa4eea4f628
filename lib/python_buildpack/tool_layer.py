"""A package manager's tool, kept between builds and reused only while it is
the pinned version, installed for the Python it runs on.

pip and Pipenv live in the app's Python install (they ship in the slug and
are cached with it); Poetry and uv live in the build cache. Whatever the
place, one rule decides reuse: the tool's own metadata (its dist-info) names
the pinned version, and the layer's stamp, written last by a complete
install, records the same key. The dist-info catches an app that replaced
the tool (a requirements.txt that pins pip); the stamp catches an install
that was interrupted, or made for another Python.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import errors, output
from .site_packages import SITE_PACKAGES, installed_version


@dataclass(frozen=True)
class ToolLayer:
    name: str  # the distribution: pip, pipenv, poetry, uv
    label: str  # as users know it: Pipenv, Poetry
    version: str
    directory: Path  # where the tool lives; the stamp goes here
    # Where its dist-info is, relative to `directory`: a venv's or the app
    # Python's site-packages, or "." for a `pip install --target` directory.
    site_packages: str = SITE_PACKAGES
    # The Python a tool with a venv of its own runs on: another one (a new
    # minor version, another path) breaks the venv.
    runs_on: str = ""
    # False for pip: `directory` is the app's Python, never removed here.
    owns_directory: bool = True

    @property
    def stamp(self) -> Path:
        return self.directory / f".{self.name}-layer.json"

    @property
    def key(self) -> dict[str, str]:
        return {"tool": self.name, "version": self.version, "runs_on": self.runs_on}

    def reusable(self) -> bool:
        if installed_version(self.directory, self.name, self.site_packages) != self.version:
            return False
        try:
            return json.loads(self.stamp.read_text(encoding="utf-8")) == self.key
        except (OSError, ValueError):
            return False

    def clear(self) -> None:
        if self.owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)
        else:
            self.stamp.unlink(missing_ok=True)

    def ensure(self, install: Callable[[], bool]) -> None:
        """Reuse the cached tool, or run `install` (True when it succeeded)."""
        if self.reusable():
            output.step(f"Using cached {self.label} {self.version}")
            return
        output.step(f"Installing {self.label} {self.version}")
        self.clear()
        if not install() or installed_version(self.directory, self.name, self.site_packages) != self.version:
            self.clear()
            raise errors.tool_install_failed(self.label, self.version)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.stamp.write_text(json.dumps(self.key) + "\n", encoding="utf-8")
