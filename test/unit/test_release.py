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
