from __future__ import annotations

import pytest

from python_buildpack import release

MANAGE_PY = 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "{module}")\n'


def django_project(tmp_path, module="mysite.settings", wsgi_dir="mysite", gunicorn=True):
    (tmp_path / "manage.py").write_text(MANAGE_PY.format(module=module))
    (tmp_path / wsgi_dir).mkdir(parents=True, exist_ok=True)
    (tmp_path / wsgi_dir / "wsgi.py").write_text("application = object()\n")
    if gunicorn:
        site = tmp_path / ".heroku/python/lib/python3.13/site-packages/gunicorn"
        site.mkdir(parents=True)
        (site / "__init__.py").write_text("")
    return tmp_path


def test_django_project_gets_a_web_process(tmp_path):
    django_project(tmp_path)
    assert release.release_yaml(tmp_path) == "---\ndefault_process_types:\n  web: gunicorn mysite.wsgi\n"


def test_split_settings_module(tmp_path):
    django_project(tmp_path, module="config.settings.production", wsgi_dir="config")
    assert release.default_web_process(tmp_path) == "gunicorn config.wsgi"


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
    assert release.default_web_process(tmp_path) is None
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
