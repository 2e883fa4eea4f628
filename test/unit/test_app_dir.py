"""PYTHON_APP_DIR: which values name the app's directory, which are refused
and why, where bin/release and bin/test find it, and what the log says."""

from __future__ import annotations

import pytest

from python_buildpack import app_dir
from python_buildpack.app_dir import AppDir
from python_buildpack.config_vars import BuildConfig
from python_buildpack.errors import BuildError


@pytest.fixture
def repo(tmp_path):
    """A monorepo: backend/ (the Python app), frontend/, a file at the root."""
    root = tmp_path / "build"
    for directory in ("backend/bin", "frontend", "apps/api"):
        (root / directory).mkdir(parents=True)
    (root / "backend" / "requirements.txt").write_text("flask\n")
    (root / "README.md").write_text("")
    return root


@pytest.mark.parametrize("value", [None, "", "  ", ".", "./", "backend/..", "./backend/../."])
def test_unset_empty_or_dot_is_the_root(repo, value):
    app = app_dir.resolve(repo, value)
    assert app == AppDir(repo, ".") and app.is_root and app.path == repo


@pytest.mark.parametrize("value", ["backend", "backend/", "./backend", " backend\n", "backend//", "frontend/../backend"])
def test_a_relative_path_is_normalised(repo, value):
    app = app_dir.resolve(repo, value)
    assert app.relative == "backend" and app.path == repo / "backend" and not app.is_root


def test_a_nested_directory(repo):
    assert app_dir.resolve(repo, "apps/api/").relative == "apps/api"


def test_a_link_inside_the_repository_is_followed(repo):
    (repo / "api").symlink_to("apps/api")
    (repo / "itself").symlink_to(".")
    assert app_dir.resolve(repo, "api").relative == "apps/api"
    assert app_dir.resolve(repo, "itself").is_root


def refused(repo, value) -> BuildError:
    with pytest.raises(BuildError) as raised:
        app_dir.resolve(repo, value)
    return raised.value


@pytest.mark.parametrize("value", ["/app/backend", "/", "//backend"])
def test_an_absolute_path_is_refused(repo, value):
    error = refused(repo, value)
    assert error.id == "config::app-dir-absolute"
    assert f"PYTHON_APP_DIR is set to '{value}', an absolute path" in error.body
    assert "heroku config:set PYTHON_APP_DIR=backend" in error.body


@pytest.mark.parametrize("value", ["..", "../other", "backend/../../other", "../build/backend"])
def test_going_up_out_of_the_repository_is_refused(repo, value):
    error = refused(repo, value)
    assert (error.id, error.detail) == ("config::app-dir-outside", "dot-dot")


@pytest.mark.parametrize("target", ["/etc", "../..", "../outside"])
def test_a_link_out_of_the_repository_is_refused(repo, target):
    (repo.parent / "outside").mkdir()
    (repo / "backend-link").symlink_to(target)
    error = refused(repo, "backend-link")
    assert (error.id, error.detail) == ("config::app-dir-outside", "link")
    assert "through a symbolic link" in error.body


def test_a_link_out_below_the_named_path_is_refused(repo):
    (repo / "apps" / "out").symlink_to("/tmp")
    assert refused(repo, "apps/out/x").id == "config::app-dir-outside"


def test_a_missing_directory_lists_the_root(repo):
    error = refused(repo, "backnd")
    assert error.id == "config::app-dir-missing"
    assert "PYTHON_APP_DIR is set to 'backnd', and the repository has no such directory" in error.body
    assert "    README.md\n    apps/\n    backend/\n    frontend/\n" in error.body


def test_a_dangling_link_inside_is_missing(repo):
    (repo / "gone").symlink_to("nowhere")
    assert refused(repo, "gone").id == "config::app-dir-missing"


def test_a_file_is_not_a_directory(repo):
    assert refused(repo, "backend/requirements.txt").id == "config::app-dir-not-a-directory"


def test_an_unprintable_value_is_shown_safely(repo):
    error = refused(repo, "back\x1b[31mend")
    assert "\x1b" not in error.body and "back\ufffd[31mend" in error.body


def test_a_config_var_wins_over_the_build_environment(repo, tmp_path):
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    environ = {"PYTHON_APP_DIR": "frontend"}
    assert app_dir.from_config(repo, BuildConfig(env_dir, environ)).relative == "frontend"
    (env_dir / "PYTHON_APP_DIR").write_text("backend\n")
    assert app_dir.from_config(repo, BuildConfig(env_dir, environ)).relative == "backend"


def test_release_and_test_read_what_compile_recorded(repo):
    (repo / ".heroku").mkdir()
    environ = {"PYTHON_APP_DIR": "frontend"}
    assert app_dir.recorded(repo, environ).relative == "frontend"  # no build recorded one
    app_dir.record(AppDir(repo, "backend"))
    assert (repo / ".heroku" / "python-app-dir").read_text() == "backend\n"
    assert app_dir.recorded(repo, environ).relative == "backend"
    app_dir.record(AppDir(repo))
    assert app_dir.recorded(repo, environ).is_root


def test_a_recorded_directory_that_is_gone_is_an_error(repo):
    (repo / ".heroku").mkdir()
    app_dir.record(AppDir(repo, "backend"))
    (repo / "backend" / "requirements.txt").unlink()
    (repo / "backend" / "bin").rmdir()
    (repo / "backend").rmdir()
    with pytest.raises(BuildError, match="doesn't exist"):
        app_dir.recorded(repo, {})


@pytest.mark.parametrize("relative, plain", [("backend", True), ("apps/api-v2", True), ("my app", False),
                                             ("$HOME", False), ("a'b", False), ("a;b", False)])
def test_only_plain_paths_go_in_a_command(tmp_path, relative, plain):
    assert AppDir(tmp_path, relative).is_plain is plain


def test_the_log_names_the_app_directory(repo, capsys):
    app_dir.announce(AppDir(repo, "backend"))
    assert capsys.readouterr().out == "-----> Building the app in backend/ (PYTHON_APP_DIR)\n"
    app_dir.announce(AppDir(repo))
    assert capsys.readouterr().out == ""


def test_the_log_says_which_repository_files_arent_read(repo, capsys):
    (repo / "bin").mkdir()
    (repo / "bin" / "post_compile").write_text("")
    (repo / "backend" / "bin" / "pre_compile").write_text("")
    (repo / "backend" / "Procfile").write_text("web: gunicorn app:app\n")
    app_dir.announce(AppDir(repo, "backend"))
    out = capsys.readouterr().out
    assert "The repository's bin/post_compile isn't run: the hooks are read from backend/bin/." in out
    assert "pre_compile" not in out  # only the app's
    assert "backend/Procfile isn't read: the platform reads the Procfile in the repository's root" in out
    (repo / "Procfile").write_text("web: gunicorn --chdir backend app:app\n")
    app_dir.announce(AppDir(repo, "backend"))
    assert "Procfile isn't read" not in capsys.readouterr().out
