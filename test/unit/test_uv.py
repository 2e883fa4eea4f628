"""uv: its command lines, environment and errors."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from python_buildpack import environment
from python_buildpack.errors import BuildError
from python_buildpack import uv
from python_buildpack.pip import Pip
from python_buildpack.pipenv import Pipenv
from python_buildpack.pdm import Pdm
from python_buildpack.poetry import Poetry
from python_buildpack.uv import Uv
from conftest import POETRY_PYPROJECT, fake_install, make_context, recorded, uv_installed



class FakeDownload:
    """uv_download.fetch_uv's result."""

    def __init__(self, staged=None, problem=""):
        self.staged, self.problem = staged, problem

    def unpacked(self):
        return self.staged

    def discard(self):
        pass


def pip_installs_uv(process):
    """A fake `pip install --target DIR uv==X`: uv's binary and metadata in DIR."""
    target = Path(process.args[process.args.index("--target") + 1])
    (target / "bin").mkdir(parents=True)
    (target / "bin" / "uv").write_text("")
    (target / f"uv-{Uv().version}.dist-info").mkdir()
    process._finish_process()

def test_install_command_gets_the_index_config_vars(context, fp, capsys):
    binary = uv_installed(context)
    calls = recorded(fp, stdout="installed\n")
    Uv().install_dependencies(context)
    ((args, env),) = calls
    assert args == [str(binary), "sync", "--locked", "--no-default-groups", "--compile-bytecode", "--no-progress",
                    "--color=never"]
    assert "uv-secret" in env["UV_INDEX_URL"]
    assert "DATABASE_URL" not in env
    out = capsys.readouterr().out
    assert "uv-secret" not in out and "       installed" in out


@pytest.mark.parametrize("output, error_id", [
    ("error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided.\n", "uv-lock::outdated"),
    ("error: No solution found\n", "install-dependencies::uv"),
])
def test_install_failures(context, fp, output, error_id):
    uv_installed(context)
    recorded(fp, stdout=output, returncode=1)
    with pytest.raises(BuildError) as error:
        Uv().install_dependencies(context)
    assert error.value.id == error_id


def test_uv_is_installed_once_into_the_cache(context, fp, capsys, monkeypatch):
    monkeypatch.setattr(uv.uv_download, "fetch_uv", lambda *args: FakeDownload(problem="no index here"))
    manager = Uv()

    fp.register([fp.any()], callback=pip_installs_uv)
    manager.install_tool(context)
    assert f"-----> Installing uv {manager.version}" in capsys.readouterr().out
    assert (context.build.cache.root / "uv" / "bin" / "uv").exists()
    manager.install_tool(context)
    assert capsys.readouterr().out == ""  # checked once a build
    uv._ENSURED.clear()  # the next build
    manager.install_tool(context)
    assert f"-----> Using cached uv {manager.version}" in capsys.readouterr().out
    assert len(fp.calls) == 1


def test_a_builds_first_uv_use_removes_what_a_stopped_uv_left_in_its_cache(context):
    binary = uv_installed(context)
    cache = context.build.cache.download_cache(uv.DOWNLOAD_CACHE)
    (cache / ".tmpStopped" / "django").mkdir(parents=True)
    (cache / "archive-v0" / "done").mkdir(parents=True)
    (cache / ".lock").write_text("")  # uv's; no uv holds it
    assert uv.ensure_uv(context) == binary
    assert not (cache / ".tmpStopped").exists() and (cache / "archive-v0" / "done").is_dir()


def test_uv_install_failure_leaves_nothing(context, fp, capsys, monkeypatch):
    monkeypatch.setattr(uv.uv_download, "fetch_uv", lambda *args: FakeDownload(problem="no index here"))
    # In the cache, then (the cache might be full) in a temporary directory.
    fp.register([fp.any()], stdout="ERROR: No matching distribution found for uv", returncode=1, occurrences=2)
    with pytest.raises(BuildError) as error:
        Uv().install_tool(context)
    assert (error.value.id, error.value.detail) == ("install-package-manager::uv", Uv().version)
    assert not (context.build.cache.root / "uv").exists()
    assert "Warning: uv couldn't be saved in the build cache." in capsys.readouterr().err


def test_uv_environment(context):
    uv_installed(context)
    context.location.install_dir.mkdir(parents=True, exist_ok=True)
    tool_env = Uv().environment(context)
    env = environment.build_env(context.location, {"PATH": "/usr/bin"}, tool_env)
    assert env["UV_PROJECT_ENVIRONMENT"] == str(context.location.home)
    assert env["UV_PYTHON_DOWNLOADS"] == "never"
    assert env["UV_LINK_MODE"] == "hardlink"  # same file system here
    assert env["PATH"].startswith(f"{context.build.cache.root / 'uv' / 'bin'}:")
    assert not any(environment.RUNTIME in variable.how for variable in tool_env)  # uv stays out of the slug


