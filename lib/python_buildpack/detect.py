"""bin/detect: is this a Python app? No side effects; may run twice."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional

from . import app_dir, errors, output
from .app_files import list_directory

# Files and directories that mark a Python app. The list is wider than what
# compile accepts, so that compile can explain what is missing.
PYTHON_PROJECT_FILES = (
    ".python-version", "__init__.py", "app.py", "main.py", "manage.py", "pdm.lock",
    "Pipfile", "Pipfile.lock", "poetry.lock", "pyproject.toml", "requirements.txt",
    "runtime.txt", "server.py", "setup.cfg", "setup.py", "uv.lock",
    # Common misspellings of requirements.txt.
    "requeriments.txt", "requirement.txt", "requirements", "requirements.text",
    "Requirements.txt", "requirements.txt.txt", "requirments.txt",
    # Directories.
    "__pycache__", ".venv", "venv",
)


def is_python_app(build_dir: Path) -> bool:
    return any((build_dir / name).exists() or (build_dir / name).is_symlink() for name in PYTHON_PROJECT_FILES)


def detect(build_dir: Path, environ: Optional[Mapping[str, str]] = None) -> int:
    """A Python app in the build dir, or in the directory PYTHON_APP_DIR
    names. detect gets no config vars (only BUILD_DIR): the setting is read
    from the environment, where herokuish and dokku put them."""
    environ = os.environ if environ is None else environ
    try:
        app = app_dir.resolve(build_dir, environ.get(app_dir.SETTING))
    except errors.BuildError as problem:
        if is_python_app(build_dir):
            return _detected()  # compile fails with the same error, where it is seen
        output.error(str(problem))
        return 1
    if is_python_app(app.path) or is_python_app(build_dir):
        return _detected()
    where = "" if app.is_root else f"{app.relative}/ ({app_dir.SETTING})"
    output.error(errors.not_a_python_app(list_directory(app.path), where))
    return 1


def _detected() -> int:
    print("Python")
    return 0
