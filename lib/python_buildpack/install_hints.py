"""Known causes of failed dependency installs, told apart by the tool's output.

One table for every package manager (pip, Pipenv, Poetry, uv, PDM): when an
install fails and its output holds one of these phrases (any case, however
the tool wrapped the line), the error says what that cause is and how to fix
it, instead of the generic "the output above says why". The first match wins,
so more specific phrases come first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from . import errors

# (tool label, command shown) -> the error for that cause.
HintError = Callable[[str, str], errors.BuildError]


@dataclass(frozen=True)
class InstallHint:
    phrase: str
    error: HintError


HINTS: tuple[InstallHint, ...] = (
    # GDAL's setup.py (and packages building against GDAL: Fiona, rasterio sdists).
    InstallHint("Could not find gdal-config", errors.install_failed_gdal_missing),
    # A C extension including SQLite's headers, which build images no longer ship
    # (old pysqlite3 sdists, for example).
    InstallHint("sqlite3.h: No such file or directory", errors.install_failed_sqlite_headers_missing),
    # pip 24.1+ rejects releases whose metadata isn't valid (celery < 5.2.1).
    InstallHint("Please use pip<24.1 if you need to use this version", errors.install_failed_broken_metadata),
    # psycopg2 built from source without libpq's pg_config.
    InstallHint("pg_config executable not found", errors.install_failed_pg_config_missing),
)


def _normalised(text: str) -> str:
    """Lower case, with runs of whitespace (tools wrap long lines) as one space."""
    return " ".join(text.split()).casefold()


def find_hint(output: str, hints: tuple[InstallHint, ...] = HINTS) -> Optional[InstallHint]:
    """The first hint whose phrase the install's output holds."""
    text = _normalised(output)
    for hint in hints:
        if _normalised(hint.phrase) in text:
            return hint
    return None


def install_error(output: str, tool: str, command: str) -> errors.BuildError:
    """The error for a failed dependency install: a known cause's, else the generic one."""
    hint = find_hint(output)
    if hint is not None:
        return hint.error(tool, command)
    return errors.dependencies_install_failed(tool, command)
