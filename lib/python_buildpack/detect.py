"""bin/detect: is this a Python app? No side effects; may run twice."""

from __future__ import annotations

from pathlib import Path

from . import errors, output
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


def detect(build_dir: Path) -> int:
    if is_python_app(build_dir):
        print("Python")
        return 0
    output.error(errors.not_a_python_app(list_directory(build_dir)))
    return 1
