"""The Python versions a project allows, from pyproject.toml.

Each package manager reads its own keys in its own syntax (see
PackageManager.python_ranges): PEP 440 `requires-python` for pip, Pipenv,
uv and PDM; Poetry's constraint syntax for Poetry, in `requires-python` and in
`[tool.poetry.dependencies] python`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence

from . import errors

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

FILE = "pyproject.toml"
REQUIRES_PYTHON = "requires-python"
POETRY_PYTHON = "[tool.poetry.dependencies] python"


@dataclass(frozen=True)
class PythonRange:
    """One key's range: `text` as written, and the alternatives it means
    (a version is allowed when any one contains it)."""

    key: str
    text: str
    alternatives: tuple[SpecifierSet, ...]

    def allows(self, version: str) -> bool:
        return any(alternative.contains(version) for alternative in self.alternatives)

    @property
    def shown(self) -> str:
        """As the build log names it: requires-python '>=3.12'."""
        return f"{self.key} '{self.text}'"


def pep440(key: str, text: Optional[str]) -> Optional[PythonRange]:
    """A PEP 440 range (`>=3.11,<3.14`), as pip, Pipenv and uv read it."""
    if text is None:
        return None
    # packaging (and Poetry's reader, below) are imported when a range is
    # read: most builds have none, and packaging takes a while to import.
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return PythonRange(key, text, (SpecifierSet(text),))
    except InvalidSpecifier:
        raise errors.python_range_invalid(FILE, key, text, "not PEP 440", poetry=False) from None


def poetry(key: str, text: Optional[str]) -> Optional[PythonRange]:
    """A Poetry constraint (`^3.12`, `3.12.*`, `>=3.11 <3.14 || >=3.14.1`)."""
    if text is None:
        return None
    from . import poetry_constraints

    try:
        return PythonRange(key, text, tuple(poetry_constraints.to_specifier_sets(text)))
    except poetry_constraints.InvalidConstraint as error:
        raise errors.python_range_invalid(FILE, key, text, str(error), poetry=True) from None


def allowed_by_all(ranges: Sequence[PythonRange], version: str) -> bool:
    return all(python_range.allows(version) for python_range in ranges)


def first_refusing(ranges: Sequence[PythonRange], version: str) -> Optional[PythonRange]:
    return next((python_range for python_range in ranges if not python_range.allows(version)), None)


def is_bare_major(python_range: PythonRange) -> bool:
    """Whether the range is exactly one major version written bare (Poetry's
    `3.12` or `==3.12`): it allows X.Y.0 only, though its author most likely
    meant any X.Y release."""
    if len(python_range.alternatives) != 1 or len(python_range.alternatives[0]) != 1:
        return False
    specifier = next(iter(python_range.alternatives[0]))
    return specifier.operator == "==" and specifier.version.count(".") == 1
