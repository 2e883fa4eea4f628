from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from python_buildpack import environment
from python_buildpack.environment import BUILD, FORCED, LATER, PREPEND, PYTHON_ENVIRONMENT, RUNTIME, Variable
from python_buildpack.python_location import PythonLocation


def bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)


def profile_env(home, **extra):
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", **extra}


def show(*names):
    return "; ".join(f'echo "{n}=${{{n}-<unset>}}"' for n in names)


@pytest.fixture
def profile(tmp_path):
    return str(environment.write_profile_scripts(tmp_path))


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
    assert values["PYTHONUNBUFFERED"] == "1"
    assert values["LANG"] == "C.UTF-8"
    assert values["PYTHONPATH"] == str(home)


@pytest.mark.parametrize("app_path", ["backend", "apps/my api", 'we"ird $dir`x'])
def test_an_app_in_a_subdirectory_imports_from_it(tmp_path, app_path):
    profile = environment.write_profile_scripts(tmp_path, app_path=app_path)
    result = bash(f"set -euo pipefail; source {profile}; source {profile}; {show('PYTHONPATH', 'PATH')}",
                  profile_env(tmp_path))
    assert result.returncode == 0 and result.stderr == ""
    values = parse(result.stdout)
    assert values["PYTHONPATH"] == f"{tmp_path}/{app_path}"
    assert values["PATH"] == f"{tmp_path}/.heroku/python/bin:/usr/bin:/bin"  # Python is at the slug's root
    user = bash(f"set -eo pipefail; source {profile}; {show('PYTHONPATH')}", profile_env(tmp_path, PYTHONPATH="/lib"))
    assert parse(user.stdout)["PYTHONPATH"] == "/lib"  # a PYTHONPATH config var replaces it


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
        profile = environment.write_profile_scripts(Path(home))
        user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        result = subprocess.run([*user, "bash", "-c", f"set -eo pipefail; source {profile}; echo ok"],
                                env=profile_env(home), capture_output=True, text=True)
        assert result.stdout == "ok\n" and result.stderr == ""
        assert not os.path.exists("/app/.heroku/python")
    finally:
        shutil.rmtree(home)


def test_export_file_under_set_e(tmp_path):
    location = PythonLocation(tmp_path / "build/.heroku/python", tmp_path / "app/.heroku/python")
    assert environment.write_export(tmp_path, location) is None
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
    environment.write_export(tmp_path, location)
    result = bash(f"set -eu; source {tmp_path / 'export'}; echo \"$PATH\"", {"PATH": "/bin"})
    assert result.stdout == f"{odd}/python/bin:/bin\n"


def test_export_not_writable(tmp_path):
    location = PythonLocation(tmp_path, tmp_path)
    assert environment.write_export(tmp_path / "missing-dir", location)


def test_build_env(tmp_path):
    location = PythonLocation(tmp_path / "i", tmp_path / "h")
    env = environment.build_env(location, {"PATH": "/usr/bin", "PYTHONPATH": "/evil", "PYTHONHOME": "/evil",
                                            "PYTHONSTARTUP": "/evil.py", "LD_LIBRARY_PATH": "/opt/lib", "KEEP": "1"})
    assert not any(name.startswith("PYTHON") and name != "PYTHONUNBUFFERED" for name in env)
    assert env["PATH"] == f"{tmp_path}/h/bin:/usr/bin"
    assert env["LD_LIBRARY_PATH"] == f"{tmp_path}/h/lib:/opt/lib"
    assert env["C_INCLUDE_PATH"] == f"{tmp_path}/h/include"
    assert env["KEEP"] == "1"


def test_profile_with_package_manager_settings(tmp_path):
    from python_buildpack.pipenv import Pipenv

    profile = environment.write_profile_scripts(tmp_path, Pipenv().environment(None))
    result = bash(f"set -eo pipefail; source {profile}; source {profile}; {show('PATH', 'VIRTUAL_ENV', 'PIPENV_SYSTEM')}",
                  profile_env(tmp_path))
    values = parse(result.stdout)
    assert values["PATH"] == f"{tmp_path}/.heroku/python/pipenv/bin:{tmp_path}/.heroku/python/bin:/usr/bin:/bin"
    assert values["VIRTUAL_ENV"] == f"{tmp_path}/.heroku/python"
    assert values["PIPENV_SYSTEM"] == "1"


