"""Which package manager installs the app's dependencies, and what each one
must provide. The managers themselves are pip.py, pipenv.py, poetry.py and
uv.py; each tool's version is pinned in requirements/<tool>.txt."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Optional

from . import app_files, errors, install_hints, pyproject, python_range, python_version
from .cache import BuildCache
from .commands import CommandResult
from .config_vars import BuildConfig
from .runtime_env import PythonLocation
from .python_range import PythonRange

REQUIREMENTS_DIR = Path(__file__).resolve().parents[2] / "requirements"

# The file that selects each manager, in the order they are listed to users.
MANAGER_FILES = (
    ("Pipfile.lock", "pipenv"),
    ("requirements.txt", "pip"),
    ("poetry.lock", "poetry"),
    ("uv.lock", "uv"),
)


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


@dataclass
class InstallContext:
    location: PythonLocation
    build_dir: Path
    env: dict[str, str]
    config: BuildConfig
    cache: BuildCache
    # Heroku CI (bin/test-compile): install the test dependencies too.
    install_test: bool = False


@dataclass(frozen=True)
class ToolEnvironment:
    """What a manager adds to the environment.

    `build` goes to the build's own commands and the export file (later
    buildpacks); `runtime` lines go to .profile.d, with $HOME paths.
    """

    path: tuple[str, ...] = ()
    build: Mapping[str, str] = field(default_factory=dict)
    runtime_path: tuple[str, ...] = ()
    runtime: Mapping[str, str] = field(default_factory=dict)

    def with_nltk_data(self, location: PythonLocation) -> "ToolEnvironment":
        """Also point NLTK at the corpora the build downloaded."""
        return replace(
            self,
            build={**self.build, "NLTK_DATA": str(location.home / "nltk_data")},
            runtime={**self.runtime, "NLTK_DATA": "$HOME/.heroku/python/nltk_data"},
        )


class PackageManager:
    name: str = ""
    label: str = ""  # as users know it: "Pipenv", "Poetry"
    file_name: str = ""  # the file that lists the dependencies
    # Whether a changed dependency file discards the cached install (pip
    # can't remove what a requirements file no longer lists; sync can).
    discard_cache_on_change: bool = True
    # Output of a failed install that means the lockfile is out of date,
    # and the command that updates it.
    outdated_markers: tuple[str, ...] = ()
    lock_command: str = ""
    # Whether the tool refuses a Python that pyproject.toml's range doesn't
    # allow (Poetry, uv): the build checks the chosen version first, with a
    # clearer message.
    enforces_python_range: bool = False

    @property
    def version(self) -> str:
        return pinned_version(self.name)

    def python_ranges(self, build_dir: Path) -> tuple[PythonRange, ...]:
        """pyproject.toml's Python version ranges, read as this tool reads them.

        pip and Pipenv don't check requires-python (PEP 440) when they install
        the app's dependencies: it only picks the version when no file names
        one, so only then is pyproject.toml read.
        """
        if python_version.names_version(build_dir):
            return ()
        return requires_python_range(build_dir)

    def dependencies(self, build_dir: Path) -> Dependencies:
        raise NotImplementedError

    def install_tool(self, context: InstallContext) -> None:
        raise NotImplementedError

    def environment(self, context: InstallContext) -> ToolEnvironment:
        return ToolEnvironment()

    def install_dependencies(self, context: InstallContext) -> None:
        raise NotImplementedError

    def install_failed(self, result: CommandResult, shown: str) -> errors.BuildError:
        """The error for a failed dependency install: an outdated lockfile, or the tool's failure."""
        if self.outdated_markers and result.mentions(*self.outdated_markers):
            return errors.lockfile_outdated(self.file_name, self.lock_command)
        return install_hints.install_error(result.output, self.label, shown)


def requires_python_range(build_dir: Path) -> tuple[PythonRange, ...]:
    """[project] requires-python as a PEP 440 range, if the app has one."""
    project = pyproject.read(build_dir)
    found = python_range.pep440(python_range.REQUIRES_PYTHON, project.requires_python if project else None)
    return (found,) if found else ()


