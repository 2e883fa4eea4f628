"""The real bin/ scripts, run as the build system runs them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from python_buildpack import cli, errors, report

BIN = Path(__file__).resolve().parents[2] / "bin"


def run(script: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "NO_COLOR": "1"}
    return subprocess.run([str(BIN / script), *map(str, args)], env={**base, **(env or {})},
                          capture_output=True, text=True)


@pytest.fixture
def dirs(tmp_path):
    build, cache, env = tmp_path / "build", tmp_path / "cache", tmp_path / "env"
    for d in (build, cache, env):
        d.mkdir()
    return build, cache, env


def assert_clean_failure(result, build: Path, cache: Path, error_id: str) -> dict:
    """bin/compile failed with one error block and no traceback, and its
    build report (which bin/report prints) names the error's id: the id isn't
    printed. Returns the report's error."""
    printed = result.stdout + result.stderr
    assert result.returncode == 1, printed
    assert result.stderr.count(" !     Error: ") == 1 and "Traceback" not in printed, printed
    assert "Internal error" not in printed, printed
    data = report.read(build, cache)
    assert data is not None and data["status"] == "failed", (data, printed)
    assert data["error"]["id"] == error_id, (data, printed)
    return data["error"]


@pytest.mark.parametrize("name", ["requirements.txt", "manage.py", "pyproject.toml", ".python-version", "requirments.txt", "venv"])
def test_detect_passes(dirs, name):
    build = dirs[0]
    (build / name).mkdir() if name == "venv" else (build / name).write_text("")
    result = run("detect", build)
    assert (result.returncode, result.stdout, result.stderr) == (0, "Python\n", "")
    assert sorted(p.name for p in build.iterdir()) == [name]  # no side effects


def test_detect_fails_with_an_explanation(dirs):
    build = dirs[0]
    (build / "package.json").write_text("{}")
    (build / "src").mkdir()
    result = run("detect", build)
    assert result.returncode == 1 and result.stdout == ""
    assert "doesn't look like a Python app" in result.stderr
    assert "package.json" in result.stderr and "src/" in result.stderr


def test_release_prints_an_empty_document(dirs):
    result = run("release", dirs[0])
    assert (result.returncode, result.stdout) == (0, "")
    assert run("release", dirs[0], dirs[1]).returncode == 0  # herokuish passes CACHE_DIR too


@pytest.mark.parametrize("script, args, usage", [
    ("compile", ("only-one",), "bin/compile BUILD_DIR CACHE_DIR ENV_DIR"),
    ("detect", (), "bin/detect BUILD_DIR"),
    ("release", ("/nonexistent/build",), "doesn't exist or isn't a directory"),
])
def test_wrong_arguments(script, args, usage):
    result = run(script, *args)
    assert result.returncode == 1 and usage in result.stderr and "Traceback" not in result.stderr


def test_the_apps_python_environment_does_not_steer_the_buildpack(dirs, tmp_path):
    # dokku passes every config var to the build; a PYTHONPATH with modules
    # shadowing the stdlib, or a PYTHONSTARTUP, must not reach the buildpack.
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "json.py").write_text("raise SystemExit('shadowed json imported')\n")
    (evil / "sitecustomize.py").write_text("raise SystemExit('sitecustomize ran')\n")
    (dirs[0] / "requirements.txt").write_text("")
    result = run("compile", *dirs, env={"PYTHONPATH": str(evil), "PYTHONHOME": str(evil),
                                        "PYTHONSTARTUP": str(evil / "json.py"), "PYTHONWARNINGS": "error"})
    assert_clean_failure(result, dirs[0], dirs[1], "checks::stack::missing")
    assert run("detect", dirs[0], env={"PYTHONPATH": str(evil), "PYTHONHOME": str(evil)}).stdout == "Python\n"


def test_no_usable_python3(dirs, tmp_path):
    launch = (BIN.parent / "lib" / "launch.sh").read_text()
    assert "/usr/bin/python3" in launch
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text("#!/bin/sh\nexit 1\n")
    (fake / "python3").chmod(0o755)
    script = launch.replace("/usr/bin/python3 /usr/local/bin/python3 ", "")
    (tmp_path / "launch.sh").write_text(script)
    result = subprocess.run(["bash", str(tmp_path / "launch.sh"), "detect", str(dirs[0])],
                            env={"PATH": f"{fake}:/usr/bin:/bin"}, capture_output=True, text=True)
    assert result.returncode == 1
    assert "can't find a usable python3" in result.stderr and "3.10 or newer" in result.stderr


def test_unexpected_exceptions_become_an_internal_error(monkeypatch, capsys):
    def boom(_args):
        raise RuntimeError("something broke")

    monkeypatch.setitem(cli.COMMANDS, "compile", boom)
    assert cli.main(["compile"]) == 1
    err = capsys.readouterr().err
    assert "Internal error: the Python buildpack failed unexpectedly." in err
    assert "RuntimeError: something broke" in err and "Traceback" not in err


