from __future__ import annotations

import subprocess

from python_buildpack import bundled_pip
from python_buildpack.config_vars import BuildConfig


def test_launcher_runs_the_venv_tool_without_pythonhome(tmp_path):
    tool = tmp_path / "pipenv" / "venv" / "bin" / "pipenv"
    tool.parent.mkdir(parents=True)
    tool.write_text('#!/bin/sh\necho "PYTHONHOME=${PYTHONHOME-<unset>} args=$*"\n')
    tool.chmod(0o755)
    launcher = tmp_path / "pipenv" / "bin" / "pipenv"
    launcher.parent.mkdir()
    launcher.symlink_to("../venv/bin/pipenv")  # as older builds made it
    bundled_pip.write_launcher(launcher, "../venv/bin/pipenv")
    assert not launcher.is_symlink()
    result = subprocess.run([str(launcher), "run", "a b"], env={"PATH": "/usr/bin:/bin", "PYTHONHOME": "/app/.heroku/python"},
                            capture_output=True, text=True)
    assert result.stdout == "PYTHONHOME=<unset> args=run a b\n", result.stderr
    # Found through PATH, as the build and the app run it.
    result = subprocess.run(["sh", "-c", "pipenv --version"], env={"PATH": f"{launcher.parent}:/usr/bin:/bin"},
                            capture_output=True, text=True)
    assert result.stdout == "PYTHONHOME=<unset> args=--version\n", result.stderr


def test_index_settings_come_from_config_vars(tmp_path):
    (tmp_path / "PIP_EXTRA_INDEX_URL").write_text("https://extra/simple\n")
    (tmp_path / "PIP_REQUIRE_VIRTUALENV").write_text("1\n")
    config = BuildConfig(tmp_path, {"PIP_INDEX_URL": "https://build-env/simple", "PIP_TRUSTED_HOST": ""})
    assert bundled_pip.pip_settings(config) == {"PIP_EXTRA_INDEX_URL": "https://extra/simple",
                                                "PIP_INDEX_URL": "https://build-env/simple"}