def test_test_builds_install_the_dev_dependencies(context, fp):
    context.build = replace(context.build, install_test=True)
    binary = uv_installed(context)
    calls = recorded(fp)
    Uv().install_dependencies(context)
    assert calls[0][0] == [str(binary), "sync", "--locked", "--compile-bytecode", "--no-progress", "--color=never"]


def test_unreadable_uv_lockfile(tmp_path):
    (tmp_path / "uv.lock").mkdir()
    with pytest.raises(BuildError) as error:
        Uv().dependencies(tmp_path)
    assert (error.value.id, error.value.detail) == ("app-files::unreadable", "uv.lock")


def test_uv_dependencies(tmp_path):
    (tmp_path / "uv.lock").write_text('[[package]]\nname = "flask"\nsource = { registry = "https://pypi.org/simple" }\n')
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    assert Uv().dependencies(tmp_path).reinstall_reason is None
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n[build-system]\nrequires = ['hatchling']\n")
    assert "project itself" in Uv().dependencies(tmp_path).reinstall_reason
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (tmp_path / "uv.lock").write_text('[[package]]\nname = "lib"\nsource = { editable = "libs/lib" }\n')
    assert "local paths or version control" in Uv().dependencies(tmp_path).reinstall_reason


def test_uv_reads_requires_python_as_pep_440(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nrequires-python = '^3.12'\n")
    with pytest.raises(BuildError) as error:
        Uv().python_ranges(tmp_path)
    assert (error.value.id, error.value.detail) == ("pyproject-toml::invalid-python-range", "requires-python")
    (tmp_path / "pyproject.toml").write_text(POETRY_PYPROJECT)
    assert [r.text for r in Uv().python_ranges(tmp_path)] == [">=3.11"]


def test_uv_downloaded_from_the_index_is_taken(context, fp, capsys, monkeypatch, tmp_path):
    staged = tmp_path / "staged"
    (staged / "bin").mkdir(parents=True)
    (staged / "bin" / "uv").write_text("")
    (staged / f"uv-{Uv().version}.dist-info").mkdir()

    monkeypatch.setattr(uv.uv_download, "fetch_uv", lambda *args: FakeDownload(staged))
    binary = uv.ensure_uv(context)
    assert binary.is_file() and not fp.calls  # no pip run
    assert f"-----> Installing uv {Uv().version}" in capsys.readouterr().out


def test_a_failed_download_falls_back_to_pip(context, fp, capsys, monkeypatch):
    monkeypatch.setattr(uv.uv_download, "fetch_uv",
                        lambda *args: FakeDownload(problem="the index has no page for uv"))
    fp.register([fp.any()], callback=pip_installs_uv)
    assert uv.ensure_uv(context).is_file() and len(fp.calls) == 1
    assert "(the index has no page for uv): installing it with pip" in capsys.readouterr().out


def test_uv_that_the_cache_cant_hold_runs_from_a_temporary_directory(context, fp, capsys, monkeypatch, tmp_path):
    staged = tmp_path / "staged"
    (staged / "bin").mkdir(parents=True)

    def full_disk(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(uv.uv_download, "fetch_uv", lambda *args: FakeDownload(staged))
    monkeypatch.setattr(uv.shutil, "move", full_disk)
    fp.register([fp.any()], callback=pip_installs_uv)
    binary = uv.ensure_uv(context)
    assert binary.is_file() and len(fp.calls) == 1
    assert not binary.is_relative_to(context.build.cache.root)  # used from a temporary directory
    assert not (context.build.cache.root / "uv").exists()
    assert "Warning: uv couldn't be saved in the build cache." in capsys.readouterr().err


def test_a_tools_venv_is_made_by_the_apps_python_and_filled_by_uv(context, fp):
    binary = uv_installed(context)
    venv = context.build.cache.root / "poetry" / "venv"
    fp.register([str(context.location.python), "-m", "venv", "--without-pip", str(venv)])
    fp.register([str(binary), "pip", "install", "--no-config", "--python", str(venv / "bin" / "python"),
                 "--no-progress", "--color=never", "--quiet", "poetry==2.5.1"])
    assert uv.install_in_venv(context, venv, "poetry==2.5.1").ok
    assert len(fp.calls) == 2


def test_a_venv_that_cant_be_made_installs_nothing(context, fp, capsys):
    uv_installed(context)
    fp.register([fp.any()], stdout="Error: [Errno 28] No space left on device\n", returncode=1)
    result = uv.install_in_venv(context, context.build.cache.root / "venv", "poetry==2.5.1")
    assert (result.returncode, len(fp.calls)) == (1, 1)
    assert capsys.readouterr().out == "       Error: [Errno 28] No space left on device\n"  # quiet, but it failed


def test_publishing_uv_never_clears_what_another_build_runs(context, tmp_path):
    """Two builds of one app at once share the cache's uv: an install is
    renamed into place whole, and one already there and current stays."""
    layer = uv._layer(context.build)
    layer.directory.parent.mkdir(parents=True)

    def installed(path, version):
        (path / "bin").mkdir(parents=True)
        (path / "bin" / "uv").write_text(version)
        (path / f"uv-{version}.dist-info").mkdir()
        (path / ".uv-layer.json").write_text(json.dumps({"tool": "uv", "version": version, "runs_on": ""}))
        return path

    uv._publish(installed(tmp_path / "mine", layer.version), layer)
    assert layer.reusable() and not (tmp_path / "mine").exists()
    theirs = (layer.directory / "bin" / "uv").stat().st_ino
    uv._publish(installed(tmp_path / "second", layer.version), layer)  # the other build was first
    assert (layer.directory / "bin" / "uv").stat().st_ino == theirs
    shutil.rmtree(layer.directory)
    installed(layer.directory, "0.0.1")  # an older uv
    uv._publish(installed(tmp_path / "third", layer.version), layer)
    assert layer.reusable() and not list(layer.directory.parent.glob(".uv-old-*"))


class StagedFetch:
    """A uv_download.Fetching that fetched uv into `staged`."""

    started: list = []

    def __init__(self, *args):
        self.args, self.cancelled, self.warm_ups = args, False, []
        StagedFetch.started.append(self)

    def result(self):
        return uv.uv_download.Download(StagedFetch.staging)

    def warm_up(self, request):
        self.warm_ups.append(request)

    def cancel(self):
        self.cancelled = True


@pytest.fixture
def staged_fetch(monkeypatch, tmp_path):
    staging = tmp_path / "fetched"
    (staging / "target" / "bin").mkdir(parents=True)
    (staging / "target" / "bin" / "uv").write_text("")
    (staging / "target" / f"uv-{Uv().version}.dist-info").mkdir()
    StagedFetch.staging, StagedFetch.started = staging, []
    monkeypatch.setattr(uv.uv_download.Fetching, "start", StagedFetch)
    monkeypatch.setattr(uv, "_FETCHING", {})
    return StagedFetch


def test_uv_prefetched_while_python_downloads_is_taken(context, fp, staged_fetch):
    uv.prefetch(context)
    uv.prefetch(context)  # once
    assert len(staged_fetch.started) == 1
    version, arch, index, timeouts = staged_fetch.started[0].args
    assert (version, arch) == (Uv().version, context.build.stack.arch) and timeouts.total <= 120
    assert uv.ensure_uv(context).is_file() and not fp.calls  # no pip run
    assert not uv._FETCHING


def test_no_prefetch_when_the_cache_has_uv(context, staged_fetch):
    uv_installed(context)
    uv.prefetch(context)
    assert not staged_fetch.started


def test_a_prefetch_made_needless_by_another_build_is_cancelled(context, staged_fetch, capsys):
    uv.prefetch(context)
    uv_installed(context)  # another build of the app cached uv meanwhile
    uv.ensure_uv(context)
    assert staged_fetch.started[0].cancelled
    assert "Using cached uv" in capsys.readouterr().out


@pytest.mark.parametrize("manager, config, prefetches", [
    (Uv, {}, True),
    (Poetry, {}, True),
    (Pipenv, {}, True),
    (Pip, {}, True),
    (Pip, {"PYTHON_INSTALLER": "pip"}, False),
])
def test_which_managers_prefetch_uv(tmp_path, staged_fetch, manager, config, prefetches):
    location = fake_install(tmp_path, "pip-24.0-py3-none-any.whl")
    context = make_context(tmp_path, location, environ=config)
    (context.build_dir / "requirements.txt").write_text("flask\n")
    manager().prefetch_tool(context)
    assert bool(staged_fetch.started) == prefetches


def test_the_uv_download_warms_the_cache_with_the_build_s_settings(context, staged_fetch):
    uv.warm_up(context, [["pipenv==2026.10.3"]])  # nothing being fetched: nothing to ask
    uv.prefetch(context)
    uv.warm_up(context, [])
    assert not staged_fetch.started[0].warm_ups
    uv.warm_up(context, [["pipenv==2026.10.3"], ["-r", "requirements.txt"]])
    (request,) = staged_fetch.started[0].warm_ups
    assert request.installs == [["pipenv==2026.10.3"], ["-r", "requirements.txt"]]
    assert request.python_version == "3.12.1" and request.cwd == str(context.build_dir) and request.limit <= 120
    # What the build's own `uv pip install` gets: the same cache, the same indexes.
    assert request.env == uv.install_environment(context)
    assert request.env["UV_CACHE_DIR"] == str(context.build.cache.download_cache(uv.DOWNLOAD_CACHE))
    assert "pip-secret" in request.env["UV_INDEX"] and "uv-secret" in request.env["UV_INDEX_URL"]


@pytest.mark.parametrize("manager, expected", [
    (Pipenv, [[f"pipenv=={Pipenv().version}"]]),
    (Poetry, [[f"poetry=={Poetry().version}"]]),
    (Pdm, [[f"pdm[locked]=={Pdm().version}"]]),
    (Uv, []),  # uv sync downloads what uv.lock names, once Python is there
])
def test_each_manager_s_tool_is_downloaded_while_the_runtime_unpacks(context, manager, expected):
    assert manager().packages_to_prefetch(context.build) == expected
