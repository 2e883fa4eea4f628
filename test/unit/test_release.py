from __future__ import annotations

import re

import pytest

from python_buildpack import release

MANAGE_PY = 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "{module}")\n'
FASTAPI = "from fastapi import FastAPI\napp = FastAPI()\n"
FACTORY = "import flask\ndef create_app():\n    return flask.Flask(__name__)\n"


def install(app_dir, *packages):
    site = app_dir / ".heroku/python/lib/python3.13/site-packages"
    for package in packages:
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text("")
    (site / "gunicorn-23.0.0.dist-info").mkdir(parents=True)


def django_project(tmp_path, module="mysite.settings", wsgi_dir="mysite", gunicorn=True):
    (tmp_path / "manage.py").write_text(MANAGE_PY.format(module=module))
    (tmp_path / wsgi_dir).mkdir(parents=True, exist_ok=True)
    (tmp_path / wsgi_dir / "wsgi.py").write_text("application = object()\n")
    install(tmp_path, *(["gunicorn"] if gunicorn else []))
    return tmp_path


def test_django_project_gets_a_web_process(tmp_path):
    django_project(tmp_path)
    assert release.release_yaml(tmp_path) == "---\ndefault_process_types:\n  web: gunicorn mysite.wsgi\n"


@pytest.mark.parametrize("change", ["procfile", "no gunicorn", "no wsgi", "no manage.py"])
def test_nothing_is_offered_unless_safe(tmp_path, change):
    django_project(tmp_path, gunicorn=change != "no gunicorn")
    if change == "procfile":
        (tmp_path / "Procfile").write_text("web: gunicorn other.wsgi\n")
    elif change == "no wsgi":
        (tmp_path / "mysite" / "wsgi.py").unlink()
    elif change == "no manage.py":
        (tmp_path / "manage.py").unlink()
    assert release.release_yaml(tmp_path) == ""


def test_fastapi_app_gets_a_web_process(tmp_path):
    (tmp_path / "main.py").write_text(FASTAPI)
    install(tmp_path, "fastapi", "uvicorn")
    assert release.release_yaml(tmp_path) == (
        "---\ndefault_process_types:\n  web: uvicorn main:app --host 0.0.0.0 --port $PORT\n")


def test_a_procfile_always_wins(tmp_path, capsys):
    (tmp_path / "main.py").write_text(FASTAPI)
    install(tmp_path, "fastapi", "uvicorn")
    (tmp_path / "Procfile").write_text("worker: python main.py\n")  # even without a web process
    assert release.release_yaml(tmp_path) == ""
    release.note_process_types(tmp_path)
    assert capsys.readouterr() == ("", "")


def test_commands_are_plain_yaml_scalars(tmp_path):
    """What herokuish's go-yaml and Heroku read as the command itself: no
    quoting needed, since no `: `, ` #` or leading indicator is in it."""
    (tmp_path / "app.py").write_text(FACTORY)
    install(tmp_path, "flask", "gunicorn")
    document = release.release_yaml(tmp_path)
    assert document == "---\ndefault_process_types:\n  web: gunicorn 'app:create_app()'\n"
    command = document.splitlines()[-1][len("  web: "):]
    assert ": " not in command and " #" not in command and re.match(r"[a-z]", command)


def test_the_log_says_what_was_inferred_and_from_what(tmp_path, capsys):
    (tmp_path / "main.py").write_text(FASTAPI)
    install(tmp_path, "fastapi", "uvicorn")
    release.note_process_types(tmp_path)
    assert capsys.readouterr().out == (
        "-----> No Procfile: the web process defaults to 'uvicorn main:app --host 0.0.0.0 --port $PORT'\n"
        "       Inferred from the FastAPI app 'app' in main.py, with uvicorn installed. A Procfile replaces it.\n")


