"""What a package manager must provide: the interface each manager module
(pip.py, pipenv.py, poetry.py, uv.py, pdm.py) implements. Which managers there are,
and choosing the app's, is managers.py.

A manager owns every rule that depends on it: where the Python version may
come from, the cache rule for its dependencies, its tool (a ToolLayer), the
environment it adds, the command that installs the dependencies, and the
hashes its files pin them to (for the SBOM, sbom.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional
from urllib.parse import unquote

from . import app_files, bundled_pip, errors, install_hints, pyproject, python_version, site_packages
from .build import Build
from .cache import DependenciesKey
from .commands import CommandResult
from .environment import Variable
from .python_location import PythonLocation
from .python_range import PythonRange
from .python_version import RequestedVersion, VersionSources
from .tool_versions import pinned_version


@dataclass(frozen=True)
class Dependencies:
    """What decides whether installed dependencies can be reused as they are.

    `fingerprint` covers the files that list the dependencies.
    `reinstall_reason` says why the install must run even when they are
    unchanged (local paths, editables or the project itself, whose content
    the files don't capture).
    """

    fingerprint: str
    reinstall_reason: Optional[str] = None


@dataclass(frozen=True)
class LockedFile:
    """A distribution file the app's dependency files allow for a package:
    the installer took only a file with one of these hashes."""

    hash: str  # "sha256:<hex>", as the files write it
    version: Optional[str] = None  # the package's version they pin, when they say
    # Which file it is: None when the files list hashes without saying
    # (requirements.txt's --hash, Pipfile.lock).
    file_name: Optional[str] = None


# By name, normalized (site_packages.normalized_name).
LockedFiles = dict[str, list[LockedFile]]


@dataclass
class InstallContext:
    """What installing the tool and the dependencies needs: the build, the
    app's Python, and the environment the build's commands run in."""

    build: Build
    location: PythonLocation
    env: dict[str, str]
    python_version: str  # the exact version the build installs
    # The restored install is kept as it is, dependencies and all: the last
    # build with the same dependency files left it so (compile.py).
    install_kept: bool = False

    @property
    def build_dir(self) -> Path:
        """The app's directory (Build.app_dir: PYTHON_APP_DIR's, or the
        build dir), where its files are read and its tools run."""
        return self.build.app_dir

    @property
    def install_test(self) -> bool:
        return self.build.install_test

    @property
    def pip_settings(self) -> dict[str, str]:
        """The app's pip index settings (a private index), for every pip run."""
        return bundled_pip.pip_settings(self.build.config)

    @property
    def pip_cache_dir(self) -> Path:
        return self.build.cache.pip_dir


class PackageManager:
    name: str = ""
    label: str = ""  # as users know it: "Pipenv", "Poetry"
    file_name: str = ""  # the file that lists the dependencies, and selects the manager
    # Text in pyproject.toml that shows the app uses this tool (for the
    # error when the lockfile is missing).
    pyproject_markers: tuple[str, ...] = ()
    # The files a test build (bin/test-compile) installs too.
    test_files: tuple[str, ...] = ()
    # Whether the tool removes what its files no longer list (sync), so a
    # changed file keeps the cached install (cache.DependenciesKey).
    syncs: bool = False
    # Its directories in the build cache (tools kept out of the slug, download
    # caches): removed when the app switches to another manager.
    cache_dirs: tuple[str, ...] = ()
    # Output of a failed install that means the lockfile is out of date,
    # and the command that updates it.
    outdated_markers: tuple[str, ...] = ()
    lock_command: str = ""
    # Whether the tool refuses a Python that pyproject.toml's range doesn't
    # allow (Poetry, uv, PDM): the build checks the chosen version first, with a
    # clearer message.
    enforces_python_range: bool = False

    @property
    def version(self) -> str:
        return pinned_version(self.name)

    # -- the Python version -------------------------------------------------

    def version_sources(self, build_dir: Path) -> VersionSources:
        """What this manager's files say about the Python version."""
        return VersionSources(ranges=self.python_ranges(build_dir))

    def python_ranges(self, build_dir: Path) -> tuple[PythonRange, ...]:
        """pyproject.toml's Python version ranges, read as this tool reads them.

        pip and Pipenv don't check requires-python (PEP 440) when they install
        the app's dependencies: it only picks the version when no file names
        one, so only then is pyproject.toml read.
        """
        if python_version.names_version(build_dir):
            return ()
        return pyproject.requires_python_range(build_dir)

    def check_requested_python(self, requested: RequestedVersion) -> None:
        """Refuse a request this manager can't build with (uv: no .python-version)."""

    def check_python(self, requested: RequestedVersion, version: str, sources: VersionSources) -> None:
        """Refuse a version the tool itself would refuse later, with a clearer message."""
        if self.enforces_python_range:
            python_version.check_ranges(requested, version, sources.ranges, self.lock_command)

    # -- the dependencies ---------------------------------------------------

    def dependencies(self, build_dir: Path) -> Dependencies:
        raise NotImplementedError

    def installer(self, build: Build) -> str:
        """What installs the dependencies: the manager itself, except for pip
        apps (pip.py: uv by default)."""
        return self.name

    def dependencies_key(self, build: Build) -> tuple[DependenciesKey, Optional[str]]:
        """The cache key of the dependencies to install, and why they must be
        installed even when it is unchanged (None when they needn't be)."""
        build_dir = build.app_dir
        found = self.dependencies(build_dir)
        fingerprint = found.fingerprint
        if build.install_test:
            tests = app_files.fingerprint(*(build_dir / name for name in self.test_files))
            fingerprint = app_files.hash_text(f"tests\0{tests}\0{fingerprint}")
        key = DependenciesKey(self.name, self.version, fingerprint, file_name=self.file_name, syncs=self.syncs,
                              installer=self.installer(build))
        return key, found.reinstall_reason

    def prefetch_tool(self, context: InstallContext) -> None:
        """Start downloading what install_tool needs, while the runtime
        downloads (uv.prefetch): nothing by default."""

    def tool_requirement(self) -> Optional[str]:
        """The requirement uv installs the tool from (pip, Pipenv, Poetry,
        PDM), or None for a tool that isn't installed with uv."""
        return None

    def packages_to_prefetch(self, build: Build) -> list[list[str]]:
        """What uv may download into its cache while the runtime unpacks, on
        a first build (uv.warm_up): `uv pip install` argument lists. The tool
        by default (Pipenv, Poetry, PDM: several MB and packages each)."""
        requirement = self.tool_requirement()
        return [[requirement]] if requirement else []

    def install_tool(self, context: InstallContext) -> None:
        raise NotImplementedError

    def environment(self, context: InstallContext) -> tuple[Variable, ...]:
        """What the manager adds to the environment (environment.py's table)."""
        return ()

    def install_dependencies(self, context: InstallContext) -> None:
        raise NotImplementedError

    def install_failed(self, result: CommandResult, shown: str) -> errors.BuildError:
        """The error for a failed dependency install: an outdated lockfile, or the tool's failure."""
        if self.outdated_markers and result.mentions(*self.outdated_markers):
            return errors.lockfile_outdated(self.file_name, self.lock_command)
        return install_hints.install_error(result.output, self.label, shown)

    def locked_files(self, build: Build) -> LockedFiles:
        """The hashes the app's files pin its dependencies to, from what the
        build parsed already (app_files.parse_once): none by default."""
        return {}


