from __future__ import annotations

import pytest

from python_buildpack import hooks
from python_buildpack.errors import BuildError
from conftest import config_with


def test_app_environment_adds_the_build_dirs(tmp_path):
    config = config_with(tmp_path, {"GREETING": "hi", "BUILD_DIR": "/wrong"})
    env = hooks.app_environment({"PATH": "/usr/bin"}, hooks.app_config(config), {"BUILD_DIR": tmp_path})
    assert env == {"PATH": "/usr/bin", "GREETING": "hi", "BUILD_DIR": str(tmp_path)}


def test_protected_config_vars_warning_names_only(tmp_path, capsys):
    assert hooks.app_config(config_with(tmp_path, {"PATH": "/secret/path", "LIBRARY_PATH": "/x"})) == {}
    err = capsys.readouterr().err
    assert "LIBRARY_PATH, PATH" in err and "/secret/path" not in err


def test_hooks(tmp_path, capsys):
    (tmp_path / "bin").mkdir()
    hooks.run_hook("pre_compile", tmp_path, {"PATH": "/usr/bin:/bin"})  # no hook: nothing happens
    assert capsys.readouterr().out == ""
    hook = tmp_path / "bin" / "post_compile"
    hook.write_text("#!/bin/sh\necho \"hello $GREETING\"\n")  # not executable: made so
    hooks.run_hook("post_compile", tmp_path, {"PATH": "/usr/bin:/bin", "GREETING": "there"})
    assert capsys.readouterr().out == "-----> Running bin/post_compile hook\n       hello there\n"
    hook.write_text("#!/bin/sh\nexit 4\n")
    with pytest.raises(BuildError) as error:
        hooks.run_hook("post_compile", tmp_path, {"PATH": "/usr/bin:/bin"})
    assert (error.value.id, error.value.detail) == ("hooks::post-compile", "exit status 4")


def test_a_hook_without_a_shebang_runs_with_bash(tmp_path, capsys):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pre_compile").write_text('words=(one two)\necho "bash array: ${words[1]}"\n')
    hooks.run_hook("pre_compile", tmp_path, {"PATH": "/usr/bin:/bin"})
    assert capsys.readouterr().out == "-----> Running bin/pre_compile hook\n       bash array: two\n"


def test_a_hook_runs_in_the_directory_it_is_read_from(tmp_path, capsys):
    """compile passes the app's directory (PYTHON_APP_DIR's, in a monorepo):
    the hook is read from there, and runs there."""
    app = tmp_path / "backend"
    (app / "bin").mkdir(parents=True)
    (app / "bin" / "post_compile").write_text('#!/bin/sh\necho "in $(basename "$PWD"), root $BUILD_DIR"\n')
    hooks.run_hook("post_compile", app, {"PATH": "/usr/bin:/bin", "BUILD_DIR": str(tmp_path)})
    assert capsys.readouterr().out == f"-----> Running bin/post_compile hook\n       in backend, root {tmp_path}\n"
