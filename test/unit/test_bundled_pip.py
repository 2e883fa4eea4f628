from __future__ import annotations

import os
import subprocess

import pytest

from python_buildpack import bundled_pip
from python_buildpack.config_vars import BuildConfig
from python_buildpack.errors import BuildError
from conftest import fake_install


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


def test_the_newest_bundled_wheel_by_version_through_the_home_path(tmp_path):
    location = fake_install(tmp_path, "pip-9.0.1-py3-none-any.whl", "pip-23.2.1-py3-none-any.whl",
                            "pip-24.0-py3-none-any.whl")
    assert bundled_pip.wheel(location) == location.home / "lib/python3.12/ensurepip/_bundled/pip-24.0-py3-none-any.whl"


def test_no_bundled_wheel(tmp_path):
    with pytest.raises(BuildError) as error:
        bundled_pip.wheel(fake_install(tmp_path))
    assert error.value.id == "internal-error::bundled-pip-not-found"


def test_only_index_and_network_settings_reach_the_tool_installs():
    env = {"PATH": "/usr/bin", "PIP_REQUIRE_VIRTUALENV": "1", "PIP_TARGET": "/elsewhere", "PIP_PROXY": "http://proxy:3128",
           "PIP_INDEX_URL": "https://build-env/simple", "SSL_CERT_FILE": "/ca.pem"}
    clean = bundled_pip.environment(env, {"PIP_INDEX_URL": "https://config-var/simple"})
    assert clean == {"PATH": "/usr/bin", "PIP_PROXY": "http://proxy:3128", "PIP_INDEX_URL": "https://config-var/simple",
                     "SSL_CERT_FILE": "/ca.pem", "PIP_CERT": "/ca.pem", "PIP_CONFIG_FILE": os.devnull}
    assert bundled_pip.environment({"PIP_CERT": "/mine.pem", "SSL_CERT_FILE": "/ca.pem"}, {})["PIP_CERT"] == "/mine.pem"


def test_cache_args(tmp_path):
    assert bundled_pip.cache_args(tmp_path / "pip") == [f"--cache-dir={tmp_path / 'pip'}"]
    assert bundled_pip.cache_args(None) == ["--no-cache-dir"]


def test_write_launcher_replaces_a_file_and_is_executable(tmp_path):
    launcher = tmp_path / "bin" / "poetry"
    launcher.parent.mkdir()
    launcher.write_text("old")
    bundled_pip.write_launcher(launcher, "../venv/bin/poetry")
    assert launcher.stat().st_mode & 0o777 == 0o755
    assert launcher.read_text().endswith('unset PYTHONHOME\nexec "$(dirname -- "$0")/../venv/bin/poetry" "$@"\n')



def test_a_launcher_already_written_is_left_as_it_is(tmp_path):
    """The cache's early copy of the install stays valid only while nothing in it changes."""
    launcher = tmp_path / "bin" / "pipenv"
    bundled_pip.write_launcher(launcher, "../venv/bin/pipenv")
    before = launcher.stat()
    bundled_pip.write_launcher(launcher, "../venv/bin/pipenv")
    assert (launcher.stat().st_ino, launcher.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    bundled_pip.write_launcher(launcher, "../venv/bin/poetry")  # another script: rewritten
    assert "../venv/bin/poetry" in launcher.read_text() and launcher.stat().st_mode & 0o777 == 0o755
    launcher.chmod(0o644)
    bundled_pip.write_launcher(launcher, "../venv/bin/poetry")  # not executable: rewritten
    assert launcher.stat().st_mode & 0o777 == 0o755
