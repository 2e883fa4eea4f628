"""The install before its dependencies: the Python runtime and the package
manager's tool (pip, Pipenv), as a list of what they are made of.

Recorded when they are installed, saved with the cache, and used when the
dependency files change for a manager that can't remove what they no
longer list (pip, Pipenv): everything else is removed, leaving the install
exactly as a first build has it before its dependencies go in, without
downloading Python or the tool again. If anything of the base itself is
missing or changed (an app's requirements.txt that pins another pip), it
can't be trusted, and the whole install is discarded instead.

A reset keeps the compiled bytecode (`__pycache__`) of the packages it
removes from site-packages, for the reinstall to reuse: a package that goes
back in unchanged (the same file, with the mtime and size its .pyc
records) isn't compiled again, which is most of a reinstall's time. The
bytecode the reinstall didn't take is removed afterwards (`tidy`).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

# An entry: its kind, and what tells it unchanged.
_DIR, _FILE, _LINK = "d", "f", "l"
# A package (or module) directly in a site-packages directory.
_IN_SITE_PACKAGES = re.compile(r"lib/python3\.[0-9]+/site-packages/[^/]+")
# The directory a reset moves what it removes to (beside the install, on its
# file system), and how long the reinstall's end waits for it to be emptied.
TRASH_PREFIX = ".python-reset-"
TRASH_WAIT_SECONDS = 300.0


@dataclass
class KeptBytecode:
    """What a reset left for the reinstall to reuse: the removed packages'
    directories, now holding nothing but their `__pycache__` directories,
    and the base's directories whose `__pycache__` held a removed module's
    bytecode (six.py's, beside the base's own modules). The rest of what
    the reset removed is deleted in the background meanwhile."""

    stripped: list[Path] = field(default_factory=list)
    parents: set[Path] = field(default_factory=set)
    trash: Optional[Path] = None
    emptying: Optional[subprocess.Popen] = None

    def tidy(self) -> None:
        """After the reinstall: remove the bytecode of modules it didn't put
        back, and the directories left empty, so the install holds what a
        first build's does. An empty directory in site-packages would import
        as a namespace package."""
        for directory in self.stripped:
            for root, _dirs, _files in os.walk(directory, topdown=False):
                if os.path.basename(root) == "__pycache__":
                    _remove_orphan_bytecode(Path(root))
                else:
                    _remove_if_empty(root)
        for parent in self.parents:
            _remove_orphan_bytecode(parent / "__pycache__")
        self._empty_trash()

    def _empty_trash(self) -> None:
        if self.emptying is not None:
            try:
                self.emptying.wait(timeout=TRASH_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self.emptying.kill()
                self.emptying.wait()
        if self.trash is not None:
            shutil.rmtree(self.trash, ignore_errors=True)  # what rm couldn't, if anything


@dataclass(frozen=True)
class InstallBase:
    # Relative path -> (kind, size, mtime in ns) for files; (kind, 0, 0) else.
    entries: dict[str, tuple[str, int, int]]

    @classmethod
    def record(cls, install_dir: Path) -> "InstallBase":
        return cls(_walk(install_dir))

    def reset(self, install_dir: Path) -> Optional[KeptBytecode]:
        """Remove all but the base from `install_dir`, keeping the bytecode
        the reinstall can reuse; None (nothing removed) if the base itself
        isn't there as it was recorded."""
        if not self._intact(install_dir):
            return None
        return _remove(install_dir, self._added(install_dir))

    def _intact(self, install_dir: Path) -> bool:
        """Whether every entry of the base is there as recorded: one lstat
        each, not a walk of the whole install (Django's is three times the base)."""
        root = str(install_dir)
        for path, entry in self.entries.items():
            try:
                if _entry(os.lstat(os.path.join(root, path))) != entry:
                    return False
            except OSError:
                return False
        return True

    def _added(self, install_dir: Path) -> list[tuple[str, bool]]:
        """What sits directly in a directory of the base without being part
        of it (a removed package's directory goes whole), and whether it is
        a directory. Bytecode directories are left to `KeptBytecode.tidy`."""
        added = []
        directories = [""] + [path for path, (kind, _size, _mtime) in self.entries.items() if kind == _DIR]
        for directory in directories:
            with os.scandir(install_dir / directory) as found:
                for entry in found:
                    path = f"{directory}/{entry.name}" if directory else entry.name
                    if entry.name != "__pycache__" and path not in self.entries:
                        added.append((path, entry.is_dir(follow_symlinks=False)))
        return added

    def to_text(self) -> str:
        return "".join(f"{kind} {size} {mtime} {path}\n" for path, (kind, size, mtime) in sorted(self.entries.items()))

    @classmethod
    def from_text(cls, text: str) -> Optional["InstallBase"]:
        entries = {}
        for line in text.splitlines():
            parts = line.split(" ", 3)
            if len(parts) != 4 or parts[0] not in (_DIR, _FILE, _LINK) or not parts[1].isdigit() \
                    or not parts[2].isdigit() or parts[3].startswith("/") or ".." in parts[3].split("/"):
                return None
            entries[parts[3]] = (parts[0], int(parts[1]), int(parts[2]))
        return cls(entries) if entries else None


