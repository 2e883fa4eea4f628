"""PYTHON_APP_DIR: the app's directory inside the repository.

A monorepo keeps its Python app in a subdirectory (`backend/`, beside a
`frontend/` another buildpack builds). The setting names it, relative to the
build dir; the build then reads the app's files from there: the package
manager's and version files, the hooks, nltk.txt, manage.py, and the
requirement files' relative paths (the tools run in it). What belongs to
the slug stays at its root: Python in .heroku/python, .profile.d, the
export file, the Procfile.

compile records the directory it built in the slug (RECORD), so that
bin/release and bin/test, which Heroku runs without the app's config vars,
agree with the build.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from . import app_files, errors, output
from .config_vars import BuildConfig
from .python_version import printable

SETTING = "PYTHON_APP_DIR"
# The app is the repository itself: the setting unset, empty or ".".
ROOT = "."
# Where compile records the app's directory, relative to the build dir.
RECORD = Path(".heroku") / "python-app-dir"
# The hooks and the Procfile, whose place is easy to get wrong in a monorepo.
_HOOKS = ("bin/pre_compile", "bin/post_compile")
_PROCFILE = "Procfile"
# A path a Procfile command can name as it is: herokuish runs it without a
# shell (`eval echo`), which would split or expand anything else.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9._/+-]+")


@dataclass(frozen=True)
class AppDir:
    """The build dir (the slug's root) and the app's directory in it."""

    root: Path
    # Normalised, relative to root, with '/' separators; ROOT for the root.
    relative: str = ROOT

    @property
    def path(self) -> Path:
        return self.root if self.is_root else self.root / self.relative

    @property
    def is_root(self) -> bool:
        return self.relative == ROOT

    @property
    def is_plain(self) -> bool:
        """Whether a Procfile command can name it without quoting."""
        return bool(_PLAIN_PATH.fullmatch(self.relative))


def resolve(root: Path, value: Optional[str]) -> AppDir:
    """The directory `value` names in `root`: a relative path to a directory
    inside it, symbolic links resolved. Empty or '.' is the root itself."""
    value = (value or "").strip()
    if not value:
        return AppDir(root)
    shown = printable(value)
    if value.startswith("/"):
        raise errors.app_dir_absolute(SETTING, shown)
    normal = posixpath.normpath(value)
    if normal == ".." or normal.startswith("../"):
        raise errors.app_dir_outside(SETTING, shown, through_link=False)
    real_root = os.path.realpath(root)
    real = os.path.realpath(root / normal)
    if real != real_root and not real.startswith(real_root + os.sep):
        raise errors.app_dir_outside(SETTING, shown, through_link=True)
    if not os.path.isdir(real):
        if os.path.exists(real):
            raise errors.app_dir_not_a_directory(SETTING, shown)
        raise errors.app_dir_missing(SETTING, shown, app_files.list_directory(root))
    # The directory itself, not a link to it: the slug is moved after the
    # build, and a path through a link is one more thing to go wrong.
    return AppDir(root, Path(os.path.relpath(real, real_root)).as_posix())


def from_config(root: Path, config: BuildConfig) -> AppDir:
    """bin/compile: the setting as a config var, else in the build environment."""
    return resolve(root, config.get(SETTING))


def recorded(root: Path, environ: Mapping[str, str]) -> AppDir:
    """bin/release and bin/test: the directory compile built, else the
    setting in their environment (herokuish and dokku pass config vars)."""
    text = app_files.read_small_text(root / RECORD, 4096)
    return resolve(root, text if text is not None else environ.get(SETTING))


def record(app: AppDir) -> None:
    """Write the app's directory into the slug, for recorded()."""
    (app.root / RECORD).write_text(f"{app.relative}\n", encoding="utf-8")


def announce(app: AppDir) -> None:
    """Say which directory is the app, and which of the repository's files
    the build doesn't read because of it."""
    if app.is_root:
        return
    output.step(f"Building the app in {app.relative}/ ({SETTING})")
    for hook in _HOOKS:
        if (app.root / hook).is_file():
            output.info(f"The repository's {hook} isn't run: the hooks are read from {app.relative}/bin/.")
    if (app.path / _PROCFILE).is_file() and not app_files.present(app.root / _PROCFILE):
        output.info(f"{app.relative}/{_PROCFILE} isn't read: the platform reads the Procfile in the "
                    "repository's root directory.")
