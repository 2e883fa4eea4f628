from __future__ import annotations

import pytest

from python_buildpack import python_range
from python_buildpack.errors import BuildError
from conftest import pep440, poetry


@pytest.mark.parametrize("make, text, key", [
    (pep440, "3.12", "requires-python"),
    (pep440, ">=3.x", "requires-python"),
    (pep440, "^3.12", "requires-python"),
    (poetry, "3.x", "[tool.poetry.dependencies] python"),
    (poetry, "<>3.12", "[tool.poetry.dependencies] python"),
    (poetry, ">=3.11,,<3.14", "[tool.poetry.dependencies] python"),
])
def test_invalid_ranges(make, text, key):
    with pytest.raises(BuildError) as error:
        make(text)
    assert (error.value.id, error.value.detail) == ("pyproject-toml::invalid-python-range", key)
    assert f'= "{text}"' in error.value.body


def test_invalid_poetry_range_names_the_table():
    with pytest.raises(BuildError) as error:
        poetry("~=3.x")
    assert '    [tool.poetry.dependencies]\n    python = "~=3.x"\n' in error.value.body
    assert "poetry lock" in error.value.body


def test_a_poetry_range_allows_any_of_its_alternatives():
    allowed = poetry("~3.10 || ~3.13")
    assert [allowed.allows(v) for v in ("3.10.0", "3.11.9", "3.12.4", "3.13.1", "3.14.0")] == [
        True, False, False, True, False]
    assert allowed.shown == "[tool.poetry.dependencies] python '~3.10 || ~3.13'"


def test_ranges_together():
    ranges = [pep440(">=3.11"), poetry("<3.13")]
    assert python_range.allowed_by_all(ranges, "3.12.4") and python_range.first_refusing(ranges, "3.12.4") is None
    assert not python_range.allowed_by_all(ranges, "3.13.0")
    assert python_range.first_refusing(ranges, "3.13.0") is ranges[1]
    assert python_range.first_refusing(ranges, "3.10.2") is ranges[0]


def test_an_absent_key_is_no_range():
    assert python_range.pep440("requires-python", None) is None
    assert python_range.poetry("requires-python", None) is None


@pytest.mark.parametrize("make, text, bare", [
    (poetry, "3.12", True),
    (pep440, "==3.12", True),
    (pep440, "==3.12.1", False),
    (pep440, "==3.12.*", False),
    (poetry, "^3.12", False),
    (poetry, "3.12 || 3.13", False),
    (pep440, ">=3.12,<3.13", False),
])
def test_is_bare_major(make, text, bare):
    assert python_range.is_bare_major(make(text)) is bare

