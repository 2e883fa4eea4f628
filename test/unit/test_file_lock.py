from __future__ import annotations

import errno
import fcntl
import os
import time

from python_buildpack.file_lock import Outcome, lock_exclusively


def open_lock(path):
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def test_a_free_lock_is_taken_at_once(tmp_path):
    waits = []
    fd = open_lock(tmp_path / ".lock")
    try:
        assert lock_exclusively(fd, 5.0, 0.01, lambda: waits.append(1)) is Outcome.LOCKED
        assert waits == []
    finally:
        os.close(fd)


def test_a_held_lock_is_busy_after_the_wait_and_on_wait_is_called_once(tmp_path):
    holder, waiter = open_lock(tmp_path / ".lock"), open_lock(tmp_path / ".lock")
    fcntl.flock(holder, fcntl.LOCK_SH)  # flock locks of two opens conflict even in one process
    waits = []
    try:
        started = time.monotonic()
        assert lock_exclusively(waiter, 0.2, 0.01, lambda: waits.append(1)) is Outcome.BUSY
        assert 0.2 <= time.monotonic() - started < 2
        assert waits == [1]
        os.close(holder)
        holder = None
        assert lock_exclusively(waiter, 0.2, 0.01) is Outcome.LOCKED
    finally:
        for fd in (holder, waiter):
            if fd is not None:
                os.close(fd)


def test_a_file_system_without_locks(tmp_path, monkeypatch):
    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    fd = open_lock(tmp_path / ".lock")
    try:
        assert lock_exclusively(fd, 5.0, 0.01) is Outcome.UNSUPPORTED
    finally:
        os.close(fd)
