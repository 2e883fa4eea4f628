"""pip's settings outside requirement files, and what uv is told of them.

`pip install` also reads PIP_* environment variables (dokku passes every
config var to the build) and pip's configuration files (a builder image's
/etc/pip.conf, or ~/.config/pip/pip.conf: HOME is /app, which holds the
app's source during a herokuish build). uv reads neither. So that an app
installs the same with uv as with pip, each setting pip would use is either
given to uv as uv's own (EQUIVALENTS; a configuration file's too), or
changes nothing the build leaves (INERT), or else only pip can honour it,
and pip installs the app (pip.choose_installer says which setting, and
where it is set).

pip's order (pip docs, Configuration): the files' [global] sections, then
their [install] sections, then the environment; a later file overrides an
earlier one, and PIP_CONFIG_FILE=/dev/null loads no file at all.
"""

from __future__ import annotations

import configparser
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from . import app_files, bundled_pip
from .build import Build
from .config_vars import tool_setting
from .python_location import clean_env

ENVIRONMENT = "the build environment"
# Where pip looks for configuration files besides the user's (pip docs,
# Configuration: "Global"); XDG_CONFIG_DIRS defaults to /etc/xdg.
SYSTEM_FILES = ("/etc/pip.conf",)
DEFAULT_XDG_CONFIG_DIRS = "/etc/xdg"
# A pip configuration file is a few lines: anything larger isn't read.
FILE_LIMIT = 64 * 1024
# The sections `pip install` reads, in the order they apply.
SECTIONS = ("global", "install")
# PIP_ variables that aren't settings of `pip install` (pip ignores the
# first two; the last names a file, read as such).
_NOT_OPTIONS = ("version", "help", "config-file")
# pip's boolean values (its strtobool).
_TRUE = {"y", "yes", "t", "true", "on", "1"}
_FALSE = {"n", "no", "f", "false", "off", "0"}


@dataclass(frozen=True)
class PipSetting:
    """One of pip's options as pip would use it: `name` as on pip's command
    line without the dashes (`no-binary`), and where it was set."""

    name: str
    value: str
    where: str

    @property
    def described(self) -> str:
        if self.where == ENVIRONMENT:
            return f"{environment_name(self.name)} is set"
        return f"{self.where} sets {self.name}"


@dataclass(frozen=True)
class PipSettings:
    """What pip would use: the settings, and the configuration files it
    would read that the build couldn't (pip reports those itself)."""

    settings: tuple[PipSetting, ...] = ()
    unreadable: tuple[str, ...] = ()

    def named(self, *names: str) -> list[PipSetting]:
        return [each for each in self.settings if each.name in names]


def environment_name(name: str) -> str:
    return "PIP_" + name.upper().replace("-", "_")


def _option_name(key: str) -> str:
    """A configuration key or PIP_ variable as pip normalizes it."""
    return key.lower().replace("_", "-").removeprefix("--")


def for_build(build: Build) -> PipSettings:
    """What the build's `pip install` of the app's dependencies would read:
    the build environment (as the build cleans it) and the app's pip index
    config vars (bundled_pip.pip_settings), read once a build."""
    return build.once(_read_for_build)


def _read_for_build(build: Build) -> PipSettings:
    return read({**clean_env(build.environ), **bundled_pip.pip_settings(build.config)})


def read(environ: Mapping[str, str]) -> PipSettings:
    """pip's settings for `pip install` run with `environ` (PIP_* variables
    included)."""
    unreadable = []
    sections: dict[str, list[PipSetting]] = {section: [] for section in SECTIONS}
    for path in config_files(environ):
        found = _read_file(path)
        if found is None:
            unreadable.append(str(path))
            continue
        for section in SECTIONS:
            sections[section].extend(found.get(section, []))
    in_order = [*(each for section in SECTIONS for each in sections[section]), *from_variables(environ)]
    # A later setting of a name replaces an earlier one.
    merged = {each.name: each for each in in_order}
    return PipSettings(tuple(merged.values()), tuple(unreadable))


def from_variables(environ: Mapping[str, str]) -> list[PipSetting]:
    """The PIP_* variables among `environ`, as pip reads them."""
    found = []
    for key, value in environ.items():
        name = _option_name(key.removeprefix("PIP_"))
        if key.startswith("PIP_") and value and name not in _NOT_OPTIONS:
            found.append(PipSetting(name, value, ENVIRONMENT))
    return found


def config_files(environ: Mapping[str, str]) -> list[Path]:
    """The configuration files pip would read, in its order, that exist."""
    named = environ.get("PIP_CONFIG_FILE")
    if named == os.devnull:
        return []
    home = environ.get("HOME") or "/"
    xdg_dirs = (environ.get("XDG_CONFIG_DIRS") or DEFAULT_XDG_CONFIG_DIRS).split(":")
    candidates = [*(f"{directory}/pip/pip.conf" for directory in xdg_dirs if directory), *SYSTEM_FILES]
    # The user's files are skipped when PIP_CONFIG_FILE names one that exists.
    if not (named and os.path.lexists(named)):
        xdg_home = environ.get("XDG_CONFIG_HOME") or f"{home}/.config"
        candidates += [f"{home}/.pip/pip.conf", f"{xdg_home}/pip/pip.conf"]
    if named:
        candidates.append(named)
    return [Path(each) for each in candidates if os.path.lexists(each)]


