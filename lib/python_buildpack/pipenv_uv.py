"""Pipfile.lock installed by uv: what `pipenv install --deploy` installs, in a
fraction of its time.

Pipenv's own install of a lockfile starts Pipenv (about 2 s on a first build,
most of it compiling Pipenv itself), which then runs pip twice. For a
lockfile of pinned, hashed releases from one index (most apps), the same
install is `uv pip install --no-deps --require-hashes` of those releases,
once the build has made the checks `--deploy` makes: that Pipfile.lock is up
to date with the Pipfile (by Pipenv's own hash of it), and that the Pipfile
allows the build's Python. Pipenv itself installs anything else (local
paths, version control, URLs, several indexes, a ${VAR} in an index URL, a
Pipfile the buildpack reads otherwise than Pipenv, a pip setting uv has no
equivalent for: pip_config.py), and every lockfile with PYTHON_INSTALLER=pip.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from . import pip_config, pyproject, site_packages
from .build import Build

PIPFILE = "Pipfile"
# The index Pipenv (plette) assumes when the Pipfile names none.
_DEFAULT_SOURCE = {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}
# The Pipfile's tables that aren't package categories (Pipenv's hash leaves
# them out, or hashes them as "_meta").
_NOT_CATEGORIES = frozenset(("source", "packages", "dev-packages", "requires", "scripts", "pipfile", "pipenv",
                             "default", "develop"))
# What a lockfile entry of a release from the index has; any other key
# (editable, path, file, git, ref, subdirectory...) is Pipenv's to install.
_RELEASE_KEYS = frozenset(("version", "hashes", "markers", "index", "extras"))
# The parts of a requirement line, checked so that nothing in the lockfile
# can add an option or a line to the requirements uv reads.
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_PINNED = re.compile(r"^==[A-Za-z0-9.+!_-]+$")
_HASH = re.compile(r"^(sha256|sha384|sha512):[0-9a-fA-F]+$")
_MARKERS = re.compile(r"^[A-Za-z0-9_ .'\"<>=!~(),*+-]+$")


@dataclass(frozen=True)
class LockInstall:
    """Pipfile.lock as uv installs it."""

    requirements: tuple[str, ...]  # one line per release, with its --hash options
    index_url: str  # the lockfile's one index
    required_python: Optional[str]  # the Pipfile's [requires], as Pipenv reads it


class _PipenvInstalls(Exception):
    """Why uv can't install this lockfile as Pipenv would."""


def plan(build: Build, lock: dict[str, Any]) -> Union[LockInstall, str]:
    """How uv installs the app's Pipfile.lock (`lock`, as pipenv.read_lock
    checked it), or why Pipenv has to (completing "Installing with Pipenv: ")."""
    try:
        return _plan(build, lock)
    except _PipenvInstalls as reason:
        return str(reason)


def _plan(build: Build, lock: dict[str, Any]) -> LockInstall:
    settings = sorted(name for name in build.environ if name.startswith("PIPENV_"))
    if settings:
        raise _PipenvInstalls(f"{settings[0]} is set, and Pipenv reads it")
    unmatched = pip_config.only_pip_honours(pip_config.for_build(build))
    if unmatched:
        raise _PipenvInstalls(unmatched)
    pipfile = _read_pipfile(build.app_dir / PIPFILE)
    if "source" not in pipfile:
        # Pipenv's default index then comes from pip's configuration, and
        # so does the hash it checks.
        if _pip_index_configured(build):
            raise _PipenvInstalls("the Pipfile names no index, and Pipenv takes its index from pip's settings")
        pipfile["source"] = [dict(_DEFAULT_SOURCE)]
    expected = lock["_meta"].get("hash", {}).get("sha256")
    if not isinstance(expected, str) or pipfile_hash(pipfile) != expected:
        raise _PipenvInstalls("Pipfile.lock doesn't match the Pipfile as the buildpack hashes it, so Pipenv itself checks it")
    index_url = _index_url(lock["_meta"].get("sources", []))
    sections = ("default", "develop") if build.install_test else ("default",)
    requirements: dict[str, str] = {}
    for section in sections:
        for name, spec in lock.get(section, {}).items():
            line = requirement_line(name, spec)
            if line is None:
                raise _PipenvInstalls(f"Pipfile.lock's {name[:50]!r} isn't a pinned, hashed release from the index")
            if requirements.setdefault(site_packages.normalized_name(name), line) != line:
                raise _PipenvInstalls(f"Pipfile.lock pins {name[:50]!r} differently in its two sections")
    return LockInstall(tuple(requirements.values()), index_url, required_python(pipfile))


