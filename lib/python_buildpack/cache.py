"""The build cache: the Python install with its site-packages, between builds.

Layout inside CACHE_DIR (shared with other buildpacks, so namespaced):

    python-buildpack/
        .lock           flock()ed while a build restores from or saves to the cache
        metadata.json   what the cached install was built from, and its size (written last)
        python-version  the last successful build's Python version (sticky)
        python/         the install, i.e. BUILD_DIR/.heroku/python
        pip/            pip's download and wheel cache
        poetry/, uv/, pdm/    the Poetry, uv and PDM tools (never in the slug)
        poetry-cache/, uv-cache/, pdm-cache/   their download caches

The install is reused only when everything in `CacheKey` is unchanged and
it still has the files metadata.json counted when it was saved; a missing
or unreadable metadata.json marks a partial, corrupt or foreign cache, which
is discarded. Restoring moves the directory; saving copies into a temporary
directory (hardlinks where CACHE_DIR and BUILD_DIR share a file system),
renames it into place and writes metadata.json last. Two builds of one app
can run at once on one CACHE_DIR: each restore and save holds the lock, and
a build that can't get it in time goes on without the cache.

A save starts early (`start_save`): the copy is made in the background as
soon as the install is what the build should leave, beside collectstatic
and the other steps that follow, holding the lock. `save` then checks the
install is still what was copied (the same files, by inode where the copy
is made of hardlinks), and copies again if anything changed since.

Nothing in the cache is trusted to be what it should: a symbolic link, FIFO
or other odd file where a directory or file of ours belongs is removed,
never followed or read (a FIFO would block the build).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Sequence

from . import app_files, errors, file_lock, output
from .install_base import InstallBase, KeptBytecode

NAMESPACE = "python-buildpack"
# 2: metadata.json records the install's file count and size.
FORMAT = 2
# Download caches (pip's, uv's, Poetry's) are dropped when larger than this.
DOWNLOAD_CACHE_LIMIT = 1024 * 1024 * 1024
# How long a build waits for another build of the app to finish with the
# cache: saving a large install to another file system takes a while, but a
# build never waits for ever on a build that hangs.
LOCK_WAIT_SECONDS = 60.0
# Names of a save's work in progress; any found while holding the lock are
# left by a build that was killed, and are removed.
STAGING_PREFIX = ".saving-"
WRITING_PREFIX = ".writing-"
# Directories a Python install has, checked before it is reused.
INSTALL_DIRS = ("bin", "lib")
# The cache's small files are read only up to this size.
SMALL_FILE_LIMIT = 64 * 1024
# base.txt lists every file of Python and the tool: a few hundred KB.
BASE_FILE_LIMIT = 32 * 1024 * 1024

INCOMPLETE = "The cache is incomplete, corrupt or from another buildpack version"
FOREIGN_ROOT = "The cache directory is corrupt or belongs to something else"
NOT_A_DIRECTORY = "The cached Python install is a symbolic link or not a directory"
INSTALL_INCOMPLETE = "The cached Python install is incomplete or changed since it was saved"


@dataclass(frozen=True)
class RuntimeKey:
    """What the Python runtime was built for. Everything else in the install
    was built on it, so any change discards the whole install."""

    stack: str
    arch: str
    python_version: str

    def changes_from(self, old: "RuntimeKey") -> list[str]:
        labels = {"stack": "The stack", "arch": "The CPU architecture", "python_version": "The Python version"}
        return [
            f"{label} has changed from {getattr(old, name)} to {getattr(self, name)}"
            for name, label in labels.items()
            if getattr(old, name) != getattr(self, name)
        ]


@dataclass(frozen=True)
class DependenciesKey:
    """What the installed dependencies were installed from and with.

    `syncs`: the package manager removes what its files no longer list
    (Poetry, uv, PDM), so a changed file keeps the install and the tool brings it
    up to date; pip and Pipenv can't, so a change discards it. `file_name`
    names the file in the build log. Neither is part of the key.
    """

    package_manager: str
    package_manager_version: str
    fingerprint: str
    file_name: str = field(default="", compare=False)
    syncs: bool = field(default=False, compare=False)
    # What installed them: the manager itself (the default), or for pip apps uv.
    installer: str = ""

    def __post_init__(self) -> None:
        if not self.installer:
            object.__setattr__(self, "installer", self.package_manager)

    def changes_from(self, old: "DependenciesKey") -> list[str]:
        """Why the install can't be reused at all: another manager or version
        of it (the tool, in the install, and what it installed)."""
        if old.package_manager != self.package_manager:
            return [f"The package manager has changed from {old.package_manager} to {self.package_manager}"]
        if old.package_manager_version != self.package_manager_version:
            return [
                f"The {self.package_manager} version has changed from "
                f"{old.package_manager_version} to {self.package_manager_version}"
            ]
        return []

    def reinstall_reasons(self, old: "DependenciesKey") -> list[str]:
        """Why the dependencies must be installed afresh, into the install
        reset to its base (install_base.py): another installer, or changed
        files for a manager that can't remove what they no longer list.
        (Poetry, uv and PDM sync the install to the changed lockfile instead.)"""
        reasons = []
        if old.installer != self.installer:
            reasons.append(f"The installer has changed from {old.installer} to {self.installer}")
        if not self.syncs and old.fingerprint != self.fingerprint:
            reasons.append(f"The contents of {self.file_name} changed")
        return reasons


@dataclass(frozen=True)
class CacheKey:
    """What the cached install (BUILD_DIR/.heroku/python) depends on: the
    runtime, then the dependencies installed on it. Saved flat in
    metadata.json (the format before the two were told apart)."""

    runtime: RuntimeKey
    dependencies: DependenciesKey

    def changes_from(self, old: "CacheKey") -> list[str]:
        """Why the cached install can't be reused."""
        return self.runtime.changes_from(old.runtime) + self.dependencies.changes_from(old.dependencies)

    def to_json(self) -> dict[str, str]:
        runtime, dependencies = self.runtime, self.dependencies
        return {
            "stack": runtime.stack, "arch": runtime.arch, "python_version": runtime.python_version,
            "package_manager": dependencies.package_manager,
            "package_manager_version": dependencies.package_manager_version,
            "dependencies": dependencies.fingerprint,
            "installer": dependencies.installer,
        }

    @classmethod
    def from_json(cls, data: dict) -> "CacheKey":
        text = {name: str(data[name]) for name in cls.FIELDS}
        return cls(
            RuntimeKey(text["stack"], text["arch"], text["python_version"]),
            DependenciesKey(text["package_manager"], text["package_manager_version"], text["dependencies"],
                            # Saved before uv installed pip apps' dependencies: by the manager itself.
                            installer=str(data.get("installer") or "")),
        )

    FIELDS = ("stack", "arch", "python_version", "package_manager", "package_manager_version", "dependencies")


