from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from python_buildpack import runtime_env
from python_buildpack.runtime_env import PythonLocation


def bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)


def profile_env(home, **extra):
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", **extra}


def show(*names):
    return "; ".join(f'echo "{n}=${{{n}-<unset>}}"' for n in names)


@pytest.fixture
def profile(tmp_path):
    return str(runtime_env.write_profile_script(tmp_path))


def parse(stdout):
    return dict(line.split("=", 1) for line in stdout.splitlines())


def test_profile_sets_the_runtime_environment(tmp_path, profile):
    result = bash(f"set -euo pipefail; source {profile}; {show('PATH', 'LD_LIBRARY_PATH', 'LIBRARY_PATH', 'PYTHONUNBUFFERED', 'LANG', 'PYTHONPATH', 'PIP_DISABLE_PIP_VERSION_CHECK')}",
                  profile_env(tmp_path))
    assert result.returncode == 0 and result.stderr == ""
    values = parse(result.stdout)
    home = tmp_path
    assert values["PATH"] == f"{home}/.heroku/python/bin:/usr/bin:/bin"
    assert values["LD_LIBRARY_PATH"] == f"{home}/.heroku/python/lib"
    assert values["LIBRARY_PATH"] == f"{home}/.heroku/python/lib"
    assert values["PYTHONUNBUFFERED"] == "true"
    assert values["LANG"] == "C.UTF-8"
    assert values["PYTHONPATH"] == str(home)


def test_profile_keeps_user_settings_and_is_idempotent(tmp_path, profile):
    env = profile_env(tmp_path, LANG="de_DE.UTF-8", PYTHONPATH="/custom", LD_LIBRARY_PATH="/opt/lib")
    result = bash(f"set -eo pipefail; source {profile}; source {profile}; {show('PATH', 'LANG', 'PYTHONPATH', 'LD_LIBRARY_PATH')}", env)
    values = parse(result.stdout)
    assert values["PATH"] == f"{tmp_path}/.heroku/python/bin:/usr/bin:/bin"
    assert values["LANG"] == "de_DE.UTF-8"
    assert values["PYTHONPATH"] == "/custom"
    assert values["LD_LIBRARY_PATH"] == f"{tmp_path}/.heroku/python/lib:/opt/lib"


def test_profile_is_silent_and_succeeds_when_app_dir_is_not_writable():
    # HOME isn't /app and /app/.heroku can't be made by an unprivileged user:
    # sourcing must still succeed quietly (herokuish aborts start otherwise).
    home = tempfile.mkdtemp()
    try:
        os.chmod(home, 0o755)
        profile = runtime_env.write_profile_script(Path(home))
        user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        result = subprocess.run([*user, "bash", "-c", f"set -eo pipefail; source {profile}; echo ok"],
                                env=profile_env(home), capture_output=True, text=True)
        assert result.stdout == "ok\n" and result.stderr == ""
        assert not os.path.exists("/app/.heroku/python")
    finally:
        shutil.rmtree(home)


