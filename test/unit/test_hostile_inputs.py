"""Hostile or broken input from the app's files, its config vars, the build
environment and its hooks: each ends in one clear error or a correct build,
never a hang, a traceback or a printed secret."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from python_buildpack import app_files, checks, commands, environment, hooks, pip, python_location, report
from python_buildpack.config_vars import IGNORED, REFUSED, TOOL_SETTINGS, BuildConfig, tool_setting
from python_buildpack.errors import BuildError
from conftest import within

SECRET = "s3cret-value-do-not-print"


def refuse_to_read(path, limit=0):
    """app_files.read_bytes as for a file the build user may not read (the
    unit tests run as root, whom permissions don't stop)."""
    raise PermissionError(13, "Permission denied")


@pytest.fixture
def env_dir(tmp_path):
    directory = tmp_path / "env"
    directory.mkdir()
    (directory / "SECRET_KEY").write_text(SECRET)
    return directory


# --- ENV_DIR entries that aren't config var files ------------------------------

def test_special_files_in_env_dir_are_skipped_with_a_warning(env_dir, tmp_path, capsys):
    os.mkfifo(env_dir / "A_FIFO")
    (env_dir / "A_DIRECTORY").mkdir()
    (env_dir / "A_DEVICE").symlink_to("/dev/zero")
    (env_dir / "TOO_LARGE").write_bytes(b"x" * (1024 * 1024 + 1))
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(env_dir / "A_SOCKET"))
    try:
        config = BuildConfig(env_dir, {"A_FIFO": "from the environment"})
        values = within(5, hooks.app_config, config)
        assert values == {"SECRET_KEY": SECRET}
        err = capsys.readouterr().err
        assert "Warning: Some config vars can't be read." in err
        for line in ("A_FIFO: is a named pipe (FIFO), not a regular file", "A_DIRECTORY: is a directory",
                     "A_DEVICE: is a device", "A_SOCKET: is a socket", "TOO_LARGE: is larger than 1 MB"):
            assert line in err
        assert SECRET not in err
        # Every other way of reading them doesn't block either.
        assert within(5, config.get, "A_FIFO") == "from the environment"
        assert within(5, config.matching, r"A_.*") == {"A_FIFO": "from the environment"}
        assert within(5, config.tool_settings) == []
    finally:
        listener.close()


