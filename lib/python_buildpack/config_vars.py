"""Settings the build reads: app config vars (ENV_DIR) and the build env.

Heroku passes an app's config vars only as files in ENV_DIR; herokuish and
dokku also put them in the build's environment. A setting is read from
ENV_DIR first (the app's own choice), then from the build environment (the
build system's). Values are never printed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from . import app_files

# Config vars never exported to the app's code at build time (hooks,
# collectstatic, NLTK): they would break the build's own tools and paths.
PROTECTED_NAMES = frozenset({
    "PATH", "CPATH", "CPPATH", "LD_PRELOAD", "LIBRARY_PATH", "LD_LIBRARY_PATH", "PYTHONHOME",
    "GIT_DIR", "BUILD_DIR", "CACHE_DIR", "ENV_DIR",
})
_VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The largest config var read from ENV_DIR. No program can be given a value
# a tenth this size (Linux allows 128 KB a variable), and Heroku limits all
# of an app's config vars together to 64 KB.
MAX_VALUE_BYTES = 1024 * 1024

IGNORED = "ignored"
REFUSED = "refused"


@dataclass(frozen=True)
class ToolSetting:
    """A setting of pip, uv, Poetry, Pipenv or PDM the build can't honour.

    IGNORED: the build's tools and the app's build-time code (hooks,
    collectstatic) run without it, and the build warns: the buildpack owns
    where the dependencies go. REFUSED: the build fails, since installing
    without it would install something other than the user asked for.
    """

    action: str
    reason: str  # completes "Set, ..." in the build log


# Settings that would install the app's dependencies outside the slug (or
# not at all) while the build passes. Based on the Heroku Python CNB's
# forbidden list and the tools' documented settings. Not listed, as they
# can't move the install: PYTHON* (never reach the build's tools, see
# python_location), PIP_CACHE_DIR, UV_CACHE_DIR, POETRY_CACHE_DIR (the build
# passes its own), UV_SYSTEM_PYTHON (the build's `uv pip install` runs
# name the app's Python with --python, which it can't override), PDM_CACHE_DIR
# and PDM_USE_UV (the build passes its own).
TOOL_SETTINGS: dict[str, ToolSetting] = {
    "PIP_TARGET": ToolSetting(IGNORED, "pip would install into that directory, not the app's Python"),
    "PIP_PREFIX": ToolSetting(IGNORED, "pip would install under that prefix, not the app's Python"),
    "PIP_ROOT": ToolSetting(IGNORED, "pip would install under that directory, outside the slug"),
    "PIP_USER": ToolSetting(IGNORED, "pip would install into the user's home directory, outside the slug"),
    "PIP_PYTHON": ToolSetting(IGNORED, "pip would install into that Python, not the app's"),
    "PIP_REQUIRE_VIRTUALENV": ToolSetting(IGNORED, "pip would refuse to install: the app's Python isn't a virtualenv"),
    "PIP_SRC": ToolSetting(IGNORED, "pip would check editable VCS requirements out there, outside the slug"),
    "VIRTUAL_ENV": ToolSetting(IGNORED, "Poetry and uv would install into that virtualenv, not the app's Python"),
    "UV_PROJECT_ENVIRONMENT": ToolSetting(IGNORED, "uv would sync into that environment, not the app's Python"),
    "UV_PYTHON": ToolSetting(IGNORED, "uv would use (and replace the install with) another Python"),
    "UV_PYTHON_PREFERENCE": ToolSetting(IGNORED, "uv would look for a Python of its own, outside the slug"),
    "UV_MANAGED_PYTHON": ToolSetting(IGNORED, "uv would want a Python of its own, outside the slug"),
    "UV_PYTHON_DOWNLOADS": ToolSetting(IGNORED, "uv would download a Python of its own, outside the slug"),
    "UV_LINK_MODE": ToolSetting(IGNORED, "uv could link the installed files to the build cache, outside the slug"),
    "UV_PROJECT": ToolSetting(REFUSED, "uv would install the project in that directory, not the app's uv.lock"),
    "POETRY_VIRTUALENVS_": ToolSetting(
        IGNORED, "Poetry would install into a virtualenv outside the slug, not the app's Python"),
    "PIPENV_VENV_IN_PROJECT": ToolSetting(IGNORED, "Pipenv would install into a virtualenv, not the app's Python"),
    "PIPENV_CUSTOM_VENV_NAME": ToolSetting(IGNORED, "Pipenv would install into a virtualenv, not the app's Python"),
    "WORKON_HOME": ToolSetting(IGNORED, "Pipenv would install into a virtualenv there, outside the slug"),
    "PIPENV_IGNORE_VIRTUALENVS": ToolSetting(IGNORED, "Pipenv would not install into the app's Python"),
    "PIPENV_PYTHON": ToolSetting(IGNORED, "Pipenv would use another Python than the app's"),
    "PIPENV_PIPFILE": ToolSetting(REFUSED, "Pipenv would install from that Pipfile, not the app's Pipfile.lock"),
    # PDM: the build names the app's Python (PDM_PYTHON) and installs into it
    # in PDM's global mode; these would pick another Python or a virtualenv.
    "PDM_PYTHON": ToolSetting(IGNORED, "PDM would install into that Python, not the app's"),
    "PDM_IGNORE_SAVED_PYTHON": ToolSetting(
        IGNORED, "PDM would look for another Python than the app's, and install into it"),
    "PDM_IN_VENV": ToolSetting(IGNORED, "PDM would install into that virtualenv, not the app's Python"),
    "PDM_USE_VENV": ToolSetting(IGNORED, "PDM would install into a virtualenv, not the app's Python"),
    "PDM_VENV_IN_PROJECT": ToolSetting(IGNORED, "PDM would make a virtualenv in the app's source, not use the app's Python"),
    "PDM_IGNORE_ACTIVE_VENV": ToolSetting(IGNORED, "PDM would look for another Python than the app's"),
    "PDM_PROJECT": ToolSetting(REFUSED, "PDM would install the project in that directory, not the app's pdm.lock"),
    "PDM_LOCKFILE": ToolSetting(REFUSED, "PDM would install from that lockfile, not the app's pdm.lock"),
}


def tool_setting(name: str) -> Optional[ToolSetting]:
    """The table's entry for `name`; a key ending in '_' covers every name it starts."""
    if name in TOOL_SETTINGS:
        return TOOL_SETTINGS[name]
    return next((each for key, each in TOOL_SETTINGS.items() if key.endswith("_") and name.startswith(key)), None)


