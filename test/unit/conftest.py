from __future__ import annotations

import pytest

from python_buildpack import python_version
from python_buildpack.runtime_env import PythonLocation


@pytest.fixture
def versions() -> python_version.PythonVersions:
    """A fixed version table, so tests don't change when the data file does."""
    return python_version.PythonVersions(
        default_major="3.14",
        latest_patch={"3.10": "3.10.21", "3.11": "3.11.16", "3.12": "3.12.14", "3.13": "3.13.15", "3.14": "3.14.7"},
        deprecated={"3.10": "October 2026"},
    )


def fake_install(tmp_path, *wheels: str) -> PythonLocation:
    """A Python install with just its bundled pip wheels and site-packages,
    run (as in a build) through a separate home path."""
    install_dir = tmp_path / "build" / ".heroku" / "python"
    bundled = install_dir / "lib" / "python3.12" / "ensurepip" / "_bundled"
    bundled.mkdir(parents=True)
    for wheel in wheels:
        (bundled / wheel).write_text("")
    (install_dir / "lib" / "python3.12" / "site-packages").mkdir()
    return PythonLocation(install_dir, tmp_path / "app" / ".heroku" / "python")
