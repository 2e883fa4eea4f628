"""Taking an exclusive flock(2) within a time limit: the build cache's lock
(cache.py) and uv's cache lock (uv_download.py) are taken the same way, and
each caller decides what a busy lock, or a file system that can't lock,
means for it."""

from __future__ import annotations

import enum
import fcntl
import time
from typing import Callable, Optional


class Outcome(enum.Enum):
    LOCKED = "locked"
    BUSY = "busy"  # another process still held it when the time was up
    UNSUPPORTED = "unsupported"  # the file system can't lock (ENOLCK, an NFS without locks)


def lock_exclusively(fd: int, wait: float, poll: float, on_wait: Optional[Callable[[], None]] = None) -> Outcome:
    """flock `fd` exclusively, trying every `poll` seconds for at most `wait`;
    `on_wait` is called once, when the first try finds the lock held."""
    deadline = time.monotonic() + wait
    waited = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return Outcome.LOCKED
        except BlockingIOError:
            pass
        except OSError:
            return Outcome.UNSUPPORTED
        if time.monotonic() >= deadline:
            return Outcome.BUSY
        if not waited and on_wait is not None:
            on_wait()
        waited = True
        time.sleep(poll)