@dataclass(frozen=True)
class InstallSize:
    """How many files (and links) an install has and their total size: what
    tells a complete saved install from one that lost files since."""

    files: int
    bytes: int


@dataclass(frozen=True)
class Metadata:
    key: CacheKey
    install: InstallSize


@dataclass(frozen=True)
class StickyVersion:
    """The last build's exact Python version, and which buildpack made that build."""

    version: str
    from_classic_buildpack: bool = False


_CLASSIC_VERSION = re.compile(r"python-([0-9]+\.[0-9]+\.[0-9]+)")


def read_classic_python_version(path: Path) -> Optional[str]:
    """The version in the classic buildpack's cache file (`python-3.12.4`), or
    None when it is missing or holds anything else (PyPy, older formats)."""
    text = _read_small_file(path)
    match = _CLASSIC_VERSION.fullmatch(text.strip()) if text else None
    return match.group(1) if match else None


# What a restore found, for the build report.
EMPTY = "empty"
REUSED = "reused"
DISCARDED = "discarded"
BUSY = "busy"


@dataclass(frozen=True)
class Restored:
    reused: bool
    dependencies_unchanged: bool = False
    status: str = EMPTY
    reasons: tuple[str, ...] = ()
    # The install's base (install_base.py), saved with it.
    base: Optional[InstallBase] = None
    # Why the restored install was reset to its base: the dependencies are
    # installed afresh (empty when they weren't).
    reset_reasons: tuple[str, ...] = ()
    # What the reset kept for the reinstall to reuse, to tidy after it.
    kept_bytecode: Optional[KeptBytecode] = None

    @classmethod
    def discarded(cls, reasons: Sequence[str]) -> "Restored":
        return cls(False, status=DISCARDED, reasons=tuple(reasons))


