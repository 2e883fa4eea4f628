"""A build's use of the cache, over and over, for the tests that race two
processes on one cache or kill one mid-way (test_cache.py).

    python cache_worker.py CACHE_DIR BUILDS_DIR TEMPLATE SECONDS

Each round restores the install (checking a reused one is complete: as many
files as TEMPLATE), or copies TEMPLATE as a fresh install, then saves it.
Exits 1 at the first incomplete install it was given, printing BROKEN.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

from python_buildpack.cache import BuildCache, CacheKey, DependenciesKey, RuntimeKey


def key(stack="heroku-24", arch="amd64", python_version="3.12.1", package_manager="pip",
        package_manager_version="26.3", dependencies="abc", syncs=False):
    """A cache key; test_cache.py changes one field at a time."""
    return CacheKey(RuntimeKey(stack, arch, python_version),
                    DependenciesKey(package_manager, package_manager_version, dependencies,
                                    file_name="requirements.txt", syncs=syncs))


KEY = key()


def count_files(directory: Path) -> int:
    return sum(len(files) for _root, _dirs, files in os.walk(directory))


def _terminate(signum, frame):
    raise KeyboardInterrupt  # as bin/compile does


def main(cache_dir: str, builds: str, template: str, seconds: str) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    expected = count_files(Path(template))
    deadline = time.monotonic() + float(seconds)
    rounds = reused = 0
    while time.monotonic() < deadline:
        rounds += 1
        build = Path(builds) / f"build-{rounds}"
        install = build / ".heroku" / "python"
        if BuildCache(Path(cache_dir)).restore(KEY, install).reused:
            reused += 1
            found = count_files(install)
            if found != expected:
                print(f"BROKEN: restored {found} files of {expected}", file=sys.stderr)
                return 1
        else:
            shutil.rmtree(install, ignore_errors=True)
            shutil.copytree(template, install, symlinks=True)
        BuildCache(Path(cache_dir)).save(KEY, install)
        shutil.rmtree(build)
    print(f"rounds={rounds} reused={reused}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.stdout = open(os.devnull, "w")  # the build log
    sys.exit(main(*sys.argv[1:]))