def _index_url(sources: Any) -> str:
    """The lockfile's one index: Pipenv installs from several, or from a URL
    it expands or doesn't verify."""
    if not isinstance(sources, list) or len(sources) != 1 or not isinstance(sources[0], dict):
        raise _PipenvInstalls("Pipfile.lock doesn't name exactly one package index")
    url = sources[0].get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")) or any(c in url for c in "$\n\r "):
        raise _PipenvInstalls("Pipfile.lock's index URL has a ${VAR} for Pipenv to expand, or isn't a URL")
    if sources[0].get("verify_ssl") is False:
        raise _PipenvInstalls("Pipfile.lock's index has verify_ssl = false")
    return url


def requirement_line(name: str, spec: Any) -> Optional[str]:
    """One lockfile entry as a line uv reads (name[extras]==version ;
    markers --hash=...), or None when it isn't a plain release."""
    if not isinstance(spec, dict) or not spec.keys() <= _RELEASE_KEYS or not _NAME.match(name):
        return None
    version, hashes, extras = spec.get("version"), spec.get("hashes"), spec.get("extras", [])
    markers = spec.get("markers")
    if not isinstance(version, str) or not _PINNED.match(version):
        return None
    if not isinstance(hashes, list) or not hashes or not all(isinstance(h, str) and _HASH.match(h) for h in hashes):
        return None
    if not isinstance(extras, list) or not all(isinstance(e, str) and _NAME.match(e) for e in extras):
        return None
    if markers is not None and not (isinstance(markers, str) and _MARKERS.match(markers)):
        return None
    line = name + (f"[{','.join(extras)}]" if extras else "") + version
    if markers:
        line += f" ; {markers}"
    return line + "".join(f" --hash={each}" for each in hashes)


def _read_pipfile(path: Path) -> dict[str, Any]:
    """The Pipfile's tables. A missing or invalid one is Pipenv's to report,
    as `--deploy` always has."""
    if not path.is_file():
        raise _PipenvInstalls("there is no Pipfile beside Pipfile.lock")
    try:
        return pyproject.read_toml(path)
    except ValueError:
        raise _PipenvInstalls("the Pipfile isn't TOML the buildpack can read") from None


def _pip_index_configured(build: Build) -> bool:
    """Whether pip's settings (and so Pipenv's) name an index, or may: a
    configuration file the build can't read."""
    settings = pip_config.for_build(build)
    return bool(settings.named("index-url", "extra-index-url") or settings.unreadable)


def pipfile_hash(pipfile: dict[str, Any]) -> Optional[str]:
    """Pipenv's hash of a Pipfile, which Pipfile.lock records in _meta.hash:
    the sha256 of its sources, [requires] and package categories as compact,
    sorted JSON, package names normalized. None for a Pipfile that has no JSON
    form (a TOML date), which Pipenv can't hash either."""

    def normalized(section: Any) -> Any:
        if not isinstance(section, dict):
            return section
        return {site_packages.normalized_name(name): value for name, value in section.items()}

    data = {
        "_meta": {"sources": pipfile.get("source", {}), "requires": pipfile.get("requires", {})},
        "default": normalized(pipfile.get("packages", {})),
        "develop": normalized(pipfile.get("dev-packages", {})),
    }
    data.update((name, normalized(values)) for name, values in pipfile.items() if name not in _NOT_CATEGORIES)
    try:
        content = json.dumps(data, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def required_python(pipfile: dict[str, Any]) -> Optional[str]:
    """[requires] python_full_version, else python_version; None for none or "*"."""
    requires = pipfile.get("requires", {})
    if not isinstance(requires, dict):
        return None
    value = requires.get("python_full_version") or requires.get("python_version")
    return str(value) if value and value != "*" else None


def python_allowed(required: str, version: str) -> bool:
    """Whether Pipenv's --deploy accepts Python `version` for the Pipfile's
    `required`: a range such as ">=3.11" as a specifier; "3", "3.12" or
    "3.12.1" compared on the parts given."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    if any(operator in required for operator in ("<", ">", "=", "~")):
        try:
            return version in SpecifierSet(required)
        except InvalidSpecifier:
            return required == version
    try:
        actual, wanted = Version(version), Version(required)
    except InvalidVersion:
        return required == version
    parts = len(required.split("."))
    if parts >= 3:
        return actual == wanted
    if parts == 2:
        return (actual.major, actual.minor) == (wanted.major, wanted.minor)
    return actual.major == wanted.major
