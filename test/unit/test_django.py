from __future__ import annotations

import pytest

from python_buildpack import django, errors
from python_buildpack.config_vars import BuildConfig
from python_buildpack.python_location import PythonLocation


@pytest.fixture
def app(tmp_path):
    """A Django app whose 'python' fails collectstatic (or succeeds with OK=1)."""
    install = tmp_path / "build" / ".heroku" / "python"
    (install / "lib" / "python3.12" / "site-packages" / "django").mkdir(parents=True)
    (install / "lib" / "python3.12" / "site-packages" / "django" / "__init__.py").write_text("")
    (install / "bin").mkdir()
    python = install / "bin" / "python"
    python.write_text('#!/bin/sh\n[ "$OK" = 1 ] && { echo collected; exit 0; }\necho "ImproperlyConfigured: STATIC_ROOT"; exit 1\n')
    python.chmod(0o755)
    (tmp_path / "build" / "manage.py").write_text("")
    (tmp_path / "env").mkdir()
    return tmp_path


def run(app, config_vars=None, environ=None, env=None):
    for name, value in (config_vars or {}).items():
        (app / "env" / name).write_text(value)
    location = PythonLocation(app / "build" / ".heroku" / "python", app / "build" / ".heroku" / "python")
    django.collectstatic(location, app / "build", BuildConfig(app / "env", environ or {}),
                         {"PATH": "/usr/bin:/bin", **(env or {})})


def test_debug_collectstatic_lists_names_never_values(app, capsys):
    env = {"SECRET_KEY": "hunter2-very-secret", "DATABASE_URL": "postgres://u:pw@h/db"}
    with pytest.raises(errors.BuildError) as raised:
        run(app, {"DEBUG_COLLECTSTATIC": "1"}, env=env)
    assert raised.value.id == "collectstatic::failed"
    out = capsys.readouterr().out
    assert "hunter2-very-secret" not in out and "postgres://" not in out
    listed = out.split("names only, values hidden):\n", 1)[1].split()
    assert listed == ["DATABASE_URL", "PATH", "PYTHONPATH", "SECRET_KEY"]


@pytest.mark.parametrize("value, where", [("1", "environ"), ("true", "config"), ("0", "config"), (None, "")])
def test_environment_is_listed_only_for_exactly_1(app, capsys, value, where):
    config_vars = {"DEBUG_COLLECTSTATIC": value} if where == "config" else {}
    environ = {"DEBUG_COLLECTSTATIC": value} if where == "environ" else {}
    with pytest.raises(errors.BuildError):
        run(app, config_vars, environ)
    assert ("Collectstatic environment variables" in capsys.readouterr().out) == (value == "1")


def test_success_lists_nothing(app, capsys):
    run(app, {"DEBUG_COLLECTSTATIC": "1"}, env={"OK": "1"})
    assert "Collectstatic environment variables" not in capsys.readouterr().out


def test_collectstatic_disabled_file_still_works_with_a_warning(app, capsys):
    (app / "build" / ".heroku" / "collectstatic_disabled").write_text("")
    run(app)
    captured = capsys.readouterr()
    assert "-----> Skipping Django collectstatic since the file '.heroku/collectstatic_disabled' exists" in captured.out
    assert "Warning: The .heroku/collectstatic_disabled file is deprecated." in captured.err
    assert "DISABLE_COLLECTSTATIC=1" in captured.err


def test_collectstatic_disabled_file_with_the_config_var(app, capsys):
    (app / "build" / ".heroku" / "collectstatic_disabled").write_text("")
    run(app, {"DISABLE_COLLECTSTATIC": "1"})
    captured = capsys.readouterr()
    assert "since DISABLE_COLLECTSTATIC is set" in captured.out
    assert "file is deprecated" in captured.err  # the file can go


def test_no_django_no_warning(app, capsys):
    (app / "build" / ".heroku" / "collectstatic_disabled").write_text("")
    for path in sorted((app / "build" / ".heroku" / "python" / "lib").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    run(app)
    assert capsys.readouterr() == ("", "")


def test_find_manage_py_prefers_the_shallowest(tmp_path):
    assert django.find_manage_py(tmp_path) is None
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c" / "manage.py").write_text("")  # three levels down: too deep
    assert django.find_manage_py(tmp_path) is None
    (tmp_path / "a" / "b" / "manage.py").write_text("")
    assert django.find_manage_py(tmp_path) == tmp_path / "a" / "b" / "manage.py"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "manage.py").write_text("")
    assert django.find_manage_py(tmp_path) == tmp_path / "src" / "manage.py"
    (tmp_path / "manage.py").write_text("")
    assert django.find_manage_py(tmp_path) == tmp_path / "manage.py"
