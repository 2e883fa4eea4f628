"""What the buildpack reads from pyproject.toml.

With the standard library's tomllib where it exists (Python 3.11+), else the
vendored tomli (heroku-22's Python 3.10): the same parser, so every image
reads the file the same way, and as strictly as the package managers do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from . import app_files, errors, python_range
from .python_range import PythonRange

FILE = "pyproject.toml"


@dataclass(frozen=True)
class Pyproject:
    requires_python: Optional[str]  # [project] requires-python
    has_build_system: bool  # uv installs such a project itself
    poetry_package_mode: bool  # Poetry installs the project itself unless false
    poetry_python: Optional[str] = None  # [tool.poetry.dependencies] python
    pdm_distribution: bool = False  # PDM installs the project itself
    # The environment variables [[tool.pdm.source]] URLs name (`${NAME}`,
    # credentials of a private index): PDM reads them when it installs.
    pdm_source_variables: tuple[str, ...] = ()


def read(build_dir: Path) -> Optional[Pyproject]:
    path = build_dir / FILE
    if not path.is_file():
        return None
    return app_files.parse_once(path, _read)


def _read(path: Path) -> Pyproject:
    data = _parse(path)
    project = _table(data, "project")
    poetry = _table(_table(data, "tool"), "poetry")
    pdm = _table(_table(data, "tool"), "pdm")
    return Pyproject(
        requires_python=_string(project.get("requires-python"), "[project] requires-python", ">=3.12"),
        has_build_system="build-system" in data,
        poetry_package_mode=poetry.get("package-mode", True) is not False,
        poetry_python=_string(_table(poetry, "dependencies").get("python"), "[tool.poetry.dependencies] python", "^3.12"),
        pdm_distribution=_pdm_distribution(project, pdm),
        pdm_source_variables=_pdm_source_variables(pdm),
    )


def _pdm_distribution(project: dict[str, Any], pdm: dict[str, Any]) -> bool:
    """Whether PDM installs the project itself, as PDM decides it
    (Project.is_distribution): a named project, unless [tool.pdm] says
    package-type = "application" or distribution = false."""
    if not project.get("name"):
        return False
    if "package-type" in pdm:
        return bool(pdm["package-type"] == "library")
    return bool(pdm.get("distribution", True))


# PDM expands `${NAME}` in a source's URL, and only that form.
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _pdm_source_variables(pdm: dict[str, Any]) -> tuple[str, ...]:
    sources = pdm.get("source")
    urls = [source.get("url") for source in sources if isinstance(source, dict)] if isinstance(sources, list) else []
    return tuple(sorted({name for url in urls if isinstance(url, str) for name in _VARIABLE.findall(url)}))


def _parse(path: Path) -> dict[str, Any]:
    try:
        raw = app_files.read_bytes(path)
    except app_files.NotUsable as problem:
        raise errors.pyproject_invalid(f"is {problem}") from None
    except OSError as error:
        raise errors.pyproject_invalid(f"can't be read ({error.strerror or error})") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raise errors.pyproject_invalid("starts with a byte order mark (BOM): save it as UTF-8 without one")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise errors.pyproject_invalid(
            f"isn't UTF-8 text (byte {error.start + 1} can't be decoded): TOML files are UTF-8"
        ) from None
    tomllib = _tomllib()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # The message ends with the position: "... (at line 3, column 9)".
        raise errors.pyproject_invalid(f"isn't valid TOML: {error}") from None


def read_toml(path: Path) -> dict[str, Any]:
    """Another of the app's TOML files (a lockfile), with the same parser:
    ValueError if it isn't TOML; an error naming it if it can't be read or
    isn't UTF-8."""
    return _tomllib().loads(app_files.read_text(path))


def _tomllib() -> Any:
    """The TOML parser, imported when a TOML file is first read: most
    builds read none."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _string(value: Any, key: str, example: str) -> Optional[str]:
    """A version range's text; None when absent or blank."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.pyproject_invalid(f"has {key} as {_kind(value)}, but it must be a string, such as \"{example}\"")
    return value if value.strip() else None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    return "a table" if isinstance(value, dict) else "a list" if isinstance(value, list) else "a date or time"


def requires_python_range(build_dir: Path) -> tuple[PythonRange, ...]:
    """[project] requires-python as a PEP 440 range, if the app has one."""
    project = read(build_dir)
    found = python_range.pep440(python_range.REQUIRES_PYTHON, project.requires_python if project else None)
    return (found,) if found else ()
