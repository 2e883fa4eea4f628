"""The package managers the buildpack knows, and which one an app uses.

Adding a manager: write its module (see package_manager.py for what it
provides) and add it to MANAGERS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from . import app_files, errors, pyproject
from .package_manager import PackageManager
from .pdm import Pdm
from .pip import Pip
from .pipenv import Pipenv
from .poetry import Poetry
from .uv import Uv

# In the order they are listed to users.
MANAGERS: tuple[type[PackageManager], ...] = (Pipenv, Pip, Poetry, Uv, Pdm)


def detect(build_dir: Path) -> PackageManager:
    """The app's package manager: exactly one manager's file must be present."""
    found = [manager for manager in MANAGERS if app_files.present(build_dir / manager.file_name)]
    if len(found) > 1:
        raise errors.multiple_package_managers([(manager.file_name, manager.label) for manager in found])
    if found:
        manager = found[0]
        if not (build_dir / manager.file_name).is_file():
            raise errors.not_a_file(manager.file_name, "the app's dependencies")
        return manager()
    if app_files.present(build_dir / "Pipfile"):
        raise errors.pipfile_without_lock()
    if app_files.present(build_dir / pyproject.FILE):
        raise errors.pyproject_without_lock(_pyproject_tool(build_dir))
    if app_files.present(build_dir / "setup.py") or app_files.present(build_dir / "setup.cfg"):
        raise errors.setup_py_only()
    raise errors.no_package_manager_files(app_files.list_directory(build_dir))


def unused_cache_dirs(manager: PackageManager) -> tuple[str, ...]:
    """The other managers' directories in the build cache (uv's serve them all)."""
    names = {name for other in MANAGERS for name in other.cache_dirs} - set(manager.cache_dirs)
    return tuple(sorted(names))


def _pyproject_tool(build_dir: Path) -> Optional[str]:
    """The manager whose settings pyproject.toml has ('poetry', 'uv', 'pdm'), if any."""
    try:
        text = (build_dir / pyproject.FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = [manager for manager in MANAGERS if any(marker in text for marker in manager.pyproject_markers)]
    # A tool's own [tool.<name>] table says more than a table several tools
    # read ([dependency-groups]: uv's and PDM's).
    own = [manager for manager in found if f"[tool.{manager.name}" in text]
    return (own or found)[0].name if found else None
