"""Django static files, build hooks, process types and config vars at build time."""

from __future__ import annotations

import subprocess
from pathlib import Path

from test_builds import failed, ok


def test_django_static_files_served_by_whitenoise(herokuish, fixture_app):
    log = ok(herokuish.build(fixture_app("django_app"))).stdout
    assert "-----> $ python manage.py collectstatic --noinput" in log
    assert "static file copied" in log
    assert herokuish.fetch("/").text == "Hello from Django 5.2.8 on Python 3.13"
    css = herokuish.fetch("/static/hello.css")
    assert css.status_code == 200 and css.text == "body { color: rebeccapurple; }\n"


def test_django_without_procfile_gets_a_default_web_process(herokuish, fixture_app):
    outcome = herokuish.build(fixture_app("django_app", {"Procfile": None}))
    ok(outcome)
    assert "-----> No Procfile: the web process defaults to 'gunicorn hello_site.wsgi'" in outcome.compile.stdout
    assert outcome.release.stdout == "---\ndefault_process_types:\n  web: gunicorn hello_site.wsgi\n"
    assert herokuish.fetch("/").text == "Hello from Django 5.2.8 on Python 3.13"


STARLETTE_APP = """\
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def index(request):
    return PlainTextResponse("Hello from Starlette")

app = Starlette(routes=[Route("/", index)])
"""
FLASK_FACTORY = """\
from flask import Flask


def create_app():
    app = Flask(__name__)
    app.add_url_rule("/", "index", lambda: "Hello from a Flask app factory")
    return app
"""


def test_asgi_apps_without_procfile_get_a_uvicorn_web_process(herokuish, fixture_app):
    outcome = herokuish.build(fixture_app("fastapi_app"))
    log = ok(outcome).stdout
    uvicorn = "uvicorn main:app --host 0.0.0.0 --port $PORT"
    assert f"-----> No Procfile: the web process defaults to '{uvicorn}'\n" \
           "       Inferred from the FastAPI app 'app' in main.py, with uvicorn installed." in log
    assert outcome.release.stdout == f"---\ndefault_process_types:\n  web: {uvicorn}\n"
    web = herokuish.start()
    try:
        assert web.get("/").text == "Hello from FastAPI on Python 3.12"
        assert f"Uvicorn running on http://0.0.0.0:{web.port}" in web.log.read_text()
    finally:
        web.stop()

    # A Starlette app, in app.py.
    outcome = herokuish.build(fixture_app("fastapi_app", {"main.py": None, "app.py": STARLETTE_APP}))
    assert "Inferred from the Starlette app 'app' in app.py, with uvicorn installed." in ok(outcome).stdout
    assert outcome.release.stdout == \
        "---\ndefault_process_types:\n  web: uvicorn app:app --host 0.0.0.0 --port $PORT\n"
    assert herokuish.fetch("/").text == "Hello from Starlette"


def test_a_procfile_wins_over_an_inferred_web_process(herokuish, fixture_app):
    outcome = herokuish.build(fixture_app("fastapi_app", {"Procfile": "web: python -m http.server $PORT\n"}))
    assert "No Procfile" not in ok(outcome).stdout and "Procfile" not in outcome.compile.stderr
    assert outcome.release.stdout == ""
    assert "main.py" in herokuish.fetch("/").text  # http.server's listing of /app


def test_flask_apps_without_procfile_get_a_gunicorn_web_process(herokuish, fixture_app):
    outcome = herokuish.build(fixture_app("flask_app", {"Procfile": None}))
    assert "-----> No Procfile: the web process defaults to 'gunicorn app:app'\n" \
           "       Inferred from the Flask app 'app' in app.py, with gunicorn installed." in ok(outcome).stdout
    assert outcome.release.stdout == "---\ndefault_process_types:\n  web: gunicorn app:app\n"
    assert herokuish.fetch("/").text == "Hello from Flask on Python 3.12"

    outcome = herokuish.build(fixture_app("flask_app", {"Procfile": None, "app.py": FLASK_FACTORY}))
    assert "Inferred from the Flask app factory create_app() in app.py, with gunicorn installed." \
        in ok(outcome).stdout
    assert outcome.release.stdout == "---\ndefault_process_types:\n  web: gunicorn 'app:create_app()'\n"
    assert herokuish.fetch("/").text == "Hello from a Flask app factory"


def test_app_without_procfile_is_told_to_add_one(herokuish, fixture_app):
    outcome = herokuish.build(fixture_app("minimal_app", {"Procfile": None}))
    assert "Note: The app has no Procfile, so it has no web process." in ok(outcome).stderr
    assert outcome.release.stdout == ""


