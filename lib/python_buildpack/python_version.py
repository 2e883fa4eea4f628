"""Which Python version the app gets, and why.

Sources, first match wins: runtime.txt (deprecated), .python-version,
Pipfile.lock (pipenv apps), the ranges in pyproject.toml (requires-python;
Poetry apps also [tool.poetry.dependencies] python), the major version of the
last build (sticky), the buildpack's default. The newest patch of each supported
major lives in python_versions.json.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from . import app_files, errors
from .python_range import PythonRange, allowed_by_all, first_refusing, is_bare_major

_INT = r"(0|[1-9][0-9]*)"
_VERSION = re.compile(rf"^{_INT}\.{_INT}(?:\.{_INT})?$")
_RUNTIME_TXT = re.compile(rf"^python-({_INT}\.{_INT}(?:\.{_INT})?)$")

# Names people give .python-version by mistake.
MISSPELLED_VERSION_FILES = (
    " .python-version", ". python-version", ".python_version.txt", ".python_version",
    ".python-version ", ",python-version", ".python-version.", ".python-version.py",
    ".python-version.rtf", ".python-version.txt", ".python-version.TXT",
    ".Python-version", ".python.version", ".pythonversion", "'.python-version'",
    "python_version.txt", "python_version", "python-version.", "python-version.txt",
    "python-version",
)

ORIGIN_RUNTIME_TXT = "runtime.txt"
ORIGIN_VERSION_FILE = ".python-version"
ORIGIN_PYPROJECT = "pyproject.toml"
ORIGIN_CACHED = "cached"
ORIGIN_DEFAULT = "default"
# RequestedVersion.detail of a cached version the classic buildpack's cache gave.
CLASSIC_BUILDPACK = "the classic Python buildpack"


@dataclass(frozen=True)
class PythonVersions:
    """The buildpack's knowledge of Python releases (python_versions.json)."""

    default_major: str
    latest_patch: dict[str, str]
    deprecated: dict[str, str]

    @property
    def oldest_major(self) -> str:
        return min(self.latest_patch, key=major_key)

    @property
    def newest_major(self) -> str:
        return max(self.latest_patch, key=major_key)


