"""Which package manager installs the app's dependencies, and its pinned version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import errors

REQUIREMENTS_DIR = Path(__file__).resolve().parents[2] / "requirements"

# The file that selects each manager, in the order they're listed to users.
_LOCKFILES = (
    ("Pipfile.lock", "Pipenv"),
    ("poetry.lock", "Poetry"),
    ("uv.lock", "uv"),
)


@dataclass(frozen=True)
class PackageManager:
    name: str
    file_name: str


PIP = PackageManager("pip", "requirements.txt")


def detect(build_dir: Path) -> PackageManager:
    requirements = build_dir / "requirements.txt"
    if requirements.exists() or requirements.is_symlink():
        if not requirements.is_file():
            raise errors.requirements_not_a_file()
        return PIP
    for file_name, tool in _LOCKFILES:
        if (build_dir / file_name).exists():
            raise errors.package_manager_not_supported_yet(file_name, tool)
    if (build_dir / "Pipfile").exists():
        raise errors.package_manager_not_supported_yet("Pipfile", "Pipenv")
    if (build_dir / "setup.py").exists() or (build_dir / "setup.cfg").exists():
        raise errors.setup_py_only()
    raise errors.no_package_manager_files(list_directory(build_dir))


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