def test_failing_collectstatic(herokuish, fixture_app):
    settings = (fixture_app("django_app") / "hello_site" / "settings.py").read_text()
    broken = settings.replace('STATIC_ROOT = BASE_DIR / "staticfiles"\n', "")
    result = failed(herokuish.build(fixture_app("django_app", {"hello_site/settings.py": broken})),
                    "collectstatic::failed")
    assert "ImproperlyConfigured" in result.stdout and "STATIC_ROOT" in result.stdout
    assert "DISABLE_COLLECTSTATIC=1" in result.stderr


def test_collectstatic_can_be_disabled(herokuish, fixture_app):
    herokuish.config["DISABLE_COLLECTSTATIC"] = "1"
    log = ok(herokuish.build(fixture_app("django_app"))).stdout
    assert "-----> Skipping Django collectstatic since DISABLE_COLLECTSTATIC is set" in log
    assert "collectstatic --noinput" not in log


HOOK = """#!/usr/bin/env bash
set -euo pipefail
echo "{name}: GREETING=$GREETING BUILD_DIR=$BUILD_DIR"
echo "{name}: python=$(command -v python || echo none)"
touch "$BUILD_DIR/{name}-ran"
"""


def test_build_hooks_run_with_config_vars(herokuish, fixture_app, stack):
    herokuish.config.update({"GREETING": "hello from a config var", "PATH": "/nonexistent"})
    source = fixture_app("minimal_app", {
        "bin/pre_compile": HOOK.format(name="pre_compile"),
        "bin/post_compile": HOOK.format(name="post_compile"),
    })
    outcome = herokuish.build(source)
    result = ok(outcome)
    log = result.stdout
    assert "-----> Running bin/pre_compile hook" in log and "-----> Running bin/post_compile hook" in log
    assert f"       pre_compile: GREETING=hello from a config var BUILD_DIR={outcome.build_dir}" in log
    assert "       pre_compile: python=none" in log  # Python isn't installed yet
    assert "       post_compile: python=/app/.heroku/python/bin/python" in log
    assert log.index("pre_compile:") < log.index("Using the pip package manager") < log.index("post_compile:")
    assert "Warning: Some config vars aren't used at build time." in result.stderr and "PATH" in result.stderr
    assert stack.host_path("/app/pre_compile-ran").exists() and stack.host_path("/app/post_compile-ran").exists()


def test_failing_hook(herokuish, fixture_app):
    source = fixture_app("minimal_app", {"bin/post_compile": "#!/bin/sh\necho 'migrations failed'\nexit 3\n"})
    result = failed(herokuish.build(source), "hooks::post-compile")
    assert "       migrations failed" in result.stdout and "exited with status 3" in result.stderr


INLINE_COMPILE = """#!/usr/bin/env bash
# A second buildpack: uses the Python the first one installed.
set -euo pipefail
build_dir=$1
echo "-----> Inline buildpack"
python -c "import flask, sys; print('python', sys.version.split()[0], 'flask', flask.__name__)"
pip --version
python -c "import flask; open('$build_dir/inline-ran', 'w').write('yes')"
"""


def test_a_second_buildpack_gets_python_pip_and_the_apps_dependencies(herokuish, fixture_app, stack, runtime_archives):
    inline = stack.host_path(f"{stack.tmp_dir}/inline/bin/compile")
    inline.parent.mkdir(parents=True)
    inline.write_text(INLINE_COMPILE)
    inline.chmod(0o755)
    # heroku-buildpack-multi: source the export file (set -e), run the next compile.
    outcome = herokuish.build(fixture_app("flask_app"),
                              later_buildpack=f'{stack.tmp_dir}/inline/bin/compile "$PWD" /tmp/cache /tmp/env')
    ok(outcome)
    result = outcome.later_buildpack
    assert result.returncode == 0, result.output
    assert f"python {runtime_archives.versions['3.12']} flask flask" in result.stdout
    assert "pip 26" in result.stdout
    assert stack.host_path("/app/inline-ran").read_text() == "yes"


def test_web_defaults_at_run_time(herokuish, fixture_app):
    ok(herokuish.build(fixture_app("minimal_app")))
    result = herokuish.run_in_app('echo "$WEB_CONCURRENCY|$FORWARDED_ALLOW_IPS|$GUNICORN_CMD_ARGS"',
                                  {"GUNICORN_CMD_ARGS": "--timeout 5"})
    concurrency, forwarded, gunicorn_args = result.stdout.strip().split("|")
    assert int(concurrency) >= 1 and forwarded == "*" and gunicorn_args == "--timeout 5"