def test_the_log_says_a_procfile_is_needed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    release.note_process_types(tmp_path)
    out, err = capsys.readouterr()
    assert out == ""
    assert " !     Note: The app has no Procfile, so it has no web process.\n !\n !     Add a file named" in err
    assert "FastAPI or Starlette app object in main.py or app.py, and uvicorn installed" in err


def test_the_procfile_notice_says_why_nothing_was_inferred(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "main.py").write_text(FASTAPI)
    install(tmp_path, "fastapi")
    release.note_process_types(tmp_path)
    err = capsys.readouterr().err
    assert (" !     Note: The app has no Procfile, so it has no web process.\n !\n"
            " !     main.py has the FastAPI app 'app', but uvicorn is not installed:\n"
            " !     add it to the app's dependencies to have it served.\n !\n !     Add a file") in err


def monorepo_project(tmp_path):
    """A Django project in backend/, gunicorn in the slug's Python (at the root)."""
    (tmp_path / "backend").mkdir()
    django_project(tmp_path / "backend", gunicorn=False)
    site = tmp_path / ".heroku/python/lib/python3.13/site-packages/gunicorn"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("")


def test_an_app_in_a_subdirectory_runs_from_there(tmp_path):
    """The Procfile, which wins, would be at the root."""
    monorepo_project(tmp_path)
    assert release.release_yaml(tmp_path) == ""  # the root has no manage.py
    assert release.release_yaml(tmp_path, "backend") == (
        "---\ndefault_process_types:\n  web: gunicorn --chdir backend mysite.wsgi\n")
    (tmp_path / "Procfile").write_text("web: gunicorn --chdir backend mysite.wsgi --workers 4\n")
    assert release.release_yaml(tmp_path, "backend") == ""


@pytest.mark.parametrize("command, relative, expected", [
    ("gunicorn mysite.wsgi", ".", "gunicorn mysite.wsgi"),
    ("gunicorn mysite.wsgi", "apps/api", "gunicorn --chdir apps/api mysite.wsgi"),
    ("uvicorn main:app --host 0.0.0.0 --port $PORT", "api", "uvicorn --app-dir api main:app --host 0.0.0.0 --port $PORT"),
    ("python -m mysite", "backend", None),  # no option for it, and herokuish has no shell for `cd backend &&`
    ("gunicorn mysite.wsgi", "my app", None),  # herokuish would split it
    ("gunicorn mysite.wsgi", "$HOME", None),
])
def test_an_inferred_command_is_made_to_run_from_the_app_dir(tmp_path, command, relative, expected):
    assert release.run_from(command, release.AppDir(tmp_path, relative)) == expected


def test_release_reads_the_app_dir_compile_recorded(tmp_path, capsys, monkeypatch):
    from python_buildpack import app_dir

    monorepo_project(tmp_path)
    monkeypatch.setenv("PYTHON_APP_DIR", "elsewhere")  # the build's record wins
    (tmp_path / ".heroku").mkdir(exist_ok=True)
    app_dir.record(app_dir.AppDir(tmp_path, "backend"))
    assert release.release(tmp_path) == 0
    assert capsys.readouterr().out.endswith("web: gunicorn --chdir backend mysite.wsgi\n")


def test_the_build_log_names_the_command_run_from_the_app_dir(tmp_path, capsys):
    monorepo_project(tmp_path)
    release.note_process_types(tmp_path, "backend")
    assert "No Procfile: the web process defaults to 'gunicorn --chdir backend mysite.wsgi'" in capsys.readouterr().out


def test_an_app_in_a_subdirectory_whose_server_cant_start_there_needs_a_procfile(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "my api").mkdir()
    (tmp_path / "my api" / "main.py").write_text(FASTAPI)
    install(tmp_path, "fastapi", "uvicorn")
    assert release.release_yaml(tmp_path, "my api") == ""  # herokuish would split the path
    release.note_process_types(tmp_path, "my api")
    assert "but it can't be told to start there" in capsys.readouterr().err
