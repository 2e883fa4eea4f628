"""Checks of the app's source before anything is installed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from . import errors, output
from .config_vars import IGNORED, REFUSED, BuildConfig

# Virtual environments people commit by mistake, by their usual names.
VENV_DIR_NAMES = (".venv", "venv")
# The most entries a listing of an unexpected directory shows.
LISTING_LIMIT = 20


def not_run_twice(build_dir: Path, environ: Mapping[str, str], app_home: Path = Path("/app/.heroku/python")) -> None:
    """Fail if a Python buildpack already ran in this build.

    An earlier run leaves its Python in BUILD_DIR/.heroku/python and, through
    its export file, PYTHONHOME pointing at it. PYTHONHOME alone proves
    nothing (dokku passes a PYTHONHOME config var to the build), and neither
    does the directory alone (a committed one is reported by
    no_existing_python_dir). So both must be there, and PYTHONHOME must lead
    to this build's install: directly, or through /app/.heroku/python, which
    an earlier run links to the build dir.
    """
    python_home = environ.get("PYTHONHOME")
    install_dir = build_dir / ".heroku" / "python"
    if not python_home or not (install_dir / "bin" / "python").exists():
        return
    if python_home.rstrip("/") not in (str(install_dir), str(app_home)):
        return
    if os.path.realpath(python_home) != os.path.realpath(install_dir):
        return
    raise errors.buildpack_run_twice()


def tool_settings_honoured(config: BuildConfig) -> None:
    """Fail on a setting that would install something other than the app's
    dependency file; warn that those which would install them elsewhere are
    ignored (config_vars.TOOL_SETTINGS says which and why)."""
    found = config.tool_settings()
    refused = [(each.name, each.where, each.setting.reason) for each in found if each.setting.action == REFUSED]
    if refused:
        raise errors.tool_setting_refused(*refused[0])
    ignored = [(each.name, each.where, each.setting.reason) for each in found if each.setting.action == IGNORED]
    if ignored:
        output.warning(errors.tool_settings_ignored_warning(ignored))


def no_existing_python_dir(build_dir: Path) -> None:
    heroku_dir_usable(build_dir)
    python_dir = build_dir / ".heroku" / "python"
    if not (python_dir.exists() or python_dir.is_symlink()):
        return
    entries = sorted(str(p.relative_to(build_dir)) for p in python_dir.glob("*"))[:10]
    listing = "\n".join(f"    {entry}" for entry in entries) or "    .heroku/python"
    raise errors.existing_python_dir(listing)


def heroku_dir_usable(build_dir: Path) -> None:
    """Fail unless `.heroku` is absent or a directory of the app itself.

    Python goes into .heroku/python: a file there stops the install, and a
    symbolic link would put Python wherever it points (outside the slug, or
    nowhere), while the build seemed to pass.
    """
    heroku = build_dir / ".heroku"
    if heroku.is_symlink():
        target = os.readlink(heroku)
        if not heroku.exists():
            raise errors.heroku_dir_unusable(f"a symbolic link to '{target}', which doesn't exist")
        inside = os.path.realpath(heroku).startswith(os.path.realpath(build_dir) + os.sep)
        where = "a directory in the app" if inside else "a directory outside the app"
        raise errors.heroku_dir_unusable(f"a symbolic link to '{target}' ({where})")
    if heroku.exists() and not heroku.is_dir():
        raise errors.heroku_dir_unusable("a file, not a directory")


def no_committed_venv(build_dir: Path) -> None:
    """Fail if the app's source holds a virtual environment.

    A venv made on a developer's machine doesn't work on the build image
    (its paths and Python are the developer's), and tools that find it
    (uv, Poetry, `python -m venv` users) would use it instead of the app's
    Python.
    """
    for name in VENV_DIR_NAMES:
        venv = build_dir / name
        if (venv / "pyvenv.cfg").is_file():
            raise errors.committed_venv(name, listing(venv, build_dir))


def listing(directory: Path, relative_to: Path, depth: int = 2, limit: int = LISTING_LIMIT) -> str:
    """The directory and what it holds, `depth` levels down, sorted, indented;
    directories end in '/'. Like `find <dir>/ -maxdepth 2 | sort`, shortened."""
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        here = Path(root)
        for name in dirs:
            found.append(f"{(here / name).relative_to(relative_to)}/")
        for name in files:
            found.append(str((here / name).relative_to(relative_to)))
        # Children of `here` are one level below it: go no deeper than `depth`.
        if len(here.relative_to(directory).parts) + 1 >= depth:
            dirs[:] = []
    found = [f"{directory.relative_to(relative_to)}/", *sorted(found)]
    shown = found[:limit] + ([f"... and {len(found) - limit} more"] if len(found) > limit else [])
    return "\n".join(f"    {entry}" for entry in shown)
