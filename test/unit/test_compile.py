"""compile.py's decisions, with fakes: whether the dependency install runs,
what a restored install that doesn't run means, and what the report says."""

from __future__ import annotations

import pytest

from python_buildpack import compile as compile_module
from python_buildpack import python_runtime, report
from python_buildpack.cache import CacheKey, DependenciesKey, Restored, RuntimeKey
from python_buildpack.errors import BuildError
from python_buildpack.package_manager import PackageManager
from python_buildpack.python_runtime import PythonChoice
from python_buildpack.python_version import RequestedVersion
from python_buildpack.runtime_mirror import mirror_from
from python_buildpack.stack import Stack
from conftest import fake_install, make_context


class FakeManager(PackageManager):
    name = label = "fake"
    file_name = "requirements.txt"
    version = "1.0"

    def __init__(self):
        self.installs = 0

    def install_dependencies(self, context):
        self.installs += 1


def context_for(tmp_path):
    return make_context(tmp_path, fake_install(tmp_path))


def test_unchanged_dependencies_skip_the_install(tmp_path, capsys):
    context, manager = context_for(tmp_path), FakeManager()
    compile_module.install_dependencies(context, manager, Restored(True, dependencies_unchanged=True), None)
    assert manager.installs == 0
    assert "Skipping dependency install: requirements.txt and the cached install are unchanged" in capsys.readouterr().out
    assert report.read(context.build_dir, None)["dependencies_install_skipped"] is True


def test_local_sources_install_again_even_when_unchanged(tmp_path, capsys):
    context, manager = context_for(tmp_path), FakeManager()
    restored = Restored(True, dependencies_unchanged=True)
    compile_module.install_dependencies(context, manager, restored, "requirements.txt has an editable requirement")
    assert manager.installs == 1
    assert "The install runs again since requirements.txt has an editable requirement." in capsys.readouterr().out
    assert report.read(context.build_dir, None)["dependencies_install_skipped"] is False


def test_changed_or_missing_dependencies_are_installed(tmp_path):
    context, manager = context_for(tmp_path), FakeManager()
    compile_module.install_dependencies(context, manager, Restored(True, dependencies_unchanged=False), None)
    compile_module.install_dependencies(context, manager, Restored(False), None)
    assert manager.installs == 2


def test_a_restored_python_that_doesnt_run_is_replaced(tmp_path, monkeypatch, capsys):
    context, manager = context_for(tmp_path), FakeManager()
    choice = PythonChoice(RequestedVersion("3.12", ".python-version"), "3.12.1", mirror_from(None), None)
    key = CacheKey(RuntimeKey("heroku-24", "amd64", "3.12.1"), DependenciesKey("fake", "1.0", "abc"))
    installed = []
    monkeypatch.setattr(python_runtime, "python_works", lambda home, env: False)
    monkeypatch.setattr(python_runtime, "install", lambda *args: installed.append(args))
    restored = compile_module.install_python(context, choice, Restored(True, True, status="reused"))
    assert not restored.reused and not restored.dependencies_unchanged and len(installed) == 1
    assert "- The cached Python install doesn't run" in capsys.readouterr().out
    assert report.read(context.build_dir, None)["cache"] == {
        "status": "discarded", "reasons": ["The cached Python install doesn't run"],
        "dependencies_reinstalled_because": []}


def test_a_working_restored_python_is_used(tmp_path, monkeypatch, capsys):
    context, manager = context_for(tmp_path), FakeManager()
    choice = PythonChoice(RequestedVersion("3.12", ".python-version"), "3.12.1", mirror_from(None), None)
    key = CacheKey(RuntimeKey("heroku-24", "amd64", "3.12.1"), DependenciesKey("fake", "1.0", "abc"))
    monkeypatch.setattr(python_runtime, "python_works", lambda home, env: True)
    monkeypatch.setattr(python_runtime, "install", lambda *args: (_ for _ in ()).throw(AssertionError("downloaded")))
    assert compile_module.install_python(context, choice, Restored(True, True, status="reused")).reused
    assert "Using cached install of Python 3.12.1" in capsys.readouterr().out


