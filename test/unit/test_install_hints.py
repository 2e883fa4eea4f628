from __future__ import annotations

import pytest

from python_buildpack import errors, install_hints
from python_buildpack.commands import CommandResult
from python_buildpack.pip import Pip
from python_buildpack.poetry import Poetry
from python_buildpack.uv import Uv

# Excerpts of real failing installs (pip 26, the stand-in stack).
GDAL = """\
      gdal_config_error: [Errno 2] No such file or directory: 'gdal-config'

      Could not find gdal-config. Make sure you have installed the GDAL native library and development headers.
      [end of output]
"""
SQLITE = """\
      src/blob.h:4:10: fatal error: sqlite3.h: No such file or directory
          4 | #include "sqlite3.h"
"""
CELERY = """\
WARNING: Ignoring version 5.0.5 of celery since it has invalid metadata:
Requested celery==5.0.5 from https://files.pythonhosted.org/.../celery-5.0.5-py3-none-any.whl has invalid metadata: Expected matching RIGHT_PARENTHESIS
    pytz (>dev)
         ~^
Please use pip<24.1 if you need to use this version.
ERROR: No matching distribution found for celery==5.0.5
"""
PG_CONFIG = """\
      Error: pg_config executable not found.

      pg_config is required to build psycopg2 from source.
"""


# The classic buildpack's ids: the install's id, with the phrase found as the detail.
@pytest.mark.parametrize("output, detail", [
    (GDAL, "Could not find gdal-config"),
    (SQLITE, "sqlite3.h: No such file or directory"),
    (CELERY, "Please use pip<24.1 if you need to use this version"),
    (PG_CONFIG, "pg_config executable not found"),
    ("ERROR: No matching distribution found for nothing-here==1.0\n", ""),
])
def test_each_known_cause_gets_its_own_error(output, detail):
    error = install_hints.install_error(output, "pip", "pip install -r requirements.txt")
    assert (error.id, error.detail) == ("install-dependencies::pip", detail)
    assert "'pip install -r requirements.txt' failed" in error.body


def test_matching_ignores_case_and_line_wrapping():
    assert install_hints.find_hint("COULD NOT FIND GDAL-CONFIG.") is not None
    wrapped = "fatal error: sqlite3.h: No such\n    file or directory"
    assert install_hints.find_hint(wrapped).error is errors.install_failed_sqlite_headers_missing
    assert install_hints.find_hint("all good") is None


def test_first_match_wins():
    both = PG_CONFIG + GDAL
    assert install_hints.find_hint(both).error is errors.install_failed_gdal_missing


def test_hints_name_the_fix():
    assert "heroku-geo-buildpack" in errors.install_failed_gdal_missing("pip", "x").body
    sqlite = errors.install_failed_sqlite_headers_missing("pip", "x").body
    assert "pysqlite3-binary" in sqlite and "'import sqlite3'" in sqlite
    assert "celery 5.2.1 or newer" in errors.install_failed_broken_metadata("pip", "x").body
    assert "requirements.txt" in errors.install_failed_broken_metadata("pip", "x").body
    assert "poetry lock" in errors.install_failed_broken_metadata("Poetry", "x").body
    pg = errors.install_failed_pg_config_missing("pip", "x").body
    assert "psycopg2-binary" in pg and "psycopg[binary]" in pg and "libpq-dev" in pg


@pytest.mark.parametrize("manager", [Poetry(), Uv()])
def test_every_package_manager_uses_the_hints(manager):
    error = manager.install_failed(CommandResult(1, GDAL), "sync")
    assert (error.id, error.detail) == (f"install-dependencies::{manager.name}", "Could not find gdal-config")
    assert f"({manager.label})" in error.body


def test_an_outdated_lockfile_is_reported_before_hints():
    output = "uv.lock needs to be updated, but `--locked` was provided\n" + GDAL
    assert Uv().install_failed(CommandResult(1, output), "uv sync").id == "uv-lock::outdated"


def test_pip_uses_the_hints():
    # pip's install path builds its error from the same table.
    error = Pip().install_failed(CommandResult(1, CELERY), "pip install")
    assert (error.id, error.detail) == ("install-dependencies::pip", "Please use pip<24.1 if you need to use this version")