def load_versions(path: Path | None = None) -> PythonVersions:
    path = path or Path(__file__).with_name("python_versions.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    return PythonVersions(data["default_major"], data["latest_patch"], data["deprecated"])


def major_key(major: str) -> tuple[int, ...]:
    return tuple(int(part) for part in major.split("."))


@dataclass(frozen=True)
class RequestedVersion:
    """A version as the app asked for it: `3.12` or `3.12.4`, and from where."""

    text: str
    origin: str
    # From pyproject.toml: the ranges it was chosen from, as the build log
    # names them ("requires-python '>=3.12' in pyproject.toml allows"), and
    # whether the last build's major version was kept because they allow it.
    detail: str = ""
    kept_from_cache: bool = False

    @property
    def parts(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.text.split("."))

    @property
    def major(self) -> str:
        return ".".join(self.text.split(".")[:2])

    @property
    def is_exact(self) -> bool:
        return self.text.count(".") == 2


def is_valid_version(text: str) -> bool:
    return bool(_VERSION.match(text))


def read_version_lines(path: Path) -> list[str]:
    """Non-blank, non-comment lines of a version file, trimmed.

    Raises a BuildError when the file isn't UTF-8 text.
    """
    name = path.name
    if not path.is_file():
        raise errors.not_a_file(name)
    data = app_files.read_app_file(path, name)
    if data.startswith(b"\xef\xbb\xbf"):
        raise errors.version_file_unreadable(name, "starts with a UTF-8 byte order mark (BOM)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise errors.version_file_unreadable(name, "is encoded as UTF-16 (or holds NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.version_file_unreadable(name, "isn't valid UTF-8 text") from None
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def printable(line: str, limit: int = 100) -> str:
    """The line with anything but printable ASCII shown as U+FFFD."""
    shown = "".join(ch if " " <= ch <= "~" or ch == "\t" else "\ufffd" for ch in line[:limit])
    return shown + ("..." if len(line) > limit else "")


def _invalid_version_hint(line: str) -> str:
    if line[:1] in "\"'" or line[-1:] in "\"'":
        return "Remove the quotes."
    if line.lower().startswith("python"):
        return "Remove the 'python' prefix."
    if "#" in line:
        return "Move the comment onto a line of its own."
    if "*" in line or "x" in line.lower():
        return "Wildcards aren't supported."
    if any(op in line for op in ("^", "~", ">", "<", "=", ",")):
        return "Version ranges aren't supported."
    if line.lower() in ("system", "latest", "stable"):
        return "Aliases aren't supported: name a version."
    return ""


def _read_python_version_file(path: Path, default_major: str) -> str:
    lines = read_version_lines(path)
    for line in lines:
        if not is_valid_version(line):
            hint = _invalid_version_hint(line)
            raise errors.python_version_invalid(
                printable(line), f"{hint}\n" if hint else "", default_major
            )
    if not lines:
        raise errors.python_version_missing_version(default_major)
    if len(lines) > 1:
        raise errors.python_version_multiple([printable(line) for line in lines])
    return lines[0]


def _read_runtime_txt(path: Path, default_major: str) -> str:
    lines = read_version_lines(path)
    match = _RUNTIME_TXT.match(lines[0]) if len(lines) == 1 else None
    if not match:
        shown = "\n    ".join(printable(line) for line in lines)
        raise errors.runtime_txt_invalid(shown, default_major)
    return match.group(1)


def names_version(build_dir: Path) -> bool:
    """Whether runtime.txt or .python-version names the version (then
    pyproject.toml's ranges don't choose it)."""
    return any((build_dir / name).exists() or (build_dir / name).is_symlink() for name in ("runtime.txt", ".python-version"))


def find_misspelled_version_file(build_dir: Path) -> Optional[str]:
    for name in MISSPELLED_VERSION_FILES:
        if (build_dir / name).exists() or (build_dir / name).is_symlink():
            return name
    return None


@dataclass(frozen=True)
class VersionSources:
    """What the package manager's files say about the Python version:
    `ranges` (pyproject.toml's, which pick the version when no file names
    one), and a lockfile that may name it (Pipfile.lock): read only when
    runtime.txt and .python-version don't."""

    ranges: tuple[PythonRange, ...] = ()
    lockfile_version: Optional[Callable[[Path], Optional[str]]] = None
    lockfile_name: str = ""


def read_requested_version(
    build_dir: Path,
    versions: PythonVersions,
    cached_version: Optional[str],
    sources: VersionSources = VersionSources(),
) -> RequestedVersion:
    """The version the app asks for, and where that came from."""
    default = versions.default_major
    runtime_txt = build_dir / "runtime.txt"
    if runtime_txt.exists() or runtime_txt.is_symlink():
        return RequestedVersion(_read_runtime_txt(runtime_txt, default), ORIGIN_RUNTIME_TXT)

    misspelled = find_misspelled_version_file(build_dir)
    if misspelled:
        raise errors.python_version_file_misspelled(misspelled)

    version_file = build_dir / ".python-version"
    if version_file.exists() or version_file.is_symlink():
        return RequestedVersion(_read_python_version_file(version_file, default), ORIGIN_VERSION_FILE)

    if sources.lockfile_version is not None:
        from_lock = sources.lockfile_version(build_dir)
        if from_lock:
            return RequestedVersion(from_lock, sources.lockfile_name)

    cached_major = None
    if cached_version and is_valid_version(cached_version) and cached_version.count(".") == 2:
        cached_major = cached_version.rsplit(".", 1)[0]

    if sources.ranges:
        return version_for_ranges(sources.ranges, versions, cached_major)
    if cached_major:
        return RequestedVersion(cached_major, ORIGIN_CACHED)
    return RequestedVersion(default, ORIGIN_DEFAULT)


def version_for_ranges(
    ranges: Sequence[PythonRange], versions: PythonVersions, cached_major: Optional[str]
) -> RequestedVersion:
    """The version pyproject.toml's ranges point at (all of them allow it).

    The last build's major version if they allow it (no surprise upgrades),
    else the newest supported major they allow. Within a major, the newest
    patch allowed.
    """
    majors = sorted(versions.latest_patch, key=major_key, reverse=True)
    if cached_major in majors:
        majors.remove(cached_major)
        majors.insert(0, cached_major)
    detail = " and ".join(python_range.shown for python_range in ranges)
    detail += " in pyproject.toml " + ("allows" if len(ranges) == 1 else "allow")
    for major in majors:
        latest_patch = int(versions.latest_patch[major].rsplit(".", 1)[1])
        for patch in range(latest_patch, -1, -1):
            if allowed_by_all(ranges, f"{major}.{patch}"):
                text = major if patch == latest_patch else f"{major}.{patch}"
                return RequestedVersion(
                    text, ORIGIN_PYPROJECT, detail=detail, kept_from_cache=major == cached_major
                )
    raise errors.python_range_unsatisfiable(
        [(python_range.key, python_range.text) for python_range in ranges],
        versions.oldest_major, versions.newest_major,
    )


def check_ranges(
    requested: RequestedVersion, full_version: str, ranges: Sequence[PythonRange], lock_command: str
) -> None:
    """The version to install must be one pyproject.toml's ranges allow:
    the package manager would refuse it later, with a vaguer message."""
    refusing = first_refusing(ranges, full_version)
    if refusing is not None:
        raise errors.python_range_conflict(
            requested.text, full_version, requested.origin, refusing.key, refusing.text,
            lock_command, is_bare_major(refusing),
        )


def check_supported(requested: RequestedVersion, versions: PythonVersions) -> None:
    """End-of-life and unknown majors are errors."""
    major = major_key(requested.major)
    if major < major_key(versions.oldest_major):
        raise errors.python_version_end_of_life(
            requested.major, requested.origin, versions.oldest_major, versions.newest_major
        )
    if requested.major not in versions.latest_patch:
        raise errors.python_version_unknown(
            requested.text, requested.origin, versions.newest_major
        )


def resolve(
    requested: RequestedVersion,
    versions: PythonVersions,
    available: Optional[Sequence[str]] = None,
) -> str:
    """The exact version to install.

    `available` lists the exact versions a mirror holds (from its manifest),
    when it publishes one: a major version then resolves to the newest patch
    the mirror has.
    """
    if requested.is_exact:
        return requested.text
    if available is not None:
        patches = [v for v in available if v.rsplit(".", 1)[0] == requested.major]
        if patches:
            return max(patches, key=major_key)
    return versions.latest_patch[requested.major]


def warnings_for(requested: RequestedVersion, full_version: str, versions: PythonVersions) -> list[str]:
    """Warnings about the chosen version, in the order they are shown."""
    found: list[str] = []
    major = requested.major
    if requested.origin == ORIGIN_RUNTIME_TXT:
        found.append(errors.runtime_txt_deprecated_warning(requested.text, major))
    elif requested.origin in (ORIGIN_DEFAULT, ORIGIN_CACHED):
        found.append(errors.no_python_version_warning(major, requested.origin))
    if major in versions.deprecated:
        found.append(
            errors.python_major_deprecated_warning(
                major, versions.deprecated[major], _origin_file(requested.origin), versions.newest_major
            )
        )
    latest = versions.latest_patch[major]
    if requested.is_exact and major_key(full_version) < major_key(latest):
        found.append(
            errors.python_patch_outdated_warning(full_version, latest, requested.origin, major)
        )
    return found


def _origin_file(origin: str) -> str:
    return ".python-version" if origin in (ORIGIN_DEFAULT, ORIGIN_CACHED) else origin


def describe_choice(requested: RequestedVersion) -> str:
    """The build log's step line for the chosen version."""
    if requested.origin == ORIGIN_PYPROJECT:
        why = "the last build's major version, which" if requested.kept_from_cache else "the newest that"
        return f"Using Python {requested.text}, {why} {requested.detail} (no .python-version file)"
    if requested.origin == ORIGIN_DEFAULT:
        return f"No Python version was specified. Using the buildpack default: Python {requested.text}"
    if requested.origin == ORIGIN_CACHED:
        made_by = f" (made by {requested.detail})" if requested.detail else ""
        return (
            f"No Python version was specified. Using the same major version as the last build{made_by}: "
            f"Python {requested.text}"
        )
    return f"Using Python {requested.text} specified in {requested.origin}"
