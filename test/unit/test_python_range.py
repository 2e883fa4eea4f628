from __future__ import annotations

import pytest

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
