"""The build cache: the Python install with its site-packages, between builds.

Layout inside CACHE_DIR (shared with other buildpacks, so namespaced):

    python-buildpack/
        metadata.json   what the cached install was built from (written last)
        python-version  the last successful build's Python version (sticky)
        python/         the install, i.e. BUILD_DIR/.heroku/python
        pip/            pip's download and wheel cache
        poetry/, uv/    the Poetry and uv tools (never in the slug)
        poetry-cache/, uv-cache/   their download caches

The install is reused only when everything in `CacheKey` is unchanged; a
missing or unreadable metadata.json marks a partial, corrupt or foreign
cache, which is discarded. Restoring moves the directory; saving hardlinks
when CACHE_DIR and BUILD_DIR share a file system.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Optional

from . import output

NAMESPACE = "python-buildpack"
FORMAT = 1
# Download caches (pip's, uv's, Poetry's) are dropped when larger than this.
DOWNLOAD_CACHE_LIMIT = 1024 * 1024 * 1024
# Tools kept in the cache, by package manager; other managers' are removed.
TOOL_DIRS = {"poetry": ("poetry", "poetry-cache"), "uv": ("uv", "uv-cache")}


@dataclass(frozen=True)
class CacheKey:
    """What the cached install depends on."""

    stack: str
    arch: str
    python_version: str
    package_manager: str
    package_manager_version: str
    dependencies: str

    def changes_from(self, old: "CacheKey", dependency_file: Optional[str]) -> list[str]:
        """Why the cached install can't be reused. A change of the dependency
        file counts only when `dependency_file` is given."""
        reasons = []
        labels = {
            "stack": "The stack",
            "arch": "The CPU architecture",
            "python_version": "The Python version",
            "package_manager": "The package manager",
        }
        for name, label in labels.items():
            before, now = getattr(old, name), getattr(self, name)
            if before != now:
                reasons.append(f"{label} has changed from {before} to {now}")
        if old.package_manager == self.package_manager:
            if old.package_manager_version != self.package_manager_version:
                reasons.append(
                    f"The {self.package_manager} version has changed from "
                    f"{old.package_manager_version} to {self.package_manager_version}"
                )
            if dependency_file and old.dependencies != self.dependencies:
                reasons.append(f"The contents of {dependency_file} changed")
        return reasons


@dataclass(frozen=True)
class StickyVersion:
    """The last build's exact Python version, and which buildpack made that build."""

    version: str
    from_classic_buildpack: bool = False


_CLASSIC_VERSION = re.compile(r"python-([0-9]+\.[0-9]+\.[0-9]+)")


