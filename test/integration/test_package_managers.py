"""Pipenv, Poetry, uv and PDM apps, with lockfiles made by the real tools, built
and booted like pip apps; each real tool's out-of-date lockfile, and one
Python version the project doesn't allow (the other ways the files can be
wrong are unit tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_builds import failed, ok

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Each tool's name, lockfile and the log line of its install.
TOOLS = {
    "pipenv": ("Pipenv", "Pipfile.lock", "-----> Installing dependencies from Pipfile.lock using 'uv pip install'"),
    "poetry": ("Poetry", "poetry.lock", "-----> Installing dependencies using 'poetry sync --only main'"),
    "uv": ("uv", "uv.lock", "-----> Installing dependencies using 'uv sync --locked --no-default-groups'"),
    "pdm": ("PDM", "pdm.lock", "-----> Installing dependencies using 'pdm sync --prod'"),
}
OUTDATED_LOCKFILE = {"pipenv": "pipfile-lock::outdated", "poetry": "poetry-lock::outdated", "uv": "uv-lock::outdated",
                     "pdm": "pdm-lock::outdated"}


@pytest.mark.parametrize("manager", sorted(TOOLS))
def test_app_builds_caches_and_serves(herokuish, fixture_app, manager, runtime_archives):
    label, lockfile, install_line = TOOLS[manager]
    source = fixture_app(f"{manager}_app")
    from python_buildpack.package_manager import pinned_version

    version = pinned_version(manager)
    first = ok(herokuish.build(source)).stdout
    assert f"-----> Using the {label} package manager ({lockfile})" in first
    origin = "Pipfile.lock" if manager == "pipenv" else ".python-version"
    assert f"-----> Using Python 3.12 specified in {origin}" in first
    assert f"-----> Installing {label} {version}" in first
    assert install_line in first

    rebuild = herokuish.build(source)
    second = ok(rebuild).stdout
    assert f"-----> Using cached {label} {version}" in second
    # Nothing in the install changed after the restore (not even the tool's
    # launcher): the copy started then is what the cache keeps.
    assert rebuild.report["cache_saved"] == "early copy"
    assert f"-----> Skipping dependency install: {lockfile} and the cached install are unchanged" in second

    response = herokuish.fetch("/")
    assert response.text == f"Hello from a {manager} app on Python 3.12, without dev dependencies"

    # Pipenv stays in the slug (for `pipenv run`); Poetry, uv and PDM don't.
    check = herokuish.run_in_app(f"command -v {manager} || echo none")
    expected = "/app/.heroku/python/pipenv/bin/pipenv" if manager == "pipenv" else "none"
    assert check.stdout.strip() == expected, check.output


@pytest.mark.parametrize("manager", ["poetry", "uv", "pdm"])
def test_later_buildpacks_get_the_tool(herokuish, fixture_app, manager):
    outcome = herokuish.build(fixture_app(f"{manager}_app"), later_buildpack=f"{manager} --version; python -c 'import flask'")
    ok(outcome)
    assert outcome.later_buildpack.returncode == 0, outcome.later_buildpack.output
    assert outcome.later_buildpack.stdout.lower().startswith(manager)


def test_pdm_test_build_adds_the_dev_groups(herokuish, fixture_app):
    source = fixture_app("pdm_app", {"tests/test_app.py": "from app import app\n\n\ndef test_index():\n"
                                     "    assert b'pdm app' in app.test_client().get('/').data\n"})
    outcome, tests = herokuish.test(source)
    assert "-----> Installing dependencies using 'pdm sync'" in ok(outcome).stdout
    assert tests.returncode == 0 and "1 passed" in tests.stdout, tests.output
    # The production build of the same app, on the same cache, leaves them out again.
    log = ok(herokuish.build(source)).stdout
    assert "-----> Installing dependencies using 'pdm sync --prod'" in log and "Remove pytest" in log
    assert herokuish.fetch("/").text.endswith("without dev dependencies")


def test_pipenv_test_build_adds_the_develop_section(herokuish, fixture_app):
    # uv installs Pipfile.lock's develop section too, as `pipenv install --dev`.
    source = fixture_app("pipenv_app", {"tests/test_app.py": "from app import app\n\n\ndef test_index():\n"
                                        "    assert b'with dev dependencies' in app.test_client().get('/').data\n"})
    outcome, tests = herokuish.test(source)
    log = ok(outcome).stdout
    assert "-----> Installing dependencies from Pipfile.lock using 'uv pip install'" in log and "+ pytest==" in log
    assert tests.returncode == 0 and "1 passed" in tests.stdout, tests.output
    # The production build of the same app, on the same cache, leaves them out again.
    log = ok(herokuish.build(source)).stdout
    assert "+ pytest==" not in log
    assert herokuish.fetch("/").text.endswith("without dev dependencies")


def test_pdm_installs_the_project_itself(herokuish, fixture_app):
    # A distribution (no `distribution = false`, the lockfile unchanged): PDM
    # installs it on every build, as a wheel, so nothing names the build dir.
    pyproject = (FIXTURES / "pdm_app" / "pyproject.toml").read_text().replace("distribution = false\n", "") + (
        '\n[build-system]\nrequires = ["pdm-backend"]\nbuild-backend = "pdm.backend"\n')
    source = fixture_app("pdm_app", {"pyproject.toml": pyproject, "src/pdm_app/__init__.py": "GREETING = 'hi'\n"})
    ok(herokuish.build(source))
    log = ok(herokuish.build(source)).stdout
    assert "The install runs again since PDM installs the project itself" in log
    result = herokuish.run_in_app("python -c 'import pdm_app; print(pdm_app.__file__, pdm_app.GREETING)'")
    assert result.stdout == "/app/.heroku/python/lib/python3.12/site-packages/pdm_app/__init__.py hi\n", result.output
    assert herokuish.fetch("/").text.startswith("Hello from a pdm app")


@pytest.mark.parametrize("manager, change", [
    ("pipenv", {"Pipfile": "[packages]\nflask = '==3.1.3'\nrequests = '*'\n\n[requires]\npython_version = '3.12'\n"}),
    ("poetry", {"pyproject.toml": "[project]\nname = 'poetry-app'\nversion = '0.1.0'\nrequires-python = '>=3.11'\n"
                "dependencies = ['flask==3.1.3', 'requests']\n\n[tool.poetry]\npackage-mode = false\n\n"
                "[[tool.poetry.source]]\nname = 'pypi-simple'\nurl = 'https://pypi.org/simple/'\npriority = 'primary'\n"}),
    ("uv", {"pyproject.toml": "[project]\nname = 'uv-app'\nversion = '0.1.0'\nrequires-python = '>=3.12'\n"
            "dependencies = ['flask==3.1.3', 'requests']\n"}),
    ("pdm", {"pyproject.toml": "[project]\nname = 'pdm-app'\nversion = '0.1.0'\nrequires-python = '>=3.12'\n"
             "dependencies = ['flask==3.1.3', 'requests']\n\n[tool.pdm]\ndistribution = false\n"}),
])
def test_lockfile_out_of_date(herokuish, fixture_app, manager, change):
    # Each real tool's own words for it (test_managers.py has them as text).
    result = failed(herokuish.build(fixture_app(f"{manager}_app", change)), OUTDATED_LOCKFILE[manager])
    assert f"{manager} lock" in result.stderr


def test_switching_package_manager_discards_the_old_ones_leftovers(herokuish, fixture_app, stack):
    ok(herokuish.build(fixture_app("poetry_app")))
    cache = stack.host_path(f"{stack.tmp_dir}/cache/python-buildpack")
    assert (cache / "poetry").is_dir() and (cache / "uv").is_dir()  # uv installs Poetry itself
    source = fixture_app("poetry_app", {"poetry.lock": None, "pyproject.toml": None,
                                        "requirements.txt": "flask==3.1.3\ngunicorn==23.0.0\n"})
    log = ok(herokuish.build(source)).stdout
    assert "- The package manager has changed from poetry to pip" in log
    assert not (cache / "poetry").exists() and not (cache / "poetry-cache").exists()
    # uv, which installs requirements.txt too, stays.
    assert (cache / "uv").is_dir() and "-----> Using cached uv " in log
    assert herokuish.fetch("/").text.startswith("Hello from a poetry app on Python 3.12")


def test_requires_python_chooses_the_version(herokuish, fixture_app, runtime_archives):
    pyproject = "[project]\nname = 'x'\nversion = '1'\nrequires-python = '>=3.11,<3.13'\n"
    source = fixture_app("minimal_app", {".python-version": None, "pyproject.toml": pyproject})
    log = ok(herokuish.build(source)).stdout
    assert ("-----> Using Python 3.12, the newest that requires-python '>=3.11,<3.13' in "
            "pyproject.toml allows (no .python-version file)") in log
    assert f"-----> Installing Python {runtime_archives.versions['3.12']}" in log


def test_requires_python_keeps_the_last_builds_major(herokuish, fixture_app, runtime_archives):
    ok(herokuish.build(fixture_app("minimal_app", {".python-version": "3.11\n"})))
    pyproject = "[project]\nname = 'x'\nversion = '1'\nrequires-python = '>=3.11'\n"
    source = fixture_app("minimal_app", {".python-version": None, "pyproject.toml": pyproject})
    log = ok(herokuish.build(source)).stdout
    assert ("-----> Using Python 3.11, the last build's major version, which requires-python '>=3.11' in "
            "pyproject.toml allows") in log
    assert f"-----> Using cached install of Python {runtime_archives.versions['3.11']}" in log


# The Poetry fixture's pyproject.toml with a Poetry 1 style python dependency.
POETRY_FIXTURE = FIXTURES / "poetry_app"
POETRY_PYTHON_KEY = (POETRY_FIXTURE / "pyproject.toml").read_text() + (
    "\n[tool.poetry.dependencies]\npython = '{}'\n"
)
FIXTURE_POETRY_LOCK = (POETRY_FIXTURE / "poetry.lock").read_text()


def test_poetry_python_dependency_chooses_the_version(herokuish, fixture_app, runtime_archives):
    # `poetry lock` (requirements/poetry.txt) with python = '~3.12' added
    # changes only these two lines of the fixture's lock (the test mirror has
    # no 3.14, which '^3.12' would pick).
    lock = (FIXTURE_POETRY_LOCK
            .replace('python-versions = ">=3.11"', 'python-versions = "~3.12"')
            .replace('content-hash = "68d7dad015ae34dbaf1b4172452dbcfc52be3857e77281a62495aea31054f191"',
                     'content-hash = "9d2586b5e1fcf87a8e58907f7124bd16cb703e130ae22ca114c37b95b4cd5339"'))
    source = fixture_app("poetry_app", {
        ".python-version": None, "pyproject.toml": POETRY_PYTHON_KEY.format("~3.12"), "poetry.lock": lock,
    })
    log = ok(herokuish.build(source)).stdout
    assert ("-----> Using Python 3.12, the newest that requires-python '>=3.11' and [tool.poetry.dependencies] "
            "python '~3.12' in pyproject.toml allow (no .python-version file)") in log
    assert f"-----> Installing Python {runtime_archives.versions['3.12']}" in log
    assert herokuish.fetch("/").text.startswith("Hello from a poetry app on Python 3.12")


@pytest.mark.parametrize("manager", ["uv", "pdm"])
def test_a_python_version_the_project_does_not_allow(herokuish, fixture_app, manager):
    # The package manager's Python rules, end to end; each rule's cases, and
    # each way the files can be wrong, are unit tests (test_python_choice.py,
    # test_python_version.py, test_python_range.py, test_pyproject.py,
    # test_pipenv.py, test_pdm.py, test_managers.py).
    result = failed(herokuish.build(fixture_app(f"{manager}_app", {".python-version": "3.11\n"})),
                    "pyproject-toml::python-version-conflict")
    assert "requires-python" in result.stderr and f"{manager} lock" in result.stderr
