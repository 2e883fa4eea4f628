"""What the buildpack reads from pyproject.toml.

tomllib is in the standard library from Python 3.11; on heroku-22 (3.10)
a small reader handles the few keys the buildpack needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from . import errors


@dataclass(frozen=True)
class Pyproject:
    requires_python: Optional[str]
    has_build_system: bool  # uv installs such a project itself
    poetry_package_mode: bool  # Poetry installs the project itself unless false


def read(build_dir: Path) -> Optional[Pyproject]:
    path = build_dir / "pyproject.toml"
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise errors.pyproject_invalid("it isn't UTF-8 text") from None
    data = _parse(text)
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    requires = project.get("requires-python")
    return Pyproject(
        requires_python=requires if isinstance(requires, str) and requires.strip() else None,
        has_build_system="build-system" in data,
        poetry_package_mode=poetry.get("package-mode", True) is not False if isinstance(poetry, dict) else True,
    )


def _parse(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        return _parse_subset(text)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise errors.pyproject_invalid(str(error)) from None


_TABLE = re.compile(r"^\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\s*(#.*)?$")
_KEY_VALUE = re.compile(r"""^([A-Za-z0-9_\-]+)\s*=\s*("[^"]*"|'[^']*'|true|false)\s*(#.*)?$""")


def _parse_subset(text: str) -> dict[str, Any]:
    """Tables and their string or boolean keys; anything else is skipped."""
    data: dict[str, Any] = {}
    table = data
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[["):
            table = {}
            continue
        match = _TABLE.match(line)
        if match:
            table = data
            for part in match.group(1).split("."):
                table = table.setdefault(part.strip().strip("\"'"), {})
            continue
        match = _KEY_VALUE.match(line)
        if match:
            value = match.group(2)
            table[match.group(1)] = value[1:-1] if value[0] in "\"'" else value == "true"
    return data
