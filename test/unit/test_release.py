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