class LockfileSync(PackageManager):
    """A manager that syncs the install to its lockfile (Poetry, uv): it
    removes what the lock no longer has, so a changed lock keeps the cache."""

    discard_cache_on_change = False
    # Lockfile text that marks packages installed from local paths or VCS.
    local_source_markers: tuple[str, ...] = ()

    def installs_project_itself(self, build_dir: Path) -> Optional[str]:
        """Why the tool installs the project itself from the build dir, if it does."""
        raise NotImplementedError

    def dependencies(self, build_dir: Path) -> Dependencies:
        lockfile = build_dir / self.file_name
        fingerprint = file_fingerprint(lockfile, build_dir / "pyproject.toml")
        reason = self.installs_project_itself(build_dir)
        lock = read_text(lockfile)
        if reason is None and any(marker in lock for marker in self.local_source_markers):
            reason = f"{self.file_name} installs packages from local paths or version control"
        return Dependencies(fingerprint, reason)


def read_text(path: Path) -> str:
    """One of the app's dependency files, as UTF-8 text, which the tools
    require: an error naming the file if it can't be read or isn't text."""
    data = app_files.read_app_file(path, path.name)
    bad = app_files.first_bad_utf8(data)
    if bad is not None:
        raise errors.file_not_utf8(path.name, bad.offset, bad.line)
    return data.decode("utf-8")


def detect(build_dir: Path) -> PackageManager:
    """The app's package manager: exactly one manager file must be present."""
    from .pip import Pip
    from .pipenv import Pipenv
    from .poetry import Poetry
    from .uv import Uv

    managers = {"pip": Pip, "pipenv": Pipenv, "poetry": Poetry, "uv": Uv}
    found = [(name, manager) for name, manager in MANAGER_FILES if _present(build_dir / name)]
    if len(found) > 1:
        raise errors.multiple_package_managers([(name, managers[m].label) for name, m in found])
    if found:
        file_name, manager = found[0]
        if not (build_dir / file_name).is_file():
            raise errors.not_a_file(file_name, "the app's dependencies")
        return managers[manager]()
    if _present(build_dir / "Pipfile"):
        raise errors.pipfile_without_lock()
    if _present(build_dir / "pyproject.toml"):
        raise errors.pyproject_without_lock(_pyproject_tool(build_dir))
    if _present(build_dir / "setup.py") or _present(build_dir / "setup.cfg"):
        raise errors.setup_py_only()
    raise errors.no_package_manager_files(list_directory(build_dir))


def _present(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def installed_version(prefix: Path, package: str) -> Optional[str]:
    """The version of `package` installed in the Python environment at `prefix`."""
    for dist_info in prefix.glob(f"lib/python3*/site-packages/{package}-*.dist-info"):
        return dist_info.name[len(f"{package}-"):-len(".dist-info")]
    return None


def has_module(prefix: Path, module: str) -> bool:
    """Whether the Python environment at `prefix` has the top-level package `module`."""
    return any(prefix.glob(f"lib/python3*/site-packages/{module}/__init__.py"))


def _pyproject_tool(build_dir: Path) -> Optional[str]:
    """'poetry' or 'uv' when pyproject.toml shows which tool the app uses."""
    try:
        text = (build_dir / "pyproject.toml").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if "[tool.poetry" in text:
        return "poetry"
    if "[tool.uv" in text or "[dependency-groups]" in text:
        return "uv"
    return None


def list_directory(directory: Path, limit: int = 40) -> str:
    """The directory's entries, one a line, indented; directories end in '/'."""
    entries = sorted(
        f"{entry.name}/" if entry.is_dir() and not entry.is_symlink() else entry.name
        for entry in directory.iterdir()
    )
    shown = entries[:limit] + ([f"... and {len(entries) - limit} more"] if len(entries) > limit else [])
    return "\n".join(f"    {name}" for name in shown) if shown else "    (nothing: the directory is empty)"


def pinned_version(tool: str, requirements_dir: Path = REQUIREMENTS_DIR) -> str:
    """The version pinned in requirements/<tool>.txt (`tool==X.Y.Z`)."""
    for line in (requirements_dir / f"{tool}.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith(f"{tool}=="):
            return line.split("==", 1)[1].strip()
    raise ValueError(f"requirements/{tool}.txt has no '{tool}==' pin")


def file_fingerprint(*paths: Path) -> str:
    """sha256 over the named files' names and contents (missing files count)."""
    digest = hashlib.sha256()
    for path in paths:
        try:
            content = app_files.read_bytes(path)
        except (OSError, app_files.NotUsable):
            content = b"\0missing\0"
        digest.update(f"{path.name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()
