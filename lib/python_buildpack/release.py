"""bin/release: the release metadata, as YAML on stdout.

When the app has no Procfile and its web process can be inferred safely
(web_process.py), it is offered as a default process type, which Heroku
uses and herokuish/dokku write into a Procfile. Otherwise the document is
empty. A Procfile always wins.

The Procfile is the repository's, at the slug's root; an app in a
subdirectory (PYTHON_APP_DIR) is inferred from its own files, and its
command is made to run from there (run_from).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Optional

from . import app_dir, errors, output, web_process
from .app_dir import ROOT, AppDir


def inferred(build_dir: Path, app_path: str = ROOT) -> Optional[web_process.Inference]:
    """What web_process infers, run from the app's directory; None when the
    app has a Procfile."""
    if (build_dir / "Procfile").exists():
        return None
    app = AppDir(build_dir, app_path)
    inference = web_process.infer(app.path, build_dir / ".heroku" / "python")
    if inference.process is None or app.is_root:
        return inference
    command = run_from(inference.process.command, app)
    if command is None:
        return web_process.Inference(hints=(errors.app_dir_server_hint(inference.process.command, app.relative),))
    return dataclasses.replace(inference, process=dataclasses.replace(inference.process, command=command))


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


def release_yaml(build_dir: Path, app_path: str = ROOT) -> str:
    inference = inferred(build_dir, app_path)
    if inference is None or inference.process is None:
        return ""
    return f"---\ndefault_process_types:\n  web: {inference.process.command}\n"


def note_process_types(build_dir: Path, app_path: str = ROOT) -> None:
    """Say in the build log how the app will be started, when no Procfile does."""
    inference = inferred(build_dir, app_path)
    if inference is None:
        return
    if inference.process:
        output.step(f"No Procfile: the web process defaults to '{inference.process.command}'")
        output.info(f"Inferred from {inference.process.reason}. A Procfile replaces it.")
    else:
        output.notice(errors.procfile_needed_notice(inference.hints))


def release(build_dir: Path) -> int:
    print(release_yaml(build_dir, app_dir.recorded(build_dir, os.environ).relative), end="")
    return 0