class BuildCache:
    def __init__(self, cache_dir: Path):
        self.root = cache_dir / NAMESPACE
        self.metadata_path = self.root / "metadata.json"
        # The install's base (install_base.py): what a dependency change resets it to.
        self.base_path = self.root / "base.txt"
        # The last successful build's Python version, kept through discards
        # so an app without a version file keeps its major version.
        self.version_path = self.root / "python-version"
        self.python_dir = self.root / "python"
        self.lock_path = self.root / ".lock"
        # Where the classic Python buildpack keeps its last build's version.
        self.classic_version_path = cache_dir / ".heroku" / "python-version"
        self.pip_dir = self.root / "pip"
        self._download_caches = {self.pip_dir}
        self._early: Optional[_EarlyCopy] = None
        # How save() copied the install into the cache: EARLY_COPY (the early
        # copy, still what the install held) or COPIED_AT_THE_END; None if it didn't.
        self.saved_by: Optional[str] = None

    # -- reading ------------------------------------------------------------

    def read_key(self) -> Optional[CacheKey]:
        """The key of the cached install, or None if there is no usable one."""
        metadata = self._read_metadata()
        return metadata.key if metadata else None

    def has_install(self) -> bool:
        return _is_real_dir(self.root) and _is_real_dir(self.python_dir)

    def cached_python_version(self) -> Optional[str]:
        text = _read_small_file(self.version_path) if _is_real_dir(self.root) else None
        return (text or "").strip() or None

    def sticky_python_version(self) -> Optional[StickyVersion]:
        """The last build's Python version: this buildpack's, else the
        classic Python buildpack's, for apps moving from it."""
        ours = self.cached_python_version()
        if ours:
            return StickyVersion(ours)
        classic = read_classic_python_version(self.classic_version_path)
        return StickyVersion(classic, from_classic_buildpack=True) if classic else None

    def _read_base(self) -> Optional[InstallBase]:
        text = app_files.read_small_text(self.base_path, BASE_FILE_LIMIT) if _is_real_dir(self.root) else None
        return InstallBase.from_text(text) if text else None

    def _read_metadata(self) -> Optional[Metadata]:
        text = _read_small_file(self.metadata_path) if _is_real_dir(self.root) else None
        if text is None:
            return None
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                return None
            key = CacheKey.from_json(data)
            return Metadata(key, InstallSize(int(data["install"]["files"]), int(data["install"]["bytes"])))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    # -- restoring ----------------------------------------------------------

    def restore(self, key: CacheKey, install_dir: Path, unused_dirs: Sequence[str] = ()) -> Restored:
        """Move the cached install into place if it matches `key`, and
        remove `unused_dirs` (tools of package managers the app no longer uses)."""
        if not self._root_usable():
            return Restored.discarded([FOREIGN_ROOT]) if os.path.lexists(self.root) else Restored(False)
        with self._locked() as locked:
            if not locked:
                output.warning(errors.cache_busy_warning(LOCK_WAIT_SECONDS, saving=False))
                return Restored(False, status=BUSY)
            try:
                return self._restore_locked(key, install_dir, unused_dirs)
            except OSError as error:
                # A cache we can't read or change (permissions, a full disk)
                # costs the build its cache, not the build.
                reasons = [f"It can't be used: {_describe(error)}"]
                _remove_path(install_dir)  # whatever of it was moved into the build
                self._discard(reasons, keep_pip=True)
                return Restored.discarded(reasons)

    def _root_usable(self) -> bool:
        """Whether the cache directory is there and ours; anything else in
        its place (a symbolic link, a file) is removed, never followed."""
        if not os.path.lexists(self.root):
            return False
        if not _is_real_dir(self.root):
            self._discard([FOREIGN_ROOT], keep_pip=False)
            return False
        return True

    def _restore_locked(self, key: CacheKey, install_dir: Path, unused_dirs: Sequence[str]) -> Restored:
        self._remove_leftovers()
        for name in unused_dirs:
            _remove_path(self.root / name)
        if not os.path.lexists(self.python_dir):
            return Restored(False)  # nothing saved yet, or the last build failed after restoring
        old = self._read_metadata()
        reinstall = key.dependencies.reinstall_reasons(old.key.dependencies) if old else []
        base = self._read_base()
        # A reset checks the base entry by entry and removes the rest: no
        # need to count the whole install first.
        reasons = self._reasons_to_discard(old, key, count_files=not (reinstall and base))
        if reasons:
            self._discard(reasons, keep_pip=old is not None)
            return Restored.discarded(reasons)
        if reinstall and base is None:
            self._discard(reinstall, keep_pip=True)  # saved without its base: an older cache
            return Restored.discarded(reinstall)
        output.step("Restoring cache")
        problem = self._move_out(install_dir)
        if problem:
            self._discard([problem], keep_pip=True)
            return Restored.discarded([problem])
        if reinstall:
            kept = base.reset(install_dir)
            if kept is None:
                why = "The cached Python install changed since its dependencies were installed"
                _remove_path(install_dir)
                self._discard([why], keep_pip=True)
                return Restored.discarded([why])
            output.step("Keeping the cached Python; installing the dependencies afresh since:")
            for reason in reinstall:
                output.info(f"- {reason}")
            return Restored(True, status=REUSED, base=base, reset_reasons=tuple(reinstall), kept_bytecode=kept)
        unchanged = old.key.dependencies.fingerprint == key.dependencies.fingerprint
        return Restored(True, dependencies_unchanged=unchanged, status=REUSED, base=base)

    def _reasons_to_discard(self, old: Optional[Metadata], key: CacheKey, count_files: bool = True) -> list[str]:
        if old is None:
            return [INCOMPLETE]
        if not _is_real_dir(self.python_dir):
            return [NOT_A_DIRECTORY]
        changes = key.changes_from(old.key)
        if changes:
            return changes
        if not all(_is_real_dir(self.python_dir / name) for name in INSTALL_DIRS):
            return [INSTALL_INCOMPLETE]
        if count_files and _measure(self.python_dir) != old.install:
            return [INSTALL_INCOMPLETE]
        return []

    def _move_out(self, install_dir: Path) -> Optional[str]:
        """Move the cached install into the build; what went wrong, if it couldn't be."""
        # metadata.json goes first: whatever happens next (a kill, a failed
        # copy), it never again describes what is left in the cache.
        _remove_path(self.metadata_path)
        install_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(self.python_dir, install_dir)
            return None
        except OSError:
            pass  # the cache is on another file system: copy
        try:
            _copy_tree(self.python_dir, install_dir, link=False)
        except OSError as error:
            _remove_path(install_dir)
            return f"Copying it into the build failed: {_describe(error)}"
        finally:
            _remove_path(self.python_dir)
        return None

    def _discard(self, reasons: list[str], keep_pip: bool) -> None:
        output.step("Discarding cache since:")
        for reason in reasons:
            output.info(f"- {reason}")
        self.clear(keep_pip=keep_pip)

    def discard_restored(self, install_dir: Path, why: str) -> None:
        """Throw away a restored install that turned out to be broken. The
        cache itself no longer holds it (restoring moved it out), and may by
        now hold another build's save, so it is left alone; an early save
        of it is abandoned."""
        early, self._early = self._early, None
        if early is not None:
            early.abandon()
        _remove_path(install_dir)
        output.step("Discarding cache since:")
        output.info(f"- {why}")

    def clear(self, keep_pip: bool) -> None:
        if not _is_real_dir(self.root):
            _remove_path(self.root)
            return
        _remove_path(self.metadata_path)
        _remove_path(self.base_path)
        _remove_path(self.python_dir)
        if not keep_pip:
            _remove_path(self.pip_dir)

    def _remove_leftovers(self) -> None:
        """Remove what a killed build's save left. Only called with the lock
        held, so no other build's save is in progress."""
        for entry in os.scandir(self.root):
            if entry.name.startswith((STAGING_PREFIX, WRITING_PREFIX)):
                _remove_path(Path(entry.path))

    # -- saving -------------------------------------------------------------

    def start_save(self, install_dir: Path) -> None:
        """Start copying the install into the cache, in the background, if
        the lock can be had now; `save` checks and finishes it."""
        if self._early is not None:
            return
        try:
            self._make_root()
            fd = self._open_lock_file()
            if fd is not None and not _acquire(fd, 0.0):
                os.close(fd)  # another build has the cache: `save` waits for it
                return
            self._remove_leftovers()
            self._make_room()
        except OSError:
            return  # `save` meets the problem again, and says what it is
        self._early = _EarlyCopy.start(install_dir, self._staging_path(), fd, sorted(self._download_caches))

    def save(self, key: CacheKey, install_dir: Path, base: Optional[InstallBase] = None) -> Optional[str]:
        """Save the install for the next build; return a warning, if any.

        The install is copied into a temporary directory, renamed into
        place, and metadata.json written last, so a save that is interrupted
        or runs out of space leaves nothing the next build would reuse.
        """
        output.step("Saving cache")
        self.saved_by = None
        early, self._early = self._early, None
        if early is not None and early.finish(install_dir):
            try:
                self._commit(key, early.staging, early.size, early.download_cache_sizes, base)
                self.saved_by = EARLY_COPY
                return None
            except OSError as error:
                return _save_warning(error, self.root.parent)
            finally:
                early.release()
        try:
            self._make_root()
            with self._locked() as locked:
                if not locked:
                    return errors.cache_busy_warning(LOCK_WAIT_SECONDS, saving=True)
                self._save_locked(key, install_dir, base)
        except OSError as error:
            return _save_warning(error, self.root.parent)
        self.saved_by = COPIED_AT_THE_END
        return None

    def _make_root(self) -> None:
        """The cache's directory, made if missing; anything else in its place
        (a link, a file) is removed, never followed."""
        if os.path.lexists(self.root) and not _is_real_dir(self.root):
            _remove_path(self.root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _staging_path(self) -> Path:
        return self.root / f"{STAGING_PREFIX}{secrets.token_hex(4)}"

    def _save_locked(self, key: CacheKey, install_dir: Path, base: Optional[InstallBase]) -> None:
        self._remove_leftovers()
        self._make_room()
        staging = self._staging_path()
        try:
            _link_or_copy_tree(install_dir, staging)
            size = _measure(staging)
        except BaseException:
            _remove_path(staging)
            raise
        self._commit(key, staging, size, _sizes(sorted(self._download_caches)), base)

    def _make_room(self) -> None:
        """Remove the old install (another build's, saved while this one ran
        without the cache) before the copy, so its space is free for it;
        metadata.json first, so that nothing describes a half-removed install."""
        _remove_path(self.metadata_path)
        _remove_path(self.python_dir)

    def _commit(self, key: CacheKey, staging: Path, size: InstallSize, download_cache_sizes: dict[Path, int],
                base: Optional[InstallBase]) -> None:
        """Put a complete copy of the install in place, with what describes it."""
        try:
            self._make_room()  # in case: the lock is all that keeps another build from saving meanwhile
            os.rename(staging, self.python_dir)
            for download_cache, size_of_it in download_cache_sizes.items():
                if size_of_it > DOWNLOAD_CACHE_LIMIT:
                    _remove_path(download_cache)
            _write_atomically(self.version_path, key.runtime.python_version + "\n")
            if base is not None:
                _write_atomically(self.base_path, base.to_text())
            else:
                _remove_path(self.base_path)
            metadata = {"format": FORMAT, **key.to_json(), "install": asdict(size)}
            _write_atomically(self.metadata_path, json.dumps(metadata, indent=2) + "\n")
        except BaseException:
            # Including SIGTERM: nothing half-saved stays to take up space.
            for path in (staging, self.metadata_path, self.python_dir):
                _remove_path(path)
            raise

    def download_cache(self, name: str) -> Path:
        """A tool's download cache (`uv-cache`): kept between builds, and
        dropped when a save finds it larger than DOWNLOAD_CACHE_LIMIT."""
        path = self.root / name
        self._download_caches.add(path)
        return path

    def tool_dir(self, name: str) -> Path:
        """Where a tool kept out of the slug lives between builds (see tool_layer)."""
        return self.root / name

    # -- the lock -----------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[bool]:
        """Hold the cache's lock; yields False if another build held it for
        LOCK_WAIT_SECONDS. Where the lock can't be taken at all (a read-only
        cache, a file system without locks) the build goes on as before
        locks existed: the metadata checks still catch a broken install."""
        fd = self._open_lock_file()
        try:
            yield fd is None or _acquire(fd, LOCK_WAIT_SECONDS)
        finally:
            if fd is not None:
                os.close(fd)  # releases the lock; a killed build's is released by the kernel

    def _open_lock_file(self) -> Optional[int]:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        for _attempt in range(2):
            try:
                fd = os.open(self.lock_path, flags, 0o600)
            except OSError as error:
                if error.errno not in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
                    return None
            else:
                if stat.S_ISREG(os.fstat(fd).st_mode):
                    return fd
                os.close(fd)
            # A link, FIFO, socket or directory in the lock file's place.
            _remove_path(self.lock_path)
        return None


def _save_warning(error: OSError, cache_dir: Path) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return errors.cache_no_space_warning(str(cache_dir))
    return errors.cache_save_warning(_describe(error))


@dataclass
class _EarlyCopy:
    """The install's copy into the cache, made on a thread while the build
    goes on (BuildCache.start_save), with the cache's lock held throughout."""

    install_dir: Path
    staging: Path
    lock_fd: Optional[int]
    download_caches: list[Path]
    thread: Optional[threading.Thread] = None
    # What the thread found: the copy's files, by inode when hardlinked.
    copied: Optional[dict[str, object]] = None
    linked: bool = False
    size: InstallSize = InstallSize(0, 0)
    download_cache_sizes: dict[Path, int] = field(default_factory=dict)
    failed: bool = False

    @classmethod
    def start(cls, install_dir: Path, staging: Path, lock_fd: Optional[int],
              download_caches: list[Path]) -> "_EarlyCopy":
        early = cls(install_dir, staging, lock_fd, download_caches)
        # A daemon: a build that fails meanwhile isn't kept waiting for a
        # copy nobody will use; the next build removes what it left.
        early.thread = threading.Thread(target=early._copy, name="cache-save", daemon=True)
        early.thread.start()
        return early

    def _copy(self) -> None:
        try:
            self.linked = _link_or_copy_tree(self.install_dir, self.staging)
            self.copied = _entries(self.staging, self.linked)
            self.size = _measure(self.staging)
            self.download_cache_sizes = _sizes(self.download_caches)
        except Exception:  # noqa: BLE001 - `save` copies again, and reports what goes wrong then
            self.failed = True

    def finish(self, install_dir: Path) -> bool:
        """Wait for the copy; whether it is the install as it is now. If
        not, it is removed and the lock released, for a save afresh."""
        assert self.thread is not None
        self.thread.join()
        try:
            if not self.failed and install_dir == self.install_dir and self.copied == _entries(install_dir, self.linked):
                return True
        except OSError:
            pass
        self.abandon()
        return False

    def abandon(self) -> None:
        """Wait for the copy, remove it and release the lock."""
        assert self.thread is not None
        self.thread.join()
        _remove_path(self.staging)
        self.release()

    def release(self) -> None:
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


def _entries(directory: Path, by_inode: bool) -> dict[str, object]:
    """What tells two copies of a tree apart: each entry's path, and for
    files and links their inode (two trees of hardlinks share them; a file
    replaced or added since has another) or else their size and mtime.
    Directories are read without a stat of each file when `by_inode`."""
    found: dict[str, object] = {}
    pending = [""]
    while pending:
        relative = pending.pop()
        with os.scandir(os.path.join(directory, relative)) as entries:
            for entry in entries:
                path = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_dir(follow_symlinks=False):
                    found[path] = "dir"
                    pending.append(path)
                elif by_inode:
                    found[path] = entry.inode()
                else:
                    info = entry.stat(follow_symlinks=False)
                    found[path] = (info.st_size, info.st_mtime_ns)
    return found


def _acquire(fd: int, wait: float) -> bool:
    """flock `fd`, waiting at most `wait` seconds; True when the build may go
    on, as it does where the file system can't lock (see BuildCache._locked)."""
    return file_lock.lock_exclusively(fd, wait, 0.1, _announce_wait) is not file_lock.Outcome.BUSY


def _announce_wait() -> None:
    output.info("Waiting for another build of this app to finish with the build cache")


def _is_real_dir(path: Path) -> bool:
    """A directory, not a symbolic link to one."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _remove_path(path: Path) -> None:
    """Remove whatever is at `path`; a symbolic link is removed, never followed."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return  # nothing there
    if stat.S_ISDIR(mode):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _read_small_file(path: Path) -> Optional[str]:
    return app_files.read_small_text(path, SMALL_FILE_LIMIT)


def _write_atomically(path: Path, text: str) -> None:
    """Write a file by renaming a complete one into place: a reader sees the
    old or the new file, never part of one, and a link at `path` is replaced,
    not written through."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=WRITING_PREFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        if _is_real_dir(path):
            _remove_path(path)
        os.replace(temporary, path)
    except BaseException:
        _remove_path(Path(temporary))
        raise


def _link_or_copy_tree(source: Path, target: Path) -> bool:
    """Hardlink the tree where the file system allows, else copy it (False). Tried,
    not predicted: two bind mounts of one file system (a cache volume) have
    one st_dev but refuse links between them (link(2), EXDEV: "link() does
    not work across different mounts, even if the same filesystem is mounted
    on both")."""
    try:
        _copy_tree(source, target, link=True)
        return True
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise
        _remove_path(target)
        _copy_tree(source, target, link=False)
        return False


def _copy_tree(source: Path, target: Path, link: bool) -> None:
    """Copy a tree keeping links as they are; hardlink files when `link`.

    Timestamps are kept: a timestamp-based .pyc (CPython's default, PEP 552)
    is valid only while its source has the mtime it recorded; new mtimes
    would make every installed .pyc stale.

    A hardlinked copy is made by COPY_WORKERS cp processes at once, each on
    its share of the tree: it is all directories and links to create, which
    one process does one at a time. (A real copy is one cp: only it keeps
    the files that are hardlinks of each other so.)

    cp's own message (which names the file and the cause) becomes the
    OSError: its command line means nothing to the user.
    """
    options = ["cp", "--recursive", "--no-dereference", "--preserve=mode,timestamps,links"]
    if not link:
        _wait_for_cp([subprocess.Popen([*options, str(source), str(target)], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE)])
        return
    made = _split_tree(source, target)
    shares = [made.parts[worker::COPY_WORKERS] for worker in range(COPY_WORKERS)]
    _wait_for_cp([
        # --parents: each part lands at its own path under the target,
        # whose directories _split_tree made.
        subprocess.Popen([*options, "--link", "--parents", "--", *share, str(target)], cwd=source,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for share in shares if share
    ])
    for directory in reversed(made.directories):  # as cp would: once the directory is filled
        info = os.lstat(source / directory)
        os.chmod(target / directory, stat.S_IMODE(info.st_mode))
        os.utime(target / directory, ns=(info.st_atime_ns, info.st_mtime_ns))


# How many cp processes make a hardlinked copy together.
COPY_WORKERS = 2
# BuildCache.saved_by (the build report's `cache_saved`).
EARLY_COPY, COPIED_AT_THE_END = "early copy", "copied at the end"
# The tree is split down to lib/python3.X/, and further into directories
# with more subdirectories than this, so the shares come out nearly even
# (site-packages; Django is a third of its install).
SPLIT_DEPTH = 2
SPLIT_SUBDIRECTORIES = 8


@dataclass
class _SplitTree:
    # The directories made in the target (relative; the root first).
    directories: list[str] = field(default_factory=list)
    # What the cp processes copy into them (relative paths).
    parts: list[str] = field(default_factory=list)


def _split_tree(source: Path, target: Path) -> _SplitTree:
    """Make the target's top directories (lib/, lib/python3.X/) and those
    with many subdirectories (site-packages, django/), and list the rest of
    the tree as the parts to copy."""
    split = _SplitTree()
    target.mkdir()
    pending = [""]
    while pending:
        relative = pending.pop()
        split.directories.append(relative)
        with os.scandir(source / relative) as entries:
            for entry in sorted(entries, key=lambda entry: entry.name):
                path = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_dir(follow_symlinks=False) and (path.count("/") < SPLIT_DEPTH or (
                        entry.stat(follow_symlinks=False).st_nlink - 2 > SPLIT_SUBDIRECTORIES)):
                    (target / path).mkdir()
                    pending.append(path)
                else:
                    split.parts.append(path)
    return split


def _wait_for_cp(processes: list[subprocess.Popen]) -> None:
    """Wait for the cp processes; the first failure's message as an OSError."""
    failures = []
    try:
        for process in processes:
            _out, err = process.communicate()
            if process.returncode != 0:
                failures.append(err.decode(errors="replace"))
    finally:
        for process in processes:
            if process.poll() is None:  # interrupted: stop the others too
                process.kill()
                process.wait()
    if failures:
        message = next((line for line in failures[0].splitlines() if line.strip()), "cp failed")
        message = message.removeprefix("cp: ")
        no_space = any("No space left on device" in f or "Disk quota exceeded" in f for f in failures)
        raise OSError(errno.ENOSPC if no_space else errno.EIO, message)


def _measure(directory: Path) -> InstallSize:
    """The files (and links) under `directory` and their total size, links not followed."""
    files = total = 0
    pending = [os.fspath(directory)]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                        else:
                            total += entry.stat(follow_symlinks=False).st_size
                            files += 1
                    except OSError:
                        pass
        except OSError:
            pass
    return InstallSize(files, total)


def _sizes(directories: list[Path]) -> dict[Path, int]:
    """The download caches' sizes, for the save to drop those grown too large."""
    return {directory: _measure(directory).bytes if _is_real_dir(directory) else 0 for directory in directories}


def _describe(error: OSError) -> str:
    if error.filename and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return error.strerror or str(error)