@pytest.mark.parametrize("restored, reinstall_reason, warmed, saved_early", [
    (Restored(False), None, True, False),  # a first build: the tool downloads beside the runtime
    (Restored(True, dependencies_unchanged=True, status="reused"), None, False, True),  # nothing to install
    (Restored(True, dependencies_unchanged=True, status="reused"), "an editable", False, False),
    (Restored(True, dependencies_unchanged=False, status="reused"), None, False, False),  # a reinstall
])
def test_what_starts_beside_the_runtime(tmp_path, monkeypatch, restored, reinstall_reason, warmed, saved_early):
    context, manager = context_for(tmp_path), FakeManager()
    manager.tool_requirement = lambda: "fake==1.0"
    key = CacheKey(RuntimeKey("heroku-24", "amd64", "3.12.1"), DependenciesKey("fake", "1.0", "abc"))
    warm_ups, early_saves = [], []
    monkeypatch.setattr(context.build.cache, "restore", lambda *args: restored)
    monkeypatch.setattr(context.build.cache, "start_save", early_saves.append)
    monkeypatch.setattr(compile_module.uv, "warm_up", lambda *args: warm_ups.append(args[1:]))
    assert compile_module.restore_cache(context, manager, key, reinstall_reason) is restored
    assert warm_ups == ([([["fake==1.0"]],)] if warmed else [])
    assert early_saves == ([context.location.install_dir] if saved_early else [])


def monorepo_dirs(tmp_path, config_value):
    from python_buildpack.build import BuildDirs

    build, env, cache = tmp_path / "build", tmp_path / "env", tmp_path / "cache"
    for directory in (build / "backend", env, cache):
        directory.mkdir(parents=True)
    (env / "PYTHON_APP_DIR").write_text(config_value)
    return BuildDirs(build, cache, env, tmp_path / "buildpack")


def test_the_app_dir_is_chosen_before_the_build_starts(tmp_path, monkeypatch):
    monkeypatch.setattr(compile_module, "current_stack", lambda environ: Stack("heroku-24", "amd64"))
    dirs = monorepo_dirs(tmp_path, "./backend/")
    build = compile_module.start_build(dirs, report.BuildReport(dirs.build, dirs.cache))
    assert build.app_dir == dirs.build / "backend" and build.app_path == "backend"
    assert report.read(dirs.build, dirs.cache)["app_dir"] == "backend"


def test_an_unusable_app_dir_ends_the_build_and_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(compile_module, "current_stack", lambda environ: Stack("heroku-24", "amd64"))
    dirs = monorepo_dirs(tmp_path, "frontend")
    with pytest.raises(BuildError) as raised:
        compile_module.run(dirs)
    assert raised.value.id == "config::app-dir-missing"
    assert report.read(dirs.build, dirs.cache)["error"]["id"] == "config::app-dir-missing"


def test_the_slug_root_gets_python_and_the_app_dir_its_path(tmp_path, monkeypatch):
    """/app/.heroku/python links to the root's install; .profile.d is the
    root's, with the app's directory on PYTHONPATH; bin/release finds the app."""
    from python_buildpack import app_dir

    context = make_context(tmp_path, fake_install(tmp_path), app_path="backend")
    build = context.build
    linked = []
    monkeypatch.setattr(compile_module, "link_app_dir", lambda root: linked.append(root) or context.location)
    compile_module.link_python(build)
    assert linked == [build.dirs.build]
    compile_module.write_environment(build, context.location, ())
    profile = (build.dirs.build / ".profile.d" / "python.sh").read_text()
    assert 'export PYTHONPATH="${PYTHONPATH:-${HOME}/backend}"' in profile
    assert not (build.app_dir / ".profile.d").exists()
    assert app_dir.recorded(build.dirs.build, {}).relative == "backend"
