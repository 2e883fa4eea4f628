"""bin/test (Heroku CI, `herokuish buildpack test`): run the app's tests.

It runs in the built app with .profile.d sourced, so `python` is the app's:
pytest when it is installed, else Django's test runner for apps with a
manage.py. Its exit status is the tests'.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import errors, output
from .django import find_manage_py


def run_app_tests(app_dir: Path) -> int:
    python = shutil.which("python", path=os.environ.get("PATH"))
    if python is None:
        raise errors.app_python_missing()
    has_pytest = subprocess.run(
        [python, "-c", "import pytest"], cwd=app_dir, capture_output=True
    ).returncode == 0
    manage_py = find_manage_py(app_dir)
    if has_pytest:
        command = [python, "-m", "pytest"]
    elif manage_py is not None:
        command = [python, str(manage_py.relative_to(app_dir)), "test"]
    else:
        raise errors.no_test_runner()
    output.step(f"Running the app's tests: {' '.join(['python', *command[1:]])}")
    sys.stdout.flush()
    return subprocess.run(command, cwd=app_dir).returncode