def test_build_errors_are_one_error_block(monkeypatch, capsys):
    def fail(_args):
        raise errors.BuildError("test::something-wrong", "Something is wrong.", "Fix it like this.", detail="x")

    monkeypatch.setitem(cli.COMMANDS, "compile", fail)
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli.main(["compile"]) == 1
    # Neither the id nor the detail is printed: they are for the build report.
    assert capsys.readouterr().err == "\n !     Error: Something is wrong.\n !\n !     Fix it like this.\n\n"


def test_an_interrupted_build_is_one_error_block(monkeypatch, capsys):
    def interrupted(_args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "compile", interrupted)
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli.main(["compile"]) == 1
    assert capsys.readouterr().err == "\n !     Error: The build was interrupted.\n !\n !     Nothing was saved to the build cache.\n\n"


def test_compile_reads_config_vars_from_a_relative_env_dir(dirs):
    # compile changes into BUILD_DIR: a relative ENV_DIR must still be found,
    # and a relative CACHE_DIR too (the report is there: the app has no .heroku).
    build, cache, env = dirs
    (build / "requirements.txt").write_text("")
    (build / ".python-version").write_text("3.12\n")
    (env / "PYTHON_RUNTIME_BASE_URL").write_text("ftp://mirror.example.com/python")
    result = subprocess.run(
        [str(BIN / "compile"), "build", "cache", "env"], cwd=build.parent, capture_output=True, text=True,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "NO_COLOR": "1", "STACK": "heroku-24"},
    )
    assert_clean_failure(result, build, cache, "runtime-mirror::invalid-url")
    assert not (build / "cache").exists()


@pytest.mark.parametrize("name, probed", [("python3.12", False), ("python3.9", True), ("python3-custom", True)])
def test_a_python3_named_for_its_version_starts_once(tmp_path, name, probed):
    """launch.sh tells a python3.X's version from its name: no interpreter
    start-up to ask it (the probe is for pythons named otherwise)."""
    launch = (BIN.parent / "lib" / "launch.sh").read_text()
    fake = tmp_path / "bin"
    fake.mkdir()
    calls = tmp_path / "calls"
    (fake / name).write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexit 0\n')
    (fake / name).chmod(0o755)
    (fake / "python3").symlink_to(name)
    script = launch.replace("/usr/bin/python3 /usr/local/bin/python3 ", f"{fake / 'python3'} ")
    (tmp_path / "launch.sh").write_text(script)
    subprocess.run(["bash", str(tmp_path / "launch.sh"), "detect", "/tmp"], env={"PATH": "/usr/bin:/bin"},
                   capture_output=True, text=True, check=True)
    runs = calls.read_text().splitlines()
    assert runs[-1].endswith("main.py detect /tmp")
    assert len(runs) == (2 if probed else 1)


@pytest.mark.parametrize("value, error_id", [("backnd", "config::app-dir-missing"),
                                             ("/app/backend", "config::app-dir-absolute"),
                                             ("../elsewhere", "config::app-dir-outside")])
def test_an_unusable_app_dir_fails_compile_cleanly(dirs, value, error_id):
    build, cache, env = dirs
    (build / "backend").mkdir()
    (build / "backend" / "requirements.txt").write_text("")
    (env / "PYTHON_APP_DIR").write_text(value)
    result = run("compile", *dirs, env={"STACK": "heroku-24"})
    error = assert_clean_failure(result, build, cache, error_id)
    assert value not in error["detail"]  # the report holds no config var's value
    assert "Building the app in" not in result.stdout


def test_detect_and_release_of_an_app_in_a_subdirectory(dirs):
    """dokku and herokuish pass config vars in the environment; bin/release
    reads what compile recorded (on Heroku it gets no config vars)."""
    build = dirs[0]
    (build / "frontend").mkdir()
    (build / "backend").mkdir()
    (build / "backend" / "requirements.txt").write_text("")
    assert run("detect", build).returncode == 1
    assert run("detect", build, env={"PYTHON_APP_DIR": "backend"}).stdout == "Python\n"
    (build / ".heroku").mkdir()
    (build / ".heroku" / "python-app-dir").write_text("frontend/../nowhere\n")
    result = run("release", build, dirs[1])
    assert result.returncode == 1 and "PYTHON_APP_DIR" in result.stderr and "Traceback" not in result.stderr


def test_bin_test_runs_in_the_app_dir_compile_recorded(dirs, monkeypatch):
    from python_buildpack import app_tests

    build = dirs[0]
    (build / "backend").mkdir()
    (build / ".heroku").mkdir()
    (build / ".heroku" / "python-app-dir").write_text("backend\n")
    ran = []
    monkeypatch.setattr(app_tests, "run_app_tests", lambda app: ran.append(app) or 0)
    assert cli.run_tests([str(build), str(dirs[2])]) == 0
    assert ran == [build.resolve() / "backend"]
