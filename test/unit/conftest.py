from __future__ import annotations

import threading

import pytest

from python_buildpack import python_version
from python_buildpack.python_location import PythonLocation


@pytest.fixture(autouse=True)
def no_machine_pip_config(monkeypatch, tmp_path_factory):
    """pip's configuration files are read from where a test puts them, never
    from this machine's /etc (pip_config.py)."""
    from python_buildpack import pip_config

    nowhere = tmp_path_factory.mktemp("no-pip-config")
    monkeypatch.setattr(pip_config, "SYSTEM_FILES", ())
    monkeypatch.setattr(pip_config, "DEFAULT_XDG_CONFIG_DIRS", str(nowhere))


@pytest.fixture
def versions() -> python_version.PythonVersions:
    """A fixed version table, so tests don't change when the data file does."""
    return python_version.PythonVersions(
        default_major="3.14",
        latest_patch={"3.10": "3.10.21", "3.11": "3.11.16", "3.12": "3.12.14", "3.13": "3.13.15", "3.14": "3.14.7"},
        deprecated={"3.10": "October 2026"},
    )


def fake_install(tmp_path, *wheels: str) -> PythonLocation:
    """A Python install with just its bundled pip wheels and site-packages,
    run (as in a build) through a separate home path."""
    install_dir = tmp_path / "build" / ".heroku" / "python"
    bundled = install_dir / "lib" / "python3.12" / "ensurepip" / "_bundled"
    bundled.mkdir(parents=True)
    for wheel in wheels:
        (bundled / wheel).write_text("")
    (install_dir / "lib" / "python3.12" / "site-packages").mkdir()
    return PythonLocation(install_dir, tmp_path / "app" / ".heroku" / "python")


def make_build(tmp_path, env_dir=None, environ=None, install_test=False, stack_name="heroku-24", build_dir=None,
               app_path="."):
    """A Build as compile.start_build makes one, without reading the machine
    (the app in `build_dir`, by default tmp_path/build, or in its `app_path`
    subdirectory: PYTHON_APP_DIR)."""
    from python_buildpack.build import Build, BuildDirs
    from python_buildpack.cache import BuildCache
    from python_buildpack.config_vars import BuildConfig
    from python_buildpack.download import Timeouts
    from python_buildpack.report import BuildReport
    from python_buildpack.stack import Stack

    build_dir = build_dir or tmp_path / "build"
    (build_dir / app_path).mkdir(parents=True, exist_ok=True)
    dirs = BuildDirs(build_dir, tmp_path / "cache", env_dir or tmp_path / "no-env", tmp_path / "buildpack")
    environ = dict(environ or {})
    return Build(dirs, Stack(stack_name, "amd64"), BuildConfig(dirs.env, environ), BuildCache(dirs.cache),
                 Timeouts(), environ, BuildReport(build_dir, dirs.cache), install_test, app_path)


def make_context(tmp_path, location, env=None, python_version="3.12.1", **build_options):
    from python_buildpack.package_manager import InstallContext

    return InstallContext(make_build(tmp_path, **build_options), location, dict(env or {"PATH": "/usr/bin"}),
                          python_version)


def config_with(tmp_path, values):
    """The BuildConfig of an env dir holding these config vars."""
    from python_buildpack.config_vars import BuildConfig

    env_dir = tmp_path / "env"
    env_dir.mkdir()
    for name, value in values.items():
        (env_dir / name).write_text(value)
    return BuildConfig(env_dir, {"PATH": "/usr/bin:/bin"})


@pytest.fixture
def context(tmp_path):
    """An InstallContext whose config vars hold a private index's secret for
    each of pip, uv and Poetry, and one that no install may see."""
    location = fake_install(tmp_path, "pip-24.0-py3-none-any.whl")
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    for name, value in {
        "PIP_EXTRA_INDEX_URL": "https://u:pip-secret@pypi.example.com/simple",
        "UV_INDEX_URL": "https://u:uv-secret@pypi.example.com/simple",
        "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": "poetry-secret",
        "DATABASE_URL": "postgres://not-for-installs",
    }.items():
        (env_dir / name).write_text(value + "\n")
    return make_context(tmp_path, location, env_dir=env_dir)


def recorded(fp, stdout="", returncode=0, occurrences=1):
    """Every command run (pytest-subprocess), as (args, env) pairs."""
    calls = []

    def callback(process):
        calls.append((process.args, process.kwargs["env"]))
        process._finish_process()  # a callback replaces pytest-subprocess's own finishing

    fp.register([fp.any()], stdout=stdout, returncode=returncode, callback=callback, occurrences=occurrences)
    return calls


# A pyproject.toml with both Python ranges, requires-python and Poetry's.
POETRY_PYPROJECT = "[project]\nname = 'x'\nrequires-python = '>=3.11'\n[tool.poetry.dependencies]\npython = '^3.12'\n"


def pep440(text):
    """requires-python = `text`, read as PEP 440."""
    from python_buildpack import python_range

    return python_range.pep440("requires-python", text)


def poetry(text, key="[tool.poetry.dependencies] python"):
    """`key` = `text`, read in Poetry's constraint syntax."""
    from python_buildpack import python_range

    return python_range.poetry(key, text)


def classic_cache(tmp_path, content: str):
    """A cache dir as the classic buildpack left it, its .heroku/python-version holding `content`."""
    from python_buildpack.cache import BuildCache

    (tmp_path / ".heroku").mkdir(parents=True)
    (tmp_path / ".heroku" / "python-version").write_text(content)
    return BuildCache(tmp_path)


def within(seconds: float, function, *args):
    """function(*args), failing the test (not hanging it) if it blocks."""
    outcome: dict = {}

    def call():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # noqa: BLE001 - re-raised below
            outcome["error"] = error

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{getattr(function, '__name__', function)} blocked for {seconds}s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def uv_installed(context):
    """uv in the build cache, as an earlier build left it: its binary path."""
    import json

    from python_buildpack.tool_versions import pinned_version

    version = pinned_version("uv")
    root = context.build.cache.tool_dir("uv")
    (root / "bin").mkdir(parents=True, exist_ok=True)
    (root / "bin" / "uv").write_text("")
    (root / f"uv-{version}.dist-info").mkdir(exist_ok=True)
    (root / ".uv-layer.json").write_text(json.dumps({"tool": "uv", "version": version, "runs_on": ""}))
    return root / "bin" / "uv"


class NoUvFetched:
    """A uv_download.Fetching that found no index."""

    def __init__(self, *args):
        self.cancelled = False

    def result(self):
        from python_buildpack import uv_download

        return uv_download.Download(problem="the index has no page for uv")

    def cancel(self):
        self.cancelled = True


@pytest.fixture(autouse=True)
def no_index_for_uv(request, monkeypatch):
    """Unit tests reach no package index: uv's direct download (a child
    process, which no monkeypatch reaches) finds none, and the build then
    installs uv with pip, which the tests fake. Tests marked `uv_fetch` run
    the real child, against a local server."""
    from python_buildpack import uv_download

    if "uv_fetch" not in request.keywords:
        monkeypatch.setattr(uv_download.Fetching, "start", NoUvFetched)
