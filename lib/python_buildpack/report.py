"""The build report: what bin/compile did, for bin/report to print.

Heroku's build system runs bin/report after every build, successful or not,
and keeps the JSON it prints. compile records each fact as soon as it is
known, rewriting a small JSON file in the build dir, so a build that fails,
or is killed halfway, still leaves a report of how far it got. The file is
rewritten in place with one write, padded with spaces to at least its old
length, so it holds valid JSON at every moment; a new file and a rename
each time (a few dozen a build) cost tens of milliseconds on a slow disk.

Only the buildpack's own facts are recorded: versions, names, ids, reasons
and durations. Never a config var, a URL or a command's output, so the
report can't hold a secret.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from pathlib import Path
from typing import Any, Iterator, Optional

from . import app_files

BUILDPACK_VERSION = "0.10.0"
# Beside the app's Python, not among the app's own files.
REPORT_PATH = Path(".heroku") / "python-buildpack-report.json"
# Where the report goes while the app's .heroku isn't a directory of its own
# (not made yet; a symbolic link, never written through): the build cache.
FALLBACK_NAME = "python-buildpack-report.json"
# Unreadably large means it isn't ours.
_LIMIT = 256 * 1024

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"


class BuildReport:
    """Facts about one build, written to disk as they are recorded."""

    def __init__(self, build_dir: Path, cache_dir: Path, clock=time.monotonic):
        self._paths = (build_dir / REPORT_PATH, cache_dir / FALLBACK_NAME)
        self._clock = clock
        self._started = clock()
        self._step: Optional[tuple[str, float]] = None
        self.data: dict[str, Any] = {
            "buildpack_version": BUILDPACK_VERSION,
            "status": RUNNING,
            "steps": {},
        }
        for path in self._paths:
            _remove_file(path)  # an older build's: it must never pass for this one's
        self._write()

    def record(self, **facts: Any) -> None:
        self.data.update(facts)
        self._write()

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time a step of the build; one that never ends is named in the report."""
        started = self._clock()
        self.record(current_step=name)
        yield
        self.data["steps"][name] = round(self._clock() - started, 3)
        self.data.pop("current_step", None)
        self._write()

    def finish(self, error_id: Optional[str] = None, detail: str = "") -> None:
        """The build's outcome; `error_id` when it failed."""
        self.data["duration"] = round(self._clock() - self._started, 3)
        if error_id is None:
            self.data["status"] = SUCCEEDED
        else:
            self.data["status"] = FAILED
            self.data["error"] = {"id": error_id, "detail": detail[:200]}
        self._write()

    def _write(self) -> None:
        """Best effort: the report never fails the build. In the app's
        .heroku once it is there (the build never makes it before the app's
        pre_compile hook has run), else in the cache; only the newest copy
        is kept."""
        data = (json.dumps(self.data, indent=2, sort_keys=False) + "\n").encode()
        for index, path in enumerate(self._paths):
            if _write_inside(path, data, final=self.data["status"] != RUNNING):
                for other in self._paths[index + 1:]:
                    _remove_file(other)
                return


def _remove_file(path: Path) -> None:
    with contextlib.suppress(OSError):
        if stat.S_ISREG(os.lstat(path).st_mode):
            path.unlink()


def _write_inside(path: Path, data: bytes, final: bool) -> bool:
    """Rewrite `path` in place, only if its directory is a real directory
    and it is a file of its own (never written through a link). Trailing
    spaces pad it to its old length, and the last write trims them."""
    directory = path.parent
    try:
        if not stat.S_ISDIR(os.lstat(directory).st_mode):
            return False
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o644)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            return False
        os.pwrite(fd, data.ljust(info.st_size, b" "), 0)
        if final:
            os.ftruncate(fd, len(data))
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def read(build_dir: Path, cache_dir: Optional[Path]) -> Optional[dict[str, Any]]:
    """The last build's report, or None when there is none (or it isn't ours)."""
    paths = [build_dir / REPORT_PATH] + ([cache_dir / FALLBACK_NAME] if cache_dir else [])
    for path in paths:
        text = app_files.read_small_text(path, _LIMIT)
        if text is None:
            continue
        try:
            data = json.loads(text)
        except ValueError:
            continue
        if isinstance(data, dict) and "buildpack_version" in data:
            return data
    return None