def test_export_file_under_set_e(tmp_path):
    location = PythonLocation(tmp_path / "build/.heroku/python", tmp_path / "app/.heroku/python")
    assert runtime_env.write_export(tmp_path, location) is None
    export = tmp_path / "export"
    result = bash(f"set -euo pipefail; source {export}; source {export}; {show('PATH', 'LD_LIBRARY_PATH')}",
                  {"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0
    values = parse(result.stdout)
    assert values["PATH"] == f"{tmp_path}/app/.heroku/python/bin:/usr/bin:/bin"
    assert values["LD_LIBRARY_PATH"] == f"{tmp_path}/app/.heroku/python/lib"


def test_export_quotes_odd_paths(tmp_path):
    odd = tmp_path / 'we"ird $dir`x'
    location = PythonLocation(odd / "python", odd / "python")
    runtime_env.write_export(tmp_path, location)
    result = bash(f"set -eu; source {tmp_path / 'export'}; echo \"$PATH\"", {"PATH": "/bin"})
    assert result.stdout == f"{odd}/python/bin:/bin\n"


def test_export_not_writable(tmp_path):
    location = PythonLocation(tmp_path, tmp_path)
    assert runtime_env.write_export(tmp_path / "missing-dir", location)


def test_link_app_dir(tmp_path):
    build, app = tmp_path / "build", tmp_path / "app"
    build.mkdir()
    location = runtime_env.link_app_dir(build, app)
    assert location.home == app / ".heroku/python"
    assert os.readlink(app / ".heroku/python") == str(build / ".heroku/python")
    # A stale link from an earlier build is replaced.
    other = tmp_path / "build2"
    other.mkdir()
    runtime_env.link_app_dir(other, app)
    assert os.readlink(app / ".heroku/python") == str(other / ".heroku/python")


def test_link_app_dir_when_building_in_app(tmp_path):
    location = runtime_env.link_app_dir(tmp_path, tmp_path)
    assert location.home == location.install_dir and location.link_problem is None


def test_link_app_dir_falls_back_to_the_build_dir(tmp_path):
    build, app = tmp_path / "build", tmp_path / "app"
    (app / ".heroku" / "python").mkdir(parents=True)
    location = runtime_env.link_app_dir(build, app)
    assert location.home == build / ".heroku/python"
    assert "already exists" in location.link_problem


def test_build_env(tmp_path):
    location = PythonLocation(tmp_path / "i", tmp_path / "h")
    env = runtime_env.build_env(location, {"PATH": "/usr/bin", "PYTHONPATH": "/evil", "PYTHONHOME": "/evil",
                                            "PYTHONSTARTUP": "/evil.py", "LD_LIBRARY_PATH": "/opt/lib", "KEEP": "1"})
    assert not any(name.startswith("PYTHON") and name != "PYTHONUNBUFFERED" for name in env)
    assert env["PATH"] == f"{tmp_path}/h/bin:/usr/bin"
    assert env["LD_LIBRARY_PATH"] == f"{tmp_path}/h/lib:/opt/lib"
    assert env["C_INCLUDE_PATH"] == f"{tmp_path}/h/include"
    assert env["KEEP"] == "1"


def test_rewrite_script_paths(tmp_path):
    install = tmp_path / "build/.heroku/python"
    (install / "bin").mkdir(parents=True)
    (install / "bin/gunicorn").write_text(f"#!{install}/bin/python\nimport sys\n")
    (install / "bin/python3").write_bytes(b"\x7fELF binary")
    (install / "bin/python").symlink_to("python3")
    runtime_env.rewrite_script_paths(PythonLocation(install, install))
    assert (install / "bin/gunicorn").read_text() == "#!/app/.heroku/python/bin/python\nimport sys\n"
    assert (install / "bin/python3").read_bytes() == b"\x7fELF binary"


def test_profile_with_package_manager_settings(tmp_path):
    profile = runtime_env.write_profile_script(
        tmp_path, ("$HOME/.heroku/python/pipenv/bin",), {"PIPENV_SYSTEM": "1", "VIRTUAL_ENV": "$HOME/.heroku/python"})
    result = bash(f"set -eo pipefail; source {profile}; source {profile}; {show('PATH', 'VIRTUAL_ENV', 'PIPENV_SYSTEM')}",
                  profile_env(tmp_path))
    values = parse(result.stdout)
    assert values["PATH"] == f"{tmp_path}/.heroku/python/pipenv/bin:{tmp_path}/.heroku/python/bin:/usr/bin:/bin"
    assert values["VIRTUAL_ENV"] == f"{tmp_path}/.heroku/python"
    assert values["PIPENV_SYSTEM"] == "1"


def test_export_with_package_manager_settings(tmp_path):
    location = PythonLocation(tmp_path / "i", tmp_path / "h")
    runtime_env.write_export(tmp_path, location, ("/cache/uv/bin",), {"UV_PYTHON_DOWNLOADS": "never"})
    result = bash(f"set -eu; source {tmp_path / 'export'}; echo \"$PATH $UV_PYTHON_DOWNLOADS\"", {"PATH": "/bin"})
    assert result.stdout == f"/cache/uv/bin:{tmp_path}/h/bin:/bin never\n"


def test_profile_and_export_set_pythonhome_over_a_stale_config_var(tmp_path, profile):
    # A config var naming another Python (or none) would stop python from starting.
    env = profile_env(tmp_path, PYTHONHOME="/nonexistent")
    result = bash(f"set -eo pipefail; source {profile}; source {profile}; {show('PYTHONHOME')}", env)
    assert parse(result.stdout)["PYTHONHOME"] == f"{tmp_path}/.heroku/python"

    location = PythonLocation(tmp_path / "build/.heroku/python", tmp_path / "app/.heroku/python")
    runtime_env.write_export(tmp_path, location)
    result = bash(f"set -euo pipefail; source {tmp_path / 'export'}; {show('PYTHONHOME')}",
                  {"PATH": "/usr/bin:/bin", "PYTHONHOME": "/nonexistent"})
    assert parse(result.stdout)["PYTHONHOME"] == f"{tmp_path}/app/.heroku/python"
