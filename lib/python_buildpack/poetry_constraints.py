"""Poetry's version constraints as PEP 440 specifier sets.

Poetry reads `[tool.poetry.dependencies] python`, and for Poetry apps also
`[project] requires-python`, with its own grammar, a superset of PEP 440's.
The buildpack must read them as Poetry does: `poetry sync` refuses a Python
its constraint doesn't allow. This turns a constraint into alternatives
(specifier sets of the vendored packaging); a version is allowed when any one
of them contains it. test/unit/test_poetry_constraints.py checks the result
against poetry-core itself on a table of constraints and versions.

The grammar, as poetry-core (2.x) reads it:

- `||` (or `|`) separates alternatives. Within one, a comma or whitespace
  separates constraints that all apply (`>=3.11,<3.14`, `>=3.11 <3.14`);
  whitespace after an operator belongs to it (`>= 3.11`); a trailing comma
  is ignored.
- `*` (also `x`, `X`, `*.*`) allows any version.
- `^V`: at least V, below the next version that changes V's first non-zero
  part (`^3.12` is `>=3.12,<4`; `^0.3` is `>=0.3,<0.4`).
- `~V`: at least V, below the next minor (`~3.12` and `~3.12.1` are below
  3.13); `~3` is below 4.
- `~=V`: as PEP 440 (`~=3.12` is `>=3.12,<4`), and `~=3` is `>=3,<4`.
- `V.*`, `==V.*`, `=V.*` match the prefix; `!=V.*` excludes it.
- `V`, `=V`, `==V` mean exactly V: `3.12` allows 3.12.0 only, not 3.12.4
  (Poetry compares a bare version like `==`, whatever its precision).
- `<`, `<=`, `>`, `>=`, `!=` as in PEP 440; a `.*` after `<`, `<=`, `>` or
  `>=` is ignored.

Left out on purpose: `<>` (poetry-core reads `<>3.12` as `==3.12`, the
opposite of what it says, so it is reported as invalid instead) and a
wildcard after a pre-release (`3.12rc1.*`).
"""

from __future__ import annotations

import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

_ALTERNATIVES = re.compile(r"\s*\|\|?\s*")
# One constraint: an operator (whitespace may follow it) and a version.
_TERM = re.compile(r"(?P<op>\^|~=|~|==|!=|<>|<=|>=|<|>|=)?\s*(?P<version>[^\s,|]+)")
_SEPARATOR = re.compile(r"\s*,\s*|\s+")
_ANY = re.compile(r"v?[xX*](\.[xX*])*")


class InvalidConstraint(ValueError):
    """The constraint isn't Poetry syntax; the message says which part."""


def to_specifier_sets(constraint: str) -> list[SpecifierSet]:
    """The alternatives of a Poetry constraint; a version is allowed when
    any one of them contains it."""
    return [_all_of(alternative) for alternative in _ALTERNATIVES.split(constraint.strip())]


def _all_of(text: str) -> SpecifierSet:
    text = text.rstrip(",").rstrip()
    specifiers: list[str] = []
    position = 0
    while True:
        term = _TERM.match(text, position)
        if term is None:
            raise InvalidConstraint(f"'{text[position:] or text}' isn't a version constraint")
        specifiers.extend(_specifiers(term.group("op") or "", term.group("version")))
        position = term.end()
        if position == len(text):
            break
        separator = _SEPARATOR.match(text, position)
        if separator is None:
            raise InvalidConstraint(f"unexpected '{text[position:]}'")
        position = separator.end()
    try:
        return SpecifierSet(",".join(specifiers))
    except InvalidSpecifier as error:  # not expected: the parts were checked
        raise InvalidConstraint(str(error)) from None


def _specifiers(op: str, text: str) -> list[str]:
    """One constraint as PEP 440 specifiers (none: any version)."""
    if _ANY.fullmatch(text):
        if not op:
            return []
        raise InvalidConstraint(f"'{op}{text}' isn't a version constraint")
    if op == "<>":
        raise InvalidConstraint(f"'<>' isn't supported (write '!={text}' to exclude a version)")
    wildcard = text.endswith(".*")
    if wildcard:
        text = re.sub(r"(\.\*)+$", "", text)
        if op in ("^", "~", "~="):
            raise InvalidConstraint(f"'{op}{text}.*' mixes '{op}' with a wildcard")
    version = _version("0.0.dev0" if text == "dev" else text)
    if wildcard and op in ("", "=", "==", "!="):
        if not re.fullmatch(r"v?\d+(\.\d+)*", text):
            raise InvalidConstraint(f"a wildcard needs a plain version such as 3.12, not '{text}'")
        return [f"{'!=' if op == '!=' else '=='}{_release(version)}.*"]
    if op in ("<", "<=", ">", ">=", "!="):
        return [f"{op}{version}"]
    if op in ("", "=", "=="):
        return [f"=={version}"]
    return [f">={version}", f"<{_upper_bound(op, version)}"]


def _upper_bound(op: str, version: Version) -> str:
    """The exclusive upper bound of `^V`, `~V` or `~=V`."""
    parts = list(version.release)
    if op == "^":
        # The first non-zero part changes; a part not written counts as
        # non-zero (^0 is <1, ^0.0 is <0.1, ^0.0.3 is <0.0.4).
        if parts[0] or len(parts) == 1:
            index = 0
        elif parts[1] or len(parts) == 2:
            index = 1
        else:
            index = 2
    elif op == "~":
        index = 0 if len(parts) == 1 else 1
    else:  # ~=
        index = max(len(parts) - 2, 0)
    return _bump(parts, index)


def _bump(parts: list[int], index: int) -> str:
    return ".".join(str(part) for part in [*parts[:index], parts[index] + 1])


def _release(version: Version) -> str:
    return ".".join(str(part) for part in version.release)


def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise InvalidConstraint(f"'{text}' isn't a version") from None