def read_classic_python_version(path: Path) -> Optional[str]:
    """The version in the classic buildpack's cache file (`python-3.12.4`), or
    None when it is missing or holds anything else (PyPy, older formats)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    match = _CLASSIC_VERSION.fullmatch(text)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Restored:
    reused: bool
    dependencies_unchanged: bool = False


class BuildCache:
    def __init__(self, cache_dir: Path):
        self.root = cache_dir / NAMESPACE
        self.metadata_path = self.root / "metadata.json"
        # The last successful build's Python version, kept through discards
        # so an app without a version file keeps its major version.
        self.version_path = self.root / "python-version"
        self.python_dir = self.root / "python"
        # Where the classic Python buildpack keeps its last build's version.
        self.classic_version_path = cache_dir / ".heroku" / "python-version"
        self.pip_dir = self.root / "pip"

    # -- reading ------------------------------------------------------------

    def read_key(self) -> Optional[CacheKey]:
        """The key of the cached install, or None if there is no usable one."""
        try:
            data = json.loads(self.metadata_path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return None
            return CacheKey(**{f.name: str(data[f.name]) for f in fields(CacheKey)})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def cached_python_version(self) -> Optional[str]:
        try:
            return self.version_path.read_text(encoding="utf-8").strip() or None
        except (OSError, UnicodeDecodeError):
            return None

    def sticky_python_version(self) -> Optional[StickyVersion]:
        """The last build's Python version: this buildpack's, else the
        classic Python buildpack's, for apps moving from it."""
        ours = self.cached_python_version()
        if ours:
            return StickyVersion(ours)
        classic = read_classic_python_version(self.classic_version_path)
        return StickyVersion(classic, from_classic_buildpack=True) if classic else None

    # -- restoring ----------------------------------------------------------

    def restore(self, key: CacheKey, install_dir: Path, dependency_file: Optional[str]) -> Restored:
        """Move the cached install into place if it matches `key`.

        `dependency_file` names the file whose changes discard the install
        (None when the package manager's sync removes stale packages itself).
        """
        if not self.root.is_dir():
            if self.root.exists() or self.root.is_symlink():
                self._discard(["The cache directory is corrupt or belongs to something else"], keep_pip=False)
            return Restored(False)
        self.remove_tools_except(key.package_manager)
        if not self.python_dir.exists():
            return Restored(False)  # nothing saved yet, or the last build failed after restoring
        old = self.read_key()
        if old is None:
            reasons = ["The cache is incomplete, corrupt or from another buildpack version"]
        elif not (self.python_dir / "bin").is_dir():
            reasons = ["The cached Python install is incomplete"]
        else:
            reasons = key.changes_from(old, dependency_file)
        if reasons:
            self._discard(reasons, keep_pip=old is not None)
            return Restored(False)
        output.step("Restoring cache")
        install_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(self.python_dir, install_dir)
        except OSError:
            _copy_tree(self.python_dir, install_dir, link=False)
            shutil.rmtree(self.python_dir, ignore_errors=True)
        return Restored(True, dependencies_unchanged=old is not None and old.dependencies == key.dependencies)

    def remove_tools_except(self, package_manager: str) -> None:
        """Drop the cached tools of package managers the app no longer uses."""
        for manager, names in TOOL_DIRS.items():
            if manager != package_manager:
                for name in names:
                    shutil.rmtree(self.root / name, ignore_errors=True)

    def _discard(self, reasons: list[str], keep_pip: bool) -> None:
        output.step("Discarding cache since:")
        for reason in reasons:
            output.info(f"- {reason}")
        self.clear(keep_pip=keep_pip)

    def discard_restored(self, install_dir: Path, why: str) -> None:
        """Throw away a restored install that turned out to be broken."""
        shutil.rmtree(install_dir, ignore_errors=True)
        self._discard([why], keep_pip=True)

    def clear(self, keep_pip: bool) -> None:
        if self.root.is_symlink() or (self.root.exists() and not self.root.is_dir()):
            self.root.unlink()
            return
        self.metadata_path.unlink(missing_ok=True)
        shutil.rmtree(self.python_dir, ignore_errors=True)
        if not keep_pip:
            shutil.rmtree(self.pip_dir, ignore_errors=True)

    # -- saving -------------------------------------------------------------

    def save(self, key: CacheKey, install_dir: Path) -> Optional[str]:
        """Save the install for the next build; return a problem, if any.

        metadata.json is written last, so an interrupted save leaves a cache
        that the next build recognises as partial and discards.
        """
        output.step("Saving cache")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.metadata_path.unlink(missing_ok=True)
            shutil.rmtree(self.python_dir, ignore_errors=True)
            same_fs = os.stat(self.root).st_dev == os.stat(install_dir).st_dev
            _copy_tree(install_dir, self.python_dir, link=same_fs)
            for download_cache in (self.pip_dir, self.root / "uv-cache", self.root / "poetry-cache"):
                if _size(download_cache) > DOWNLOAD_CACHE_LIMIT:
                    shutil.rmtree(download_cache, ignore_errors=True)
            _write_atomically(self.version_path, key.python_version + "\n")
            _write_atomically(self.metadata_path, json.dumps({"format": FORMAT, **asdict(key)}, indent=2) + "\n")
        except (OSError, subprocess.CalledProcessError) as error:
            shutil.rmtree(self.python_dir, ignore_errors=True)
            return str(error)
        return None


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def _copy_tree(source: Path, target: Path, link: bool) -> None:
    """Copy a tree keeping links as they are; hardlink files when `link`."""
    subprocess.run(
        ["cp", "--recursive", "--no-dereference", "--preserve=mode,timestamps,links",
         *(["--link"] if link else []), str(source), str(target)],
        check=True,
        capture_output=True,
    )


def _size(directory: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(directory):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total
