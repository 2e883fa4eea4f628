"""bin/release: the release metadata, as YAML on stdout.

When the app has no Procfile and its web process can be inferred safely (a
Django project with a wsgi.py, and gunicorn installed), it is offered as a
default process type, which Heroku uses and herokuish/dokku write into a
Procfile. Otherwise the document is empty. A Procfile always wins.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from . import app_files, errors, output
from .site_packages import has_module

_SETTINGS_MODULE = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([A-Za-z_][\w.]*)["']""")


def default_web_process(build_dir: Path) -> Optional[str]:
    """`gunicorn <project>.wsgi` for a Django project that can run it."""
    manage_py = build_dir / "manage.py"
    if not manage_py.is_file():
        return None
    if not has_module(build_dir / ".heroku" / "python", "gunicorn"):
        return None
    match = _SETTINGS_MODULE.search(_text(manage_py))
    if not match:
        return None
    parts = match.group(1).split(".")[:-1]
    while parts:
        wsgi = build_dir.joinpath(*parts, "wsgi.py")
        if wsgi.is_file() and "application" in _text(wsgi):
            return f"gunicorn {'.'.join(parts)}.wsgi"
        parts.pop()
    return None


def _text(path: Path) -> str:
    """The file's text; empty if it can't be read (then there's no default
    process, and the build log says a Procfile is needed)."""
    try:
        return app_files.read_bytes(path).decode("utf-8", errors="replace")
    except (OSError, app_files.NotUsable):
        return ""


def release_yaml(build_dir: Path) -> str:
    if (build_dir / "Procfile").exists():
        return ""
    web = default_web_process(build_dir)
    if web is None:
        return ""
    return f"---\ndefault_process_types:\n  web: {web}\n"


def note_process_types(build_dir: Path) -> None:
    """Say in the build log how the app will be started, when no Procfile does."""
    if (build_dir / "Procfile").exists():
        return
    web = default_web_process(build_dir)
    if web:
        output.step(f"No Procfile: the web process defaults to '{web}'")
    else:
        output.notice(errors.procfile_needed_notice())


def release(build_dir: Path) -> int:
    print(release_yaml(build_dir), end="")
    return 0
