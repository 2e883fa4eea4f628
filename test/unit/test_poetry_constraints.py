"""Poetry's constraint syntax, read as poetry-core reads it.

poetry-core (pinned in requirements.txt, the version the pinned Poetry uses)
answers in a subprocess: importing it here would put its own vendored
packaging and tomli first on sys.path for the rest of the test session.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from python_buildpack import poetry_constraints
from python_buildpack.poetry_constraints import InvalidConstraint

CONSTRAINTS = [
    # Exact versions: a bare version means that version only (3.12 is 3.12.0).
    "3.12", "==3.12", "=3.12", "3.12.4", "v3.12", "!=3.12",
    # Wildcards.
    "3.12.*", "==3.12.*", "=3.12.*", "!=3.12.*", "3.*", "3.*.*", "3.12.0.*", "*", "x", "X", "*.*",
    # Caret, tilde and PEP 440's compatible release.
    "^3.12", "^3", "^3.12.1", "^0.3", "^0.0.3", "^0.0", "^0", "^ 3.12",
    "~3.12", "~3", "~3.12.1", "~ 3.12", "~=3.12", "~=3.12.1", "~=3", "~=3.10.0",
    # Comparisons, and ranges separated by commas or spaces.
    ">3.12", "<=3.12", "<3.12", ">=3.12.*", "<3.13.*", ">=v3.12", ">= 3.11",
    ">=3.11,<3.14", ">=3.11 <3.14", ">=3.11, <3.14", ">= 3.11, < 3.14", ">=3.11,<3.14,", ">3.11 <=3.13.2",
    ">=3.10,<4.0", "^3.10,!=3.11.*", ">=3.10 !=3.12.*  <3.14", ">=3.12.0rc1", ">=dev",
    # Alternatives.
    "^3.11 || ^3.13", "3.11 || 3.13", "3.11.*|3.13.*", ">=3.11,<3.13 || >=3.14",
    # Invalid to both.
    "", "3.x", ">=3.11,,<3.14", "3.12 - 3.13", "^3.12.*", "==*", ">=*", "=== 3.12", "abc", "^3.11 ||",
    ">=3.11;<3.14",
]
VERSIONS = [f"3.{minor}.{patch}" for minor in range(8, 16) for patch in (0, 1, 2, 4, 7, 15, 21)] + [
    "0.0.3", "0.0.4", "0.1.0", "0.3.0", "0.3.5", "0.4.0", "2.7.18", "4.0.0", "4.1.0",
]

# What poetry-core's parser says, for Poetry's python constraint (parsed as a
# marker constraint, as Package.python_versions does).
POETRY_CORE = """
import json, sys
from poetry.core.constraints.version import Version, parse_marker_version_constraint
constraints, versions = json.load(sys.stdin)
answers = {}
for constraint in constraints:
    try:
        parsed = parse_marker_version_constraint(constraint)
    except Exception:
        answers[constraint] = None
        continue
    answers[constraint] = [v for v in versions if parsed.allows(Version.parse(v))]
json.dump(answers, sys.stdout)
"""


@pytest.fixture(scope="module")
def poetry_core_answers() -> dict:
    # find_spec, not importorskip: importing poetry.core would change sys.path.
    if importlib.util.find_spec("poetry.core") is None:
        pytest.skip("poetry-core isn't installed (requirements.txt)")
    result = subprocess.run(
        [sys.executable, "-c", POETRY_CORE], input=json.dumps([CONSTRAINTS, VERSIONS]),
        capture_output=True, text=True, check=True,
    )
    return json.loads(result.stdout)


def allowed(constraint: str) -> list[str] | None:
    try:
        alternatives = poetry_constraints.to_specifier_sets(constraint)
    except InvalidConstraint:
        return None
    return [v for v in VERSIONS if any(alternative.contains(v) for alternative in alternatives)]


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_same_as_poetry_core(poetry_core_answers, constraint):
    assert allowed(constraint) == poetry_core_answers[constraint]


def test_not_equal_operator_is_refused_where_poetry_core_reads_it_as_equal(poetry_core_answers):
    # poetry-core reads `<>3.12` as `==3.12`; the buildpack says it's invalid.
    assert allowed("<>3.12") is None


@pytest.mark.parametrize("constraint, specifiers", [
    ("^3.12", ["<4,>=3.12"]),
    ("~3.12.1", ["<3.13,>=3.12.1"]),
    ("3.12.*", ["==3.12.*"]),
    ("3.12", ["==3.12"]),
    (">=3.11 <3.14 || 3.15.*", ["<3.14,>=3.11", "==3.15.*"]),
    ("*", [""]),
])
def test_specifier_sets(constraint, specifiers):
    assert [str(s) for s in poetry_constraints.to_specifier_sets(constraint)] == specifiers


@pytest.mark.parametrize("constraint, message", [
    ("<>3.12", "write '!=3.12'"),
    ("3.x", "'3.x' isn't a version"),
    ("^3.12.*", "mixes '^' with a wildcard"),
    ("3.12rc1.*", "a wildcard needs a plain version"),
])
def test_invalid_constraints_say_why(constraint, message):
    with pytest.raises(InvalidConstraint, match=message.replace("*", r"\*").replace("^", r"\^")):
        poetry_constraints.to_specifier_sets(constraint)
