"""bin/release: the release metadata, as YAML on stdout.

When the app has no Procfile and its web process can be inferred safely (a
Django project with a wsgi.py, and gunicorn installed), it is offered as a
default process type, which Heroku uses and herokuish/dokku write into a
Procfile. Otherwise the document is empty. A Procfile always wins.

The Procfile is the repository's, at the slug's root; an app in a
subdirectory (PYTHON_APP_DIR) is inferred from its own files, and its
command is made to run from there (run_from).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional

from . import app_dir, app_files, errors, output
from .app_dir import ROOT, AppDir
from .site_packages import has_module

_SETTINGS_MODULE = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([A-Za-z_][\w.]*)["']""")


def default_web_process(build_dir: Path, app_path: str = ROOT) -> Optional[str]:
    """`gunicorn <project>.wsgi` for a Django project that can run it."""
    app = AppDir(build_dir, app_path)
    manage_py = app.path / "manage.py"
    if not manage_py.is_file():
        return None
    if not has_module(build_dir / ".heroku" / "python", "gunicorn"):
        return None
    match = _SETTINGS_MODULE.search(_text(manage_py))
    if not match:
        return None
    parts = match.group(1).split(".")[:-1]
    while parts:
        wsgi = app.path.joinpath(*parts, "wsgi.py")
        if wsgi.is_file() and "application" in _text(wsgi):
            return run_from(f"gunicorn {'.'.join(parts)}.wsgi", app)
        parts.pop()
    return None


# How each server is told the app's directory: gunicorn changes to it
# (and imports from it); uvicorn imports from it.
_APP_DIR_OPTIONS = {"gunicorn": "--chdir", "uvicorn": "--app-dir"}


def run_from(command: str, app: AppDir) -> Optional[str]:
    """An inferred command, which would run in the app's directory, made
    to run from the slug's root, where processes start. None when it can't
    be: herokuish and dokku run a Procfile command without a shell, so
    `cd backend && ...` doesn't work, only a server's own option does."""
    if app.is_root:
        return command
    server, _, arguments = command.partition(" ")
    option = _APP_DIR_OPTIONS.get(server)
    if option is None or not app.is_plain:
        return None
    return f"{server} {option} {app.relative} {arguments}"


def _text(path: Path) -> str:
    """The file's text; empty if it can't be read (then there's no default
    process, and the build log says a Procfile is needed)."""
    try:
        return app_files.read_bytes(path).decode("utf-8", errors="replace")
    except (OSError, app_files.NotUsable):
        return ""


def release_yaml(build_dir: Path, app_path: str = ROOT) -> str:
    if (build_dir / "Procfile").exists():
        return ""
    web = default_web_process(build_dir, app_path)
    if web is None:
        return ""
    return f"---\ndefault_process_types:\n  web: {web}\n"


def note_process_types(build_dir: Path, app_path: str = ROOT) -> None:
    """Say in the build log how the app will be started, when no Procfile does."""
    if (build_dir / "Procfile").exists():
        return
    web = default_web_process(build_dir, app_path)
    if web:
        output.step(f"No Procfile: the web process defaults to '{web}'")
    else:
        output.notice(errors.procfile_needed_notice())


def release(build_dir: Path) -> int:
    print(release_yaml(build_dir, app_dir.recorded(build_dir, os.environ).relative), end="")
    return 0