def test_export_with_package_manager_settings(tmp_path):
    location = PythonLocation(tmp_path / "i", tmp_path / "h")
    extra = (Variable.in_build("PATH", "/cache/uv/bin", PREPEND), Variable.in_build("UV_PYTHON_DOWNLOADS", "never"))
    environment.write_export(tmp_path, location, extra)
    result = bash(f"set -eu; source {tmp_path / 'export'}; echo \"$PATH $UV_PYTHON_DOWNLOADS\"", {"PATH": "/bin"})
    assert result.stdout == f"/cache/uv/bin:{tmp_path}/h/bin:/bin never\n"


def test_profile_and_export_set_pythonhome_over_a_stale_config_var(tmp_path, profile):
    # A config var naming another Python (or none) would stop python from starting.
    env = profile_env(tmp_path, PYTHONHOME="/nonexistent")
    result = bash(f"set -eo pipefail; source {profile}; source {profile}; {show('PYTHONHOME')}", env)
    assert parse(result.stdout)["PYTHONHOME"] == f"{tmp_path}/.heroku/python"

    location = PythonLocation(tmp_path / "build/.heroku/python", tmp_path / "app/.heroku/python")
    environment.write_export(tmp_path, location)
    result = bash(f"set -euo pipefail; source {tmp_path / 'export'}; {show('PYTHONHOME')}",
                  {"PATH": "/usr/bin:/bin", "PYTHONHOME": "/nonexistent"})
    assert parse(result.stdout)["PYTHONHOME"] == f"{tmp_path}/app/.heroku/python"



def test_generated_scripts_pass_shellcheck(tmp_path):
    from test_shellcheck import shellcheck
    from python_buildpack.pipenv import Pipenv

    extra = Pipenv().environment(None) + (Variable.everywhere("NLTK_DATA", "{home}/nltk_data", FORCED),)
    shellcheck(environment.profile_script(extra))
    shellcheck(environment.profile_script(extra, app_path='apps/we"ird $dir`x'))
    odd = PythonLocation(tmp_path / 'we"ird $dir`x', tmp_path / 'we"ird $dir`x')
    shellcheck(environment.export_script(odd, extra))


def test_each_variable_is_set_in_every_scope_the_table_gives(tmp_path):
    """The build env, the export file and the profile script all come from
    PYTHON_ENVIRONMENT: each variable is where the table says, nowhere else."""
    location = PythonLocation(tmp_path / "i", tmp_path / "h")
    build = environment.build_env(location, {"PATH": "/usr/bin"})
    (tmp_path / "bp").mkdir()
    environment.write_export(tmp_path / "bp", location)
    exported = parse(bash(f"source {tmp_path / 'bp/export'}; env", {"PATH": "/usr/bin"}).stdout)
    home = tmp_path / "home"
    home.mkdir()
    profile = environment.write_profile_scripts(home)
    runtime = parse(bash(f"source {profile}; env", {"PATH": "/usr/bin", "HOME": str(home)}).stdout)
    for variable in PYTHON_ENVIRONMENT:
        for scope, values in ((BUILD, build), (LATER, exported), (RUNTIME, runtime)):
            assert (variable.name in values) == (scope in variable.how or variable.name == "PATH"), (variable, scope)
    assert build["C_INCLUDE_PATH"] == exported["C_INCLUDE_PATH"] == f"{tmp_path}/h/include"
    assert build["PKG_CONFIG_PATH"] == exported["PKG_CONFIG_PATH"] == f"{tmp_path}/h/lib/pkgconfig"
    assert build["PYTHONUNBUFFERED"] == exported["PYTHONUNBUFFERED"] == runtime["PYTHONUNBUFFERED"] == "1"
    assert runtime["PYTHONHOME"] == f"{home}/.heroku/python" and "PYTHONHOME" not in build


def test_a_variable_default_keeps_the_value_already_set(tmp_path):
    location = PythonLocation(tmp_path, tmp_path)
    assert environment.build_env(location, {"LANG": "de_DE.UTF-8"})["LANG"] == "C.UTF-8"  # forced in the build
    default = Variable("GREETING", "hello", {BUILD: environment.DEFAULT})
    assert environment.build_env(location, {"GREETING": "hi"}, (default,))["GREETING"] == "hi"
    assert environment.build_env(location, {}, (default,))["GREETING"] == "hello"
