"""The install before its dependencies: the Python runtime and the package
manager's tool (pip, Pipenv), as a list of what they are made of.

Recorded when they are installed, saved with the cache, and used when the
dependency files change for a manager that can't remove what they no
longer list (pip, Pipenv): everything else is removed, leaving the install
exactly as a first build has it before its dependencies go in, without
downloading Python or the tool again. If anything of the base itself is
missing or changed (an app's requirements.txt that pins another pip), it
can't be trusted, and the whole install is discarded instead.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

# An entry: its kind, and what tells it unchanged.
_DIR, _FILE, _LINK = "d", "f", "l"


@dataclass(frozen=True)
class InstallBase:
    # Relative path -> (kind, size, mtime in ns) for files; (kind, 0, 0) else.
    entries: dict[str, tuple[str, int, int]]

    @classmethod
    def record(cls, install_dir: Path) -> "InstallBase":
        return cls(_walk(install_dir))

    def reset(self, install_dir: Path) -> bool:
        """Remove all but the base from `install_dir`; False (nothing
        removed) if the base itself isn't there as it was recorded."""
        now = _walk(install_dir)
        if any(now.get(path) != entry for path, entry in self.entries.items()):
            return False
        # Only what sits directly in a directory of the base: a removed
        # package's directory goes whole.
        added = [path for path in now if path not in self.entries
                 and (path.rpartition("/")[0] in self.entries or "/" not in path)]
        for path in added:
            target = install_dir / path
            if now[path][0] == _DIR:
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        for parent in {path.rpartition("/")[0] for path in added}:
            _remove_orphan_bytecode(install_dir / parent / "__pycache__")
        return True

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
                info = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if stat.S_ISLNK(info.st_mode):
                found[path] = (_LINK, 0, 0)
            elif stat.S_ISDIR(info.st_mode):
                if name != "__pycache__":
                    found[path] = (_DIR, 0, 0)
            elif "/__pycache__/" not in f"/{path}":
                found[path] = (_FILE, info.st_size, info.st_mtime_ns)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
    return found


def _remove_orphan_bytecode(cache_dir: Path) -> None:
    """The compiled bytecode of modules just removed (six.py's, in the
    __pycache__ beside the base's own modules): Python never imports it, but
    a first build hasn't it."""
    if cache_dir.is_symlink() or not cache_dir.is_dir():
        return
    for pyc in cache_dir.glob("*.pyc"):
        if not (cache_dir.parent / (pyc.name.split(".", 1)[0] + ".py")).exists():
            pyc.unlink(missing_ok=True)
    if not any(cache_dir.iterdir()):
        cache_dir.rmdir()
