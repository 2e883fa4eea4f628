"""Where the app's Python lives during the build, and the path it runs by.

Python and the scripts pip installs name `/app/.heroku/python` (where the
slug runs). During the build that path is a symlink to the build's copy, as
on Heroku, so the paths baked into installed files stay valid after the
build directory is moved to /app.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from .config_vars import tool_setting

APP_DIR = Path("/app")
APP_PYTHON_HOME = APP_DIR / ".heroku" / "python"

# Settings of the buildpack's own interpreter or the app's that must not
# steer the build's Python: dokku passes every config var to the build.
_DROPPED_PREFIXES = ("PYTHON",)


@dataclass(frozen=True)
class PythonLocation:
    """Where Python is installed, and the path the build runs it through."""

    install_dir: Path
    home: Path
    link_problem: Optional[str] = None

    @property
    def bin(self) -> Path:
        return self.home / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"


def link_app_dir(build_dir: Path, app_dir: Path = APP_DIR) -> PythonLocation:
    """Point /app/.heroku/python at the build's install dir, if possible."""
    install_dir = build_dir / ".heroku" / "python"
    app_home = app_dir / ".heroku" / "python"
    if os.path.realpath(build_dir) == os.path.realpath(app_dir):
        return PythonLocation(install_dir, app_home)
    try:
        if app_home.exists() and not app_home.is_symlink():
            raise OSError(f"{app_home} already exists and isn't a link")
        app_home.parent.mkdir(parents=True, exist_ok=True)
        temporary = app_home.with_name(f".python-link-{os.getpid()}")
        if temporary.is_symlink():
            temporary.unlink()
        temporary.symlink_to(install_dir)
        temporary.replace(app_home)
    except OSError as error:
        problem = f"{error.filename or app_home}: {error.strerror}" if error.strerror else str(error)
        return PythonLocation(install_dir, install_dir, link_problem=problem)
    return PythonLocation(install_dir, app_home)


def clean_env(base: Mapping[str, str]) -> dict[str, str]:
    """The build environment without settings that would steer a Python, or
    send the install outside the slug (config_vars.TOOL_SETTINGS)."""
    return {k: v for k, v in base.items() if not k.startswith(_DROPPED_PREFIXES) and tool_setting(k) is None}


def rewrite_script_paths(location: PythonLocation) -> None:
    """Make `#!` lines of installed scripts name /app/.heroku/python.

    Needed only when Python had to run from the build directory itself.
    """
    old = str(location.install_dir).encode()
    new = str(APP_PYTHON_HOME).encode()
    scripts = [*(location.install_dir / "bin").iterdir(), *location.install_dir.glob("pipenv/venv/bin/*")]
    for config in location.install_dir.glob("pipenv/venv/pyvenv.cfg"):
        config.write_bytes(config.read_bytes().replace(old, new))
    for script in scripts:
        if script.is_symlink() or not script.is_file():
            continue
        with open(script, "rb") as handle:
            head = handle.read(2)
            if head != b"#!":
                continue
            content = head + handle.read()
        first, newline, rest = content.partition(b"\n")
        if old in first:
            script.write_bytes(first.replace(old, new) + newline + rest)