def test_heroku_ci_test_compile_and_test(herokuish, fixture_app):
    outcome, tests = herokuish.test(fixture_app("tested_app"))
    log = ok(outcome).stdout
    assert "-----> Installing dependencies using 'uv pip install -r requirements.txt -r requirements-test.txt'" in log
    assert tests.returncode == 0, tests.output
    assert "-----> Running the app's tests: python -m pytest" in tests.stdout
    assert "1 passed" in tests.stdout

    failing = "from greeting import greet\n\n\ndef test_greet():\n    assert greet('x') == 'Goodbye'\n"
    outcome, tests = herokuish.test(fixture_app("tested_app", {"tests/test_greeting.py": failing}))
    ok(outcome)
    assert tests.returncode == 1 and "1 failed" in tests.stdout


def test_production_build_leaves_test_dependencies_out(herokuish, fixture_app):
    ok(herokuish.build(fixture_app("tested_app")))
    assert herokuish.run_in_app("python -c 'import pytest'").returncode == 1


def test_django_tests_without_pytest(herokuish, fixture_app):
    tests_py = "from django.test import SimpleTestCase\n\n\nclass T(SimpleTestCase):\n    def test_ok(self):\n        self.assertTrue(True)\n"
    outcome, tests = herokuish.test(fixture_app("django_app", {"hello_site/tests.py": tests_py}))
    assert "Skipping Django collectstatic for the test build" in ok(outcome).stdout
    assert tests.returncode == 0, tests.output
    assert "-----> Running the app's tests: python manage.py test" in tests.stdout
    assert "Ran 1 test" in tests.stdout + tests.stderr


def test_nltk_corpora(herokuish, fixture_app, mirror):
    herokuish.config["NLTK_DOWNLOAD_URL"] = f"{mirror.url('nltk')}/index.xml"
    log = ok(herokuish.build(fixture_app("nltk_app"))).stdout
    assert "-----> Downloading NLTK packages: tiny_corpus" in log
    result = herokuish.run_in_app("python -c \"import nltk; print(nltk.data.find('corpora/tiny_corpus/words.txt'))\"")
    assert result.stdout == "/app/.heroku/python/nltk_data/corpora/tiny_corpus/words.txt\n", result.output


def test_nltk_unknown_corpus(herokuish, fixture_app, mirror):
    herokuish.config["NLTK_DOWNLOAD_URL"] = f"{mirror.url('nltk')}/index.xml"
    result = failed(herokuish.build(fixture_app("nltk_app", {"nltk.txt": "tiny_corpus\nno_such_corpus\n"})),
                    "nltk::download-failed")
    assert "no_such_corpus" in result.stdout


def make_git_repo(directory: Path) -> None:
    """A local git repository with one package, for a VCS editable."""
    package = directory / "src" / "vcslib"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("import pathlib\nWHERE = str(pathlib.Path(__file__).parent)\n")
    (directory / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "vcslib"\nversion = "1.0"\n')
    git = ["git", "-C", str(directory), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "vcslib"]):
        subprocess.run(git + args, check=True)


def test_editable_installs_work_from_app_and_in_later_builds(herokuish, fixture_app):
    # -e ./mylib: a path into the build dir. -e git+file://: a VCS checkout,
    # in /app/.heroku/python/src (herokuish keeps the source in /app while building).
    source = fixture_app("editable_app")
    make_git_repo(source / "vcslib-repo")
    with open(source / "requirements.txt", "a") as requirements:
        requirements.write("-e git+file:///app/vcslib-repo#egg=vcslib\n")
    first = herokuish.build(source)
    ok(first)
    assert herokuish.fetch("/").text == "Hello from an editable install at /app/mylib/src/mylib"

    second = herokuish.build(source)
    log = ok(second).stdout
    assert "The install runs again since requirements.txt has an editable requirement." in log
    assert herokuish.fetch("/").text == "Hello from an editable install at /app/mylib/src/mylib"
    # Sourcing the profile again (a one-off `heroku run`) changes nothing.
    result = herokuish.run_in_app(
        "for f in .profile.d/*.sh; do source $f; done; python -c 'import mylib, vcslib; print(mylib.GREETING); print(vcslib.WHERE)'")
    assert result.stdout == ("Hello from an editable install at /app/mylib/src/mylib\n"
                             "/app/.heroku/python/src/vcslib/src/vcslib\n"), result.output