def test_app_files_reader(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    for path, problem in ((tmp_path / "fifo", "a named pipe (FIFO), not a regular file"),
                          (Path("/dev/zero"), "a device, not a regular file"),
                          (tmp_path, "a directory, not a regular file")):
        with pytest.raises(app_files.NotUsable, match=problem.replace("(", r"\(").replace(")", r"\)")):
            within(5, app_files.read_bytes, path)
    (tmp_path / "big").write_bytes(b"x" * 11)
    with pytest.raises(app_files.NotUsable, match="larger than"):
        app_files.read_bytes(tmp_path / "big", limit=10)
    assert app_files.read_bytes(tmp_path / "big", limit=11) == b"x" * 11
    with pytest.raises(FileNotFoundError):
        app_files.read_bytes(tmp_path / "missing")


# --- settings that would install the dependencies outside the slug -------------

def test_every_tool_setting_has_an_action_and_a_reason():
    for name, setting in TOOL_SETTINGS.items():
        assert setting.action in (IGNORED, REFUSED) and len(setting.reason) > 20, name
    assert tool_setting("POETRY_VIRTUALENVS_IN_PROJECT") is TOOL_SETTINGS["POETRY_VIRTUALENVS_"]
    assert tool_setting("PIP_INDEX_URL") is None and tool_setting("POETRY_HTTP_BASIC_X_PASSWORD") is None
    assert tool_setting("PDM_USE_VENV").action == IGNORED and tool_setting("PDM_PYPI_URL") is None
    assert tool_setting("PDM_IGNORE_SAVED_PYTHON").action == IGNORED and tool_setting("PDM_CACHE_DIR") is None


def test_ignored_tool_settings_never_reach_the_builds_tools(env_dir, tmp_path, capsys):
    (env_dir / "PIP_TARGET").write_text(f"/tmp/{SECRET}")
    (env_dir / "POETRY_VIRTUALENVS_IN_PROJECT").write_text("true")
    environ = {"PATH": "/usr/bin", "PIP_USER": "1", "VIRTUAL_ENV": f"/{SECRET}", "UV_PROJECT_ENVIRONMENT": "/x",
               "PIP_INDEX_URL": "https://private/simple", "PIP_PREFIX": ""}
    config = BuildConfig(env_dir, environ)
    checks.tool_settings_honoured(config)
    err = capsys.readouterr().err
    assert "Warning: Some package manager settings are ignored during the build." in err
    assert "PIP_TARGET (config var): pip would install into that directory" in err
    assert "PIP_USER (build environment): pip would install into the user's home directory" in err
    assert "POETRY_VIRTUALENVS_IN_PROJECT (config var)" in err and "VIRTUAL_ENV (build environment)" in err
    assert "PIP_PREFIX" not in err  # empty: unset
    assert SECRET not in err
    # Neither the build's tools nor the app's build-time code get them.
    location = python_location.PythonLocation(tmp_path / "python", tmp_path / "python")
    for env in (python_location.clean_env(environ), environment.build_env(location, environ)):
        assert not {"PIP_USER", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PIP_PREFIX"} & env.keys()
        assert env["PIP_INDEX_URL"] == "https://private/simple"
    assert config.app_config().values == {"SECRET_KEY": SECRET}


@pytest.mark.parametrize("name", ["PIPENV_PIPFILE", "UV_PROJECT", "PDM_PROJECT", "PDM_LOCKFILE"])
@pytest.mark.parametrize("where", ["config var", "build environment"])
def test_refused_tool_settings(env_dir, name, where):
    environ = {name: f"/elsewhere/{SECRET}"} if where == "build environment" else {}
    if where == "config var":
        (env_dir / name).write_text(f"/elsewhere/{SECRET}")
    with pytest.raises(BuildError) as error:
        checks.tool_settings_honoured(BuildConfig(env_dir, environ))
    assert (error.value.id, error.value.detail) == ("checks::tool-setting-refused", name)
    assert f"config:unset {name}" in error.value.body and SECRET not in str(error.value)


# --- .heroku ------------------------------------------------------------------

@pytest.mark.parametrize("make, what", [
    (lambda app, outside: (app / ".heroku").write_text("x"), "a file, not a directory"),
    (lambda app, outside: (app / ".heroku").symlink_to(outside / "missing"), "which doesn't exist"),
    (lambda app, outside: (app / ".heroku").symlink_to(outside), "(a directory outside the app)"),
    (lambda app, outside: ((app / "h").mkdir(), (app / ".heroku").symlink_to("h")), "(a directory in the app)"),
])
def test_heroku_dir_must_be_the_apps_own_directory(tmp_path, make, what):
    app, outside = tmp_path / "app", tmp_path / "outside"
    app.mkdir()
    outside.mkdir()
    make(app, outside)
    with pytest.raises(BuildError) as error:
        checks.no_existing_python_dir(app)
    assert error.value.id == "checks::heroku-dir-unusable"
    assert what in error.value.body


def test_a_heroku_dir_without_python_is_fine(tmp_path):
    (tmp_path / ".heroku").mkdir()
    (tmp_path / ".heroku" / "collectstatic_disabled").write_text("")
    checks.no_existing_python_dir(tmp_path)


# --- hooks --------------------------------------------------------------------

def write_hook(app: Path, text: str | bytes, name: str = "post_compile") -> Path:
    hook = app / "bin" / name
    hook.parent.mkdir(exist_ok=True)
    hook.write_bytes(text if isinstance(text, bytes) else text.encode())
    hook.chmod(0o755)
    return hook


HOOK_ENV = {"PATH": "/usr/bin:/bin"}


def test_a_background_process_holding_the_hooks_output_does_not_hang_the_build(tmp_path, capsys):
    pid_file = tmp_path / "pid"
    write_hook(tmp_path, f"#!/bin/sh\necho first\nsleep 120 &\necho $! > {pid_file}\necho last\n")
    started = time.monotonic()
    try:
        within(30, hooks.run_hook, "post_compile", tmp_path, HOOK_ENV)
        elapsed = time.monotonic() - started
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert elapsed < commands.DRAIN_SECONDS + 5
    assert capsys.readouterr().out.endswith("       first\n       last\n")


def test_all_output_of_a_command_is_kept(tmp_path, capsys):
    # Much more than a pipe holds, and a last line without a newline.
    result = commands.run_streamed(["sh", "-c", "seq 1 100000; printf end"], HOOK_ENV, quiet=True)
    assert result.ok and result.output.endswith("99999\n100000\nend") and result.output.count("\n") == 100000


def test_a_hook_with_windows_line_endings(tmp_path):
    write_hook(tmp_path, b"#!/bin/bash\r\necho hi\r\n", "pre_compile")
    with pytest.raises(BuildError) as error:
        hooks.run_hook("pre_compile", tmp_path, HOOK_ENV)
    assert (error.value.id, error.value.detail) == ("hooks::pre-compile", "crlf-line-endings")
    assert "dos2unix bin/pre_compile" in error.value.body and ".gitattributes" in error.value.body
    assert "core.autocrlf" in error.value.body


@pytest.mark.parametrize("content, in_body", [
    ("#!/bin/no-such-shell\necho hi\n", "(#!/bin/no-such-shell) doesn't exist"),
    (b"\x7fELF\x00\x00garbage", "Exec format error"),
])
def test_a_hook_that_cannot_start(tmp_path, content, in_body):
    write_hook(tmp_path, content)
    with pytest.raises(BuildError) as error:
        hooks.run_hook("post_compile", tmp_path, HOOK_ENV)
    assert (error.value.id, error.value.detail) == ("hooks::post-compile", "not-started")
    assert in_body in error.value.body


def test_a_config_var_too_large_for_a_hook(tmp_path):
    write_hook(tmp_path, "#!/bin/sh\necho hi\n")
    env = {**HOOK_ENV, "HUGE_CERT": SECRET * 10_000}
    with pytest.raises(BuildError) as error:
        hooks.run_hook("post_compile", tmp_path, env)
    assert (error.value.id, error.value.detail) == ("build-env::variable-too-large", "HUGE_CERT")
    assert "HUGE_CERT (244 KB)" in error.value.body and "config:unset HUGE_CERT" in error.value.body
    assert SECRET not in str(error.value) + error.value.detail


def test_too_large_together():
    env = {f"VAR_{n}": "x" * 100_000 for n in range(40)}  # 4 MB: each fits, together they don't
    with pytest.raises(BuildError) as error:
        commands.run_streamed(["true"], env)
    assert error.value.id == "build-env::variable-too-large" and error.value.detail.startswith("VAR_")
    assert error.value.body.count(" (97 KB)") == 3


# --- requirements files ---------------------------------------------------------

def requirements(tmp_path, content: str | bytes, **others: str | bytes) -> Path:
    for name, text in {"requirements.txt": content, **others}.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return tmp_path


@pytest.mark.parametrize("line", [
    "a " * 500_000 + "# comment",  # whitespace runs: the old comment pattern backtracked
    " \t" * 500_000,
    "x" * 1_000_000,  # one long word: shlex.split is quadratic in it
    '-r "' + "y" * 1_000_000,  # an unbalanced quote
])
def test_a_huge_requirements_line_is_scanned_in_linear_time(tmp_path, line):
    build = requirements(tmp_path, f"flask\n{line}\n")
    started = time.process_time()  # this process's CPU time: other load can't make it flaky
    pip.inspect_requirements(build)
    assert time.process_time() - started < 2


@pytest.mark.parametrize("include, problem", [
    ("/dev/zero", "a device, not a regular file"),
    ("fifo.txt", "a named pipe (FIFO), not a regular file"),
    ("requirements", "a directory, not a regular file"),
])
def test_includes_that_are_not_files(tmp_path, include, problem):
    build = requirements(tmp_path, f"flask\n-r {include}\n", **{"requirements__base.txt": "six\n"})
    os.mkfifo(build / "fifo.txt")
    with pytest.raises(BuildError) as error:
        within(10, pip.inspect_requirements, build)
    assert (error.value.id, error.value.detail) == ("requirements-txt::unusable-include", include)
    assert problem in error.value.body


def test_a_huge_included_file(tmp_path, monkeypatch):
    monkeypatch.setattr(app_files, "MAX_BYTES", 1000)
    monkeypatch.setattr(app_files.read_bytes, "__defaults__", (1000,))
    build = requirements(tmp_path, "-c constraints.txt\n", **{"constraints.txt": "# x\n" * 1000})
    with pytest.raises(BuildError) as error:
        pip.inspect_requirements(build)
    assert (error.value.id, error.value.detail) == ("requirements-txt::unusable-include", "constraints.txt")
    assert "larger than" in error.value.body


@pytest.mark.parametrize("files, name, offset, line, included_by", [
    ({"requirements.txt": b"flask\ncaf\xe9==1.0\n"}, "requirements.txt", 9, 2, None),
    ({"requirements.txt": b"-r base.txt\n", "base.txt": b"flask\n\x80\n"}, "base.txt", 6, 2, "requirements.txt"),
])
def test_requirements_that_are_not_utf8(tmp_path, files, name, offset, line, included_by):
    for file_name, content in files.items():
        (tmp_path / file_name).write_bytes(content)
    with pytest.raises(BuildError) as error:
        pip.inspect_requirements(tmp_path)
    assert (error.value.id, error.value.detail) == ("app-files::not-utf8", name)
    assert f"byte offset {offset} (line {line})" in error.value.body and "Save it as UTF-8" in error.value.body
    assert (f"(included by {included_by})" in error.value.body) == (included_by is not None)


@pytest.mark.parametrize("content", [
    "\ufeffflask\n-e ./pkg\n".encode("utf-16"),  # pip reads a byte order mark's encoding
    "\ufeffflask\n-e ./pkg\n".encode("utf-8"),
    "# -*- coding: latin-1 -*-\ncafé\n-e ./pkg\n".encode("latin-1"),  # and a PEP 263 encoding line
])
def test_requirements_in_encodings_pip_reads(tmp_path, content):
    (tmp_path / "requirements.txt").write_bytes(content)
    assert "editable" in pip.inspect_requirements(tmp_path).reinstall_reason


def test_an_unreadable_requirements_file(tmp_path, monkeypatch):
    (tmp_path / "requirements.txt").write_text("flask\n")

    monkeypatch.setattr(app_files, "read_bytes", refuse_to_read)
    with pytest.raises(BuildError) as error:
        pip.inspect_requirements(tmp_path)
    assert (error.value.id, error.value.detail) == ("app-files::unreadable", "requirements.txt")
    assert "Permission denied" in error.value.body


# --- the real bin/compile, for failures before Python is installed -------------
# What a whole build does with hostile input that the cases above don't show:
# a read that would block, a hook's leftover process, a refused setting. Each
# error's own cases are the unit tests above.

from test_cli import BIN  # noqa: E402 - the CLI cases' helpers


def compile_app(build: Path, cache: Path, env_dir: Path, env: dict | None = None, timeout: float = 60):
    """bin/compile as the build system runs it, failing the test (not
    hanging the suite) if it doesn't finish in `timeout` seconds."""
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "NO_COLOR": "1", "STACK": "heroku-24"}
    return subprocess.run([str(BIN / "compile"), str(build), str(cache), str(env_dir)], env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def assert_one_error(result, app, error_id: str) -> dict:
    """One error block, no traceback, no secret printed, and the build report
    (`app`: the build, cache and env dirs) names the error's id, which isn't
    printed. Returns the report's error."""
    printed = result.stdout + result.stderr
    assert result.returncode == 1, printed
    assert result.stderr.count(" !     Error: ") == 1 and "Traceback" not in printed and "Internal error" not in printed
    assert SECRET not in printed
    data = report.read(app[0], app[1])
    assert data is not None and data["status"] == "failed", (data, printed)
    assert data["error"]["id"] == error_id, (data, printed)
    assert SECRET not in str(data)
    return data["error"]


@pytest.fixture
def app(tmp_path, env_dir):
    """An app whose build stops at its Python version (before any download)
    unless a check stops it first, and the build's directories."""
    build, cache = tmp_path / "build", tmp_path / "cache"
    build.mkdir()
    cache.mkdir()
    (build / "requirements.txt").write_text("flask\n")
    (build / ".python-version").write_text("three\n")
    return build, cache, env_dir


VERSION_ERROR = "python-version-file::invalid-version"


def test_cli_a_fifo_in_env_dir(app):
    os.mkfifo(app[2] / "DATABASE_URL")
    result = compile_app(*app)
    assert_one_error(result, app, VERSION_ERROR)
    assert "DATABASE_URL: is a named pipe (FIFO), not a regular file" in result.stderr


def test_cli_a_pre_compile_hook_leaving_a_background_process(app, tmp_path):
    pid_file = tmp_path / "pid"
    write_hook(app[0], f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\necho hook done\n", "pre_compile")
    try:
        started = time.monotonic()
        result = compile_app(*app)
        assert time.monotonic() - started < 30
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert_one_error(result, app, VERSION_ERROR)
    assert "       hook done\n" in result.stdout


def test_cli_a_refused_tool_setting(app):
    (app[2] / "PIPENV_PIPFILE").write_text(f"/tmp/{SECRET}/Pipfile")
    error = assert_one_error(compile_app(*app), app, "checks::tool-setting-refused")
    assert error["detail"] == "PIPENV_PIPFILE"


@pytest.mark.parametrize("name", [".python-version", "runtime.txt", "nltk.txt", "Pipfile.lock", "uv.lock"])
def test_unreadable_app_files_are_named(tmp_path, monkeypatch, name):
    from python_buildpack import nltk, python_version
    from python_buildpack.app_files import read_text

    (tmp_path / name).write_text("3.12\n")
    monkeypatch.setattr(app_files, "read_bytes", refuse_to_read)
    read = {".python-version": python_version.read_version_lines, "runtime.txt": python_version.read_version_lines,
            "nltk.txt": nltk.read_nltk_txt}.get(name, read_text)
    with pytest.raises(BuildError) as error:
        read(tmp_path / name)
    assert (error.value.id, error.value.detail) == ("app-files::unreadable", name)
    assert "Permission denied" in error.value.body


def test_release_with_an_unreadable_manage_py(tmp_path):
    from python_buildpack import web_process

    os.mkfifo(tmp_path / "manage.py")
    gunicorn = tmp_path / ".heroku/python/lib/python3.12/site-packages/gunicorn"
    gunicorn.mkdir(parents=True)
    (gunicorn / "__init__.py").write_text("")
    assert within(5, web_process.django, tmp_path, tmp_path / ".heroku/python") is None
