from __future__ import annotations

import pytest

from python_buildpack import python_version


@pytest.fixture
def versions() -> python_version.PythonVersions:
    """A fixed version table, so tests don't change when the data file does."""
    return python_version.PythonVersions(
        default_major="3.14",
        latest_patch={"3.10": "3.10.21", "3.11": "3.11.16", "3.12": "3.12.14", "3.13": "3.13.15", "3.14": "3.14.7"},
        deprecated={"3.10": "October 2026"},
    )
