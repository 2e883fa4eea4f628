"""The package-manager interface (PackageManager, LockfileSync), through
minimal managers that set only what the interface reads."""

from __future__ import annotations

from typing import Optional

import pytest

from conftest import make_build
from python_buildpack import app_files
from python_buildpack.cache import DependenciesKey
from python_buildpack.commands import CommandResult
from python_buildpack.errors import BuildError
from python_buildpack import package_manager
from python_buildpack.package_manager import Dependencies, LockedFile, LockfileSync, PackageManager
from python_buildpack.python_version import RequestedVersion, VersionSources
from conftest import fake_install, make_context, pep440


class Tool(PackageManager):
    name = "tool"
    label = "Tool"
    file_name = "tool.lock"
    version = "1.2.3"
    test_files = ("tests.txt",)
    outdated_markers = ("lockfile is stale",)
    lock_command = "tool lock"

    def dependencies(self, build_dir):
        return Dependencies(app_files.fingerprint(build_dir / self.file_name), "it has local paths")


class StrictTool(Tool):
    enforces_python_range = True


class Synced(LockfileSync):
    name = "synced"
    file_name = "synced.lock"
    version = "2.0"
    local_source_markers = ("editable = ",)

    def installs_project_itself(self, build_dir) -> Optional[str]:
        return "it installs the project" if (build_dir / "src").exists() else None


def test_dependencies_key(tmp_path):
    (tmp_path / "tool.lock").write_text("a==1\n")
    key, reason = Tool().dependencies_key(make_build(tmp_path, build_dir=tmp_path, install_test=False))
    assert key == DependenciesKey("tool", "1.2.3", app_files.fingerprint(tmp_path / "tool.lock"))
    assert (key.file_name, key.syncs, reason) == ("tool.lock", False, "it has local paths")


def test_install_test_salts_the_fingerprint_with_the_test_files(tmp_path):
    (tmp_path / "tool.lock").write_text("a==1\n")
    plain = Tool().dependencies_key(make_build(tmp_path, build_dir=tmp_path, install_test=False))[0].fingerprint
    with_tests = Tool().dependencies_key(make_build(tmp_path, build_dir=tmp_path, install_test=True))[0].fingerprint
    assert with_tests != plain  # a test build's install is never reused by a normal build, nor the reverse
    (tmp_path / "tests.txt").write_text("pytest\n")
    changed_tests = Tool().dependencies_key(make_build(tmp_path, build_dir=tmp_path, install_test=True))[0].fingerprint
    assert changed_tests not in (plain, with_tests)
    assert Tool().dependencies_key(make_build(tmp_path, build_dir=tmp_path, install_test=False))[0].fingerprint == plain  # test files don't count


@pytest.mark.parametrize("output, error_id", [
    ("error: the lockfile is\nstale, run tool lock\n", "tool-lock::outdated"),  # however the tool wrapped it
    ("error: no such package\n", "install-dependencies::tool"),
    ("Could not find gdal-config\n", "install-dependencies::tool"),
])
def test_install_failed_chooses_the_outdated_lockfile_error_by_markers(output, error_id):
    error = Tool().install_failed(CommandResult(1, output), "tool install")
    assert error.id == error_id
    if "gdal" in output:
        assert "GDAL" in error.title  # the install hints still apply
    if error_id.endswith("::outdated"):
        assert "Run 'tool lock', then commit the updated tool.lock." in error.body


def test_without_markers_there_is_no_outdated_lockfile_error():
    class Unmarked(Tool):
        outdated_markers = ()

    assert Unmarked().install_failed(CommandResult(1, "lockfile is stale"), "tool install").id == \
        "install-dependencies::tool"


def test_check_python_enforces_ranges_only_when_the_tool_does():
    requested = RequestedVersion("3.11", ".python-version")
    sources = VersionSources(ranges=(pep440(">=3.12"),))
    Tool().check_python(requested, "3.11.14", sources)  # pip and Pipenv don't refuse it
    with pytest.raises(BuildError) as error:
        StrictTool().check_python(requested, "3.11.14", sources)
    assert (error.value.id, error.value.detail) == ("pyproject-toml::python-version-conflict", "3.11.14")
    assert "'tool lock'" in error.value.body
    StrictTool().check_python(RequestedVersion("3.12", ".python-version"), "3.12.4", sources)


def test_python_ranges_are_read_only_without_a_version_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nrequires-python = '>=3.12'\n")
    assert [r.text for r in Tool().version_sources(tmp_path).ranges] == [">=3.12"]
    (tmp_path / ".python-version").write_text("3.13\n")
    assert Tool().version_sources(tmp_path).ranges == ()


def test_lockfile_sync_dependencies(tmp_path):
    (tmp_path / "synced.lock").write_text('name = "flask"\n')
    found = Synced().dependencies(tmp_path)
    assert found.reinstall_reason is None
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    assert Synced().dependencies(tmp_path).fingerprint != found.fingerprint  # pyproject.toml counts
    (tmp_path / "synced.lock").write_text('name = "lib"\neditable = "libs/lib"\n')
    assert Synced().dependencies(tmp_path).reinstall_reason == \
        "synced.lock installs packages from local paths or version control"
    (tmp_path / "src").mkdir()
    assert Synced().dependencies(tmp_path).reinstall_reason == "it installs the project"
    key, _reason = Synced().dependencies_key(make_build(tmp_path, build_dir=tmp_path, install_test=False))
    assert key.syncs


def test_install_context(tmp_path):
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "PIP_INDEX_URL").write_text("https://private/simple\n")
    location = fake_install(tmp_path, "pip-24.0-py3-none-any.whl")
    context = make_context(tmp_path, location, env_dir=env_dir, install_test=True)
    assert context.build_dir == tmp_path / "build"
    assert context.install_test is True
    assert context.pip_settings == {"PIP_INDEX_URL": "https://private/simple"}
    assert context.pip_cache_dir == context.build.cache.pip_dir  # kept in the build cache, not the slug
    assert context.pip_cache_dir.is_relative_to(tmp_path / "cache")


class Locked(Synced):
    def package_files(self, package):
        files = [package_manager.file_entry(entry, ("file", "url")) for entry in package.get("files", [])]
        return [each for each in files if each]


def test_a_managers_files_pin_no_hashes_by_default(tmp_path):
    assert Tool().locked_files(make_build(tmp_path)) == {}


def test_a_toml_lockfiles_files_by_package(tmp_path):
    build = make_build(tmp_path)
    (build.app_dir / "synced.lock").write_text(
        '[[package]]\nname = "Typing_Extensions"\nversion = "4.15.0"\nfiles = [\n'
        '  {file = "typing_extensions-4.15.0-py3-none-any.whl", hash = "sha256:aa"},\n'
        '  {url = "https://files.example.com/p/typing_extensions-4.15.0%2Bx.tar.gz?x=1#y", hash = "sha256:bb"},\n'
        '  {url = "https://files.example.com/no-hash.tar.gz"}, "not a table",\n]\n'
        '[[package]]\nversion = "1"\n\n[[package]]\nname = "no-version"\n')
    assert Locked().locked_files(build) == {
        "typing-extensions": [
            LockedFile("sha256:aa", "4.15.0", "typing_extensions-4.15.0-py3-none-any.whl"),
            LockedFile("sha256:bb", "4.15.0", "typing_extensions-4.15.0+x.tar.gz"),
        ],
        "no-version": [],
    }
