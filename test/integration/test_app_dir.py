"""An app in a subdirectory of its repository (PYTHON_APP_DIR), built
herokuish-style the way dokku builds it: the setting is a config var, and
also in the build's environment (dokku passes config vars in both)."""

from __future__ import annotations

import pytest

from test_builds import failed, ok

APP_DIR = "backend"
SERVED = "Hello from the backend's local package, served from {cwd}/"


def monorepo_build(herokuish, value: str = APP_DIR):
    herokuish.config["PYTHON_APP_DIR"] = value
    herokuish.env["PYTHON_APP_DIR"] = value
    return herokuish


def test_an_app_in_a_subdirectory_builds_boots_and_rebuilds(herokuish, fixture_app, stack, runtime_archives):
    monorepo_build(herokuish)
    source = fixture_app("monorepo_app")
    first = herokuish.build(source, later_buildpack='python -c "import django, localpkg; print(\'later:\', django.get_version())"')
    log = ok(first).stdout
    assert first.detect.stdout == "Python\n"
    assert log.startswith("-----> Building the app in backend/ (PYTHON_APP_DIR)\n")
    assert "-----> Using the pip package manager (requirements.txt)" in log
    assert "-----> Using Python 3.13 specified in .python-version" in log
    assert f"-----> Installing Python {runtime_archives.versions['3.13']}" in log
    assert "-----> Installing dependencies using 'uv pip install -r requirements.txt'" in log
    assert "+ localpkg==0.1.0 (from file://" in log and "\n        + django==5.2.8\n" in log
    assert "-----> $ python manage.py collectstatic --noinput" in log
    assert "-----> No Procfile: the web process defaults to 'gunicorn --chdir backend shop.wsgi'" in log
    # The hook is the app's, run in its directory, after Python is there.
    assert "post_compile: in backend, python=/app/.heroku/python/bin/python" in log
    assert first.later_buildpack.returncode == 0 and first.later_buildpack.stdout == "later: 5.2.8\n"
    assert first.release.stdout == "---\ndefault_process_types:\n  web: gunicorn --chdir backend shop.wsgi\n"
    assert first.report["status"] == "succeeded" and first.report["app_dir"] == "backend"

    # Python and the environment are at the slug's root; the app's files in backend/.
    slug = stack.host_path("/app")
    assert (slug / ".heroku" / "python" / "bin" / "python").exists()
    assert (slug / ".profile.d" / "python.sh").is_file()
    assert not (slug / "backend" / ".heroku").exists() and not (slug / "backend" / ".profile.d").exists()
    assert (slug / "backend" / "post_compile-ran").read_text() == f"ran in {first.build_dir}/backend\n"
    assert (slug / "backend" / "staticfiles" / "shop.css").is_file()
    assert (slug / "frontend" / "package.json").is_file()

    assert herokuish.fetch("/").text == SERVED.format(cwd="backend")
    assert herokuish.fetch("/static/shop.css").text == "h1 { color: teal; }\n"
    # The app's directory is on PYTHONPATH from anywhere; its editable package
    # points at /app, not the build dir.
    result = herokuish.run_in_app(
        'cd frontend && python -c "import shop.urls, localpkg; print(localpkg.__file__)"; echo "$PYTHONPATH"')
    assert result.returncode == 0, result.output
    assert result.stdout == "/app/backend/localpkg/src/localpkg/__init__.py\n/app/backend\n"

    second = herokuish.build(source)
    log = ok(second).stdout
    assert "-----> Restoring cache" in log
    assert f"-----> Using cached install of Python {runtime_archives.versions['3.13']}" in log
    # A local package's files aren't in requirements.txt: installed again.
    assert "The install runs again since requirements.txt has an editable requirement." in log
    assert herokuish.fetch("/").text == SERVED.format(cwd="backend")


def test_a_procfile_at_the_root_runs_the_app_by_its_path(herokuish, fixture_app):
    """A command run from the root imports the app's modules through PYTHONPATH."""
    monorepo_build(herokuish)
    herokuish.config["DISABLE_COLLECTSTATIC"] = "1"
    source = fixture_app("monorepo_app", {"Procfile": "web: gunicorn shop.wsgi\n",
                                          "bin/post_compile": "#!/bin/sh\necho 'the root hook ran'\n"})
    outcome = herokuish.build(source)
    log = ok(outcome).stdout
    assert outcome.release.stdout == ""
    assert "The repository's bin/post_compile isn't run: the hooks are read from backend/bin/." in log
    assert "the root hook ran" not in log
    assert herokuish.fetch("/").text == SERVED.format(cwd="app")


def test_detect_without_the_setting_fails(herokuish, fixture_app):
    """Heroku runs detect without config vars: the root needs a Python file there."""
    herokuish.config["PYTHON_APP_DIR"] = APP_DIR
    failed(herokuish.build(fixture_app("monorepo_app")), "This app doesn't look like a Python app.")


@pytest.mark.parametrize("value, link, error_id", [
    ("backnd", None, "config::app-dir-missing"),
    ("../backend", None, "config::app-dir-outside"),
    ("/app/backend", None, "config::app-dir-absolute"),
    ("backend/requirements.txt", None, "config::app-dir-not-a-directory"),
    ("api", "/tmp", "config::app-dir-outside"),
    ("api", "../..", "config::app-dir-outside"),
])
def test_an_unusable_app_dir_fails_the_build(herokuish, fixture_app, value, link, error_id):
    """As a config var only (detect passes on the root's .python-version):
    compile's error; in the environment too, detect's, which is the same."""
    source = fixture_app("monorepo_app", {".python-version": "3.13\n"})
    if link:
        (source / "api").symlink_to(link)
    herokuish.config["PYTHON_APP_DIR"] = value
    result = failed(herokuish.build(source), error_id)
    assert "Installing Python" not in result.stdout
    (source / ".python-version").unlink()
    herokuish.env["PYTHON_APP_DIR"] = value
    outcome = herokuish.build(source)
    assert outcome.compile is None and outcome.detect.returncode == 1
    assert "PYTHON_APP_DIR" in outcome.detect.stderr and "Traceback" not in outcome.detect.output


def test_the_apps_tests_run_in_its_directory(herokuish, fixture_app):
    """herokuish `buildpack test`: test-compile, then bin/test, which finds
    the app's directory compile recorded (Heroku CI passes no config vars)."""
    monorepo_build(herokuish)
    outcome, tests = herokuish.test(fixture_app("monorepo_app"))
    assert "Skipping Django collectstatic for the test build" in ok(outcome).stdout
    assert tests is not None and tests.returncode == 0, tests.output
    assert "-----> Running the app's tests: python manage.py test" in tests.stdout
    assert "Ran 1 test" in tests.output


def test_an_inferred_asgi_process_runs_from_the_app_dir(herokuish, fixture_app, tmp_path):
    """The FastAPI app moved into api/: uvicorn is told to import from there."""
    import shutil

    flat = fixture_app("fastapi_app")
    source = tmp_path / "fastapi_monorepo"
    shutil.copytree(flat, source / "api")
    (source / "README.md").write_text("The API is in api/.\n")
    monorepo_build(herokuish, "api")
    outcome = herokuish.build(source)
    uvicorn = "uvicorn --app-dir api main:app --host 0.0.0.0 --port $PORT"
    assert f"-----> No Procfile: the web process defaults to '{uvicorn}'\n" in ok(outcome).stdout
    assert outcome.release.stdout == f"---\ndefault_process_types:\n  web: {uvicorn}\n"
    assert herokuish.fetch("/").text == "Hello from FastAPI on Python 3.12"