def _read_file(path: Path) -> Optional[dict[str, list[PipSetting]]]:
    """A configuration file's settings by section; None if it can't be read
    (a link, a directory, not UTF-8, not INI)."""
    text = app_files.read_small_text(path, FILE_LIMIT)
    if text is None:
        return None
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error:
        return None
    return {
        section: [PipSetting(_option_name(key), value, str(path)) for key, value in parser.items(section) if value]
        for section in SECTIONS if parser.has_section(section)
    }


# -- uv's equivalents ------------------------------------------------------------

def _words(separator: str) -> Callable[[str], Optional[str]]:
    """A list (pip's are whitespace-separated) as uv's."""
    return lambda value: separator.join(value.split())


def _same(value: str) -> Optional[str]:
    return value.strip()


def _seconds(value: str) -> Optional[str]:
    """pip's timeout (seconds, a float) as uv's (whole seconds)."""
    try:
        seconds = float(value)
    except ValueError:
        return None
    return str(max(1, math.ceil(seconds))) if math.isfinite(seconds) and seconds > 0 else None


def _count(value: str) -> Optional[str]:
    return value.strip() if value.strip().isdigit() else None


def _when_true(uv_value: str) -> Callable[[str], Optional[str]]:
    """A pip flag: uv's value when it is on, nothing when off, and None (no
    equivalent: pip reports it) when it is neither."""
    def convert(value: str) -> Optional[str]:
        word = value.strip().lower()
        return uv_value if word in _TRUE else "" if word in _FALSE else None
    return convert


@dataclass(frozen=True)
class Equivalent:
    uv_names: tuple[str, ...]
    convert: Callable[[str], Optional[str]]


# pip's options that uv has its own settings for (uv docs, Environment
# variables): the index (its credentials in URLs read alike), TLS, the
# network's patience, and what may be installed. pip's --proxy overrides the
# environment's proxies, so it sets every one uv reads.
EQUIVALENTS: dict[str, Equivalent] = {
    "index-url": Equivalent(("UV_DEFAULT_INDEX",), _words(" ")),
    "extra-index-url": Equivalent(("UV_INDEX",), _words(" ")),
    "find-links": Equivalent(("UV_FIND_LINKS",), _words(",")),
    "trusted-host": Equivalent(("UV_INSECURE_HOST",), _words(" ")),
    "cert": Equivalent(("SSL_CERT_FILE",), _same),
    "client-cert": Equivalent(("SSL_CLIENT_CERT",), _same),
    "timeout": Equivalent(("UV_HTTP_TIMEOUT",), _seconds),
    "default-timeout": Equivalent(("UV_HTTP_TIMEOUT",), _seconds),
    "retries": Equivalent(("UV_HTTP_RETRIES",), _count),
    "proxy": Equivalent(("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"), _same),
    "constraint": Equivalent(("UV_CONSTRAINT",), _words(" ")),
    "build-constraint": Equivalent(("UV_BUILD_CONSTRAINT",), _words(" ")),
    "pre": Equivalent(("UV_PRERELEASE",), _when_true("allow")),
    "require-hashes": Equivalent(("UV_REQUIRE_HASHES",), _when_true("1")),
}
# pip's options that change nothing the build leaves: its output, its own
# caches and checks, and bytecode (uv compiles it all anyway). Those that
# would install elsewhere are config_vars.TOOL_SETTINGS, ignored either way.
INERT = frozenset({
    "break-system-packages", "cache-dir", "no-cache-dir", "compile", "no-compile", "disable-pip-version-check",
    "exists-action", "log", "log-file", "no-clean", "no-color", "no-input", "no-python-version-warning",
    "no-warn-conflicts", "no-warn-script-location", "progress-bar", "quiet", "verbose", "root-user-action",
    "resume-retries",
})


def as_uv(settings: Sequence[PipSetting]) -> dict[str, str]:
    """The settings uv has equivalents for, as uv's variables."""
    found: dict[str, str] = {}
    for setting in settings:
        equivalent = EQUIVALENTS.get(setting.name)
        value = equivalent.convert(setting.value) if equivalent else None
        if equivalent and value:
            found.update((name, value) for name in equivalent.uv_names)
    return found


def only_pip_honours(settings: PipSettings) -> Optional[str]:
    """The first setting uv can't be given (completing "Installing with pip:
    "), or None when uv installs as pip would."""
    if settings.unreadable:
        return f"the build can't read pip's configuration file {settings.unreadable[0]}, which pip reads"
    for setting in settings.settings:
        if setting.name in INERT or tool_setting(environment_name(setting.name)) is not None:
            continue
        equivalent = EQUIVALENTS.get(setting.name)
        if equivalent is None or equivalent.convert(setting.value) is None:
            return f"{setting.described}, a pip setting uv has no equivalent for (without it, uv installs)"
    return None