class LockfileSync(PackageManager):
    """A manager that syncs the install to its lockfile (Poetry, uv, PDM): it
    removes what the lock no longer has, so a changed lock keeps the cache."""

    syncs = True
    # Lockfile text that marks packages installed from local paths or VCS.
    local_source_markers: tuple[str, ...] = ()

    def installs_project_itself(self, build_dir: Path) -> Optional[str]:
        """Why the tool installs the project itself from the build dir, if it does."""
        raise NotImplementedError

    def dependencies(self, build_dir: Path) -> Dependencies:
        lockfile = build_dir / self.file_name
        fingerprint = app_files.fingerprint(lockfile, build_dir / pyproject.FILE)
        reason = self.installs_project_itself(build_dir)
        lock = app_files.read_text(lockfile)
        if reason is None and any(marker in lock for marker in self.local_source_markers):
            reason = f"{self.file_name} installs packages from local paths or version control"
        return Dependencies(fingerprint, reason)

    def package_files(self, package: dict[str, Any]) -> list[tuple[str, str]]:
        """One [[package]] table's distribution files: (file name, hash)."""
        raise NotImplementedError

    def locked_files(self, build: Build) -> LockedFiles:
        """Every file the lockfile lists for each package, by name: the
        lockfile has the hashes of all of a release's wheels and its sdist,
        whichever the tool installed (sbom.py finds out which)."""
        found: LockedFiles = {}
        for package in app_files.parse_once(build.app_dir / self.file_name, _lock_packages):
            name, version = package.get("name"), package.get("version")
            if not isinstance(name, str):
                continue
            files = found.setdefault(site_packages.normalized_name(name), [])
            files += [LockedFile(hash, version if isinstance(version, str) else None, file_name)
                      for file_name, hash in self.package_files(package)]
        return found


def _lock_packages(path: Path) -> list[dict[str, Any]]:
    """A TOML lockfile's [[package]] tables (poetry.lock, uv.lock)."""
    packages = pyproject.read_toml(path).get("package", [])
    return [package for package in packages if isinstance(package, dict)] if isinstance(packages, list) else []


def files_table(package: dict[str, Any]) -> list[tuple[str, str]]:
    """poetry.lock's and pdm.lock's way: files = [{file = "flask-3.1.3-py3-none-any.whl",
    hash = "sha256:..."}, ...]"""
    files = package.get("files")
    found = [file_entry(entry, ("file",)) for entry in files] if isinstance(files, list) else []
    return [each for each in found if each]


def file_entry(entry: Any, name_keys: tuple[str, ...]) -> Optional[tuple[str, str]]:
    """A lockfile's {file/url/path, hash} table as (file name, hash): the
    file name is the last part of the first of `name_keys` it has."""
    if not isinstance(entry, dict) or not isinstance(entry.get("hash"), str):
        return None
    for key in name_keys:
        value = entry.get(key)
        if isinstance(value, str) and value:
            return unquote(value.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]), entry["hash"]
    return None