@dataclass(frozen=True)
class AppConfig:
    """The app's config vars for its code at build time."""

    values: dict[str, str] = field(default_factory=dict)
    protected: list[str] = field(default_factory=list)  # left out: PROTECTED_NAMES
    skipped: dict[str, str] = field(default_factory=dict)  # name: why it can't be read


@dataclass(frozen=True)
class FoundSetting:
    name: str
    where: str  # "config var" or "build environment"
    setting: ToolSetting


class _Unusable(Exception):
    """An ENV_DIR entry that isn't a config var's value."""


@dataclass(frozen=True)
class BuildConfig:
    env_dir: Optional[Path]
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def config_var(self, name: str) -> Optional[str]:
        """An app config var from ENV_DIR, or None."""
        if self.env_dir is None:
            return None
        try:
            value = _read_value(self.env_dir / name)
        except _Unusable:
            return None
        # No environment variable can hold a NUL byte.
        return None if value is None or "\0" in value else value

    def get(self, name: str) -> Optional[str]:
        """A setting from ENV_DIR, else from the build environment; empty is unset."""
        value = self.config_var(name)
        if value is None:
            value = self.environ.get(name)
        return value or None

    def matching(self, pattern: str) -> dict[str, str]:
        """Settings whose names fully match `pattern`, from ENV_DIR and the env."""
        regex = re.compile(pattern)
        names = {name for name in self.environ if regex.fullmatch(name)}
        names |= {name for name in self._config_names() if regex.fullmatch(name)}
        return {name: value for name in sorted(names) if (value := self.get(name))}

    def app_config(self) -> AppConfig:
        """All config vars in ENV_DIR for the app's code, and the names left out."""
        found = AppConfig()
        if self.env_dir is None:
            return found
        for name in self._config_names():
            if not _VALID_NAME.fullmatch(name) or tool_setting(name) is not None:
                continue  # tool settings are reported by tool_settings()
            if name in PROTECTED_NAMES:
                found.protected.append(name)
                continue
            try:
                value = _read_value(self.env_dir / name)
            except _Unusable as problem:
                found.skipped[name] = str(problem)
                continue
            if value is not None and "\0" not in value:
                found.values[name] = value
        return found

    def tool_settings(self) -> list[FoundSetting]:
        """The TOOL_SETTINGS set (not empty) as config vars or in the build environment."""
        found = []
        for name in sorted(set(self._config_names()) | set(self.environ)):
            setting = tool_setting(name)
            if setting is None or self.get(name) is None:
                continue
            where = "build environment" if self.config_var(name) is None else "config var"
            found.append(FoundSetting(name, where, setting))
        return found

    def _config_names(self) -> list[str]:
        if self.env_dir is None:
            return []
        try:
            return sorted(entry.name for entry in os.scandir(self.env_dir))
        except OSError:
            return []


def _read_value(path: Path) -> Optional[str]:
    """A config var's value from its ENV_DIR file: None if absent or not
    readable, _Unusable if it isn't a regular file (reading a named pipe
    would block the build for ever) or is too large."""
    try:
        data = app_files.read_bytes(path, MAX_VALUE_BYTES)
    except app_files.NotUsable as problem:
        raise _Unusable(f"is {problem}") from None
    except OSError:
        return None
    return data.decode("utf-8", errors="replace").rstrip("\n")