def _walk(install_dir: Path) -> dict[str, tuple[str, int, int]]:
    """Every entry under `install_dir`, links not followed. Compiled
    bytecode is left out: Python writes it as it runs (a stdlib module's
    __pycache__), and it is no part of what was installed."""
    found: dict[str, tuple[str, int, int]] = {}
    for root, dirs, files in os.walk(install_dir):
        relative_root = os.path.relpath(root, install_dir)
        for name in dirs + files:
            path = name if relative_root == "." else f"{relative_root}/{name}"
            try:
                entry = _entry(os.lstat(os.path.join(root, name)))
            except OSError:
                continue
            if entry[0] == _DIR and name == "__pycache__" or entry[0] == _FILE and "/__pycache__/" in f"/{path}":
                continue
            found[path] = entry
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
    return found


def _entry(info: os.stat_result) -> tuple[str, int, int]:
    if stat.S_ISLNK(info.st_mode):
        return (_LINK, 0, 0)
    if stat.S_ISDIR(info.st_mode):
        return (_DIR, 0, 0)
    return (_FILE, info.st_size, info.st_mtime_ns)


def _remove(install_dir: Path, added: list[tuple[str, bool]]) -> KeptBytecode:
    """Remove what was added to the base. Directories are renamed into a
    trash directory that `rm` empties in the background while the
    dependencies go back in (deleting Django's thousands of files takes
    longer than its reinstall from the cache); first their `__pycache__`
    directories, if in site-packages, move back to where they were."""
    kept = KeptBytecode(parents={install_dir / path.rpartition("/")[0] for path, _is_dir in added})
    directories = [path for path, is_dir in added if is_dir]
    for path, is_dir in added:
        if not is_dir:
            (install_dir / path).unlink(missing_ok=True)
    if not directories:
        return kept
    kept.trash = Path(tempfile.mkdtemp(prefix=TRASH_PREFIX, dir=install_dir.parent))
    for index, path in enumerate(directories):
        target, moved = install_dir / path, kept.trash / str(index)
        os.rename(target, moved)
        if _IN_SITE_PACKAGES.fullmatch(path) and _move_back_bytecode(moved, target):
            kept.stripped.append(target)
    kept.emptying = subprocess.Popen(["rm", "-rf", "--", str(kept.trash)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return kept


def _move_back_bytecode(moved: Path, target: Path) -> bool:
    """Move the `__pycache__` directories under `moved` to the same places
    under `target`; whether there were any."""
    any_moved = False
    for root, dirs, _files in os.walk(moved):
        if "__pycache__" in dirs:
            dirs.remove("__pycache__")
            source = os.path.join(root, "__pycache__")
            if not os.path.islink(source):
                destination = target / os.path.relpath(root, moved)
                destination.mkdir(parents=True, exist_ok=True)
                os.rename(source, destination / "__pycache__")
                any_moved = True
    return any_moved


def _remove_if_empty(directory: str) -> None:
    try:
        os.rmdir(directory)
    except OSError:
        pass  # not empty


def _remove_orphan_bytecode(cache_dir: Path) -> None:
    """The compiled bytecode in a `__pycache__` whose module is gone (six.py's
    beside the base's own modules, a package's that the reinstall left out):
    Python never imports it, and a first build hasn't it."""
    if cache_dir.is_symlink() or not cache_dir.is_dir():
        return
    for pyc in cache_dir.glob("*.pyc"):
        if not (cache_dir.parent / (pyc.name.split(".", 1)[0] + ".py")).exists():
            pyc.unlink(missing_ok=True)
    _remove_if_empty(str(cache_dir))
