#!/usr/bin/env python3
"""Prepare the stack environment for the integration suite, in the foreground:

    test/integration/prepare.py heroku-22|heroku-24|heroku-26 [...]

checks the machine's prerequisites, makes the stacks' stand-in rootfs (in
parallel: debootstrap mostly waits on the network) and the runtime archives
(CPython 3.11-3.13 from pyenv, 3.14 built from Debian's source, or where
that can't be downloaded, for heroku-26 only, assembled from Debian forky's
binary packages), each once per machine. `make test-heroku-NN` and `make
run` call it before pytest, so that the slow first time prints its progress
instead of minutes of silence inside a test fixture, which then finds it
all made.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from prerequisites import problems  # noqa: E402
from runtimes import BUILT_MAJORS, MissingPrerequisite, built_cpython, package_archives  # noqa: E402
from stack_env import make_rootfs, stack_kind  # noqa: E402


def main(argv: list[str]) -> int:
    stacks = argv or [os.environ.get("TEST_STACK", "heroku-24")]
    if stack_kind() == "chroot":
        found = sorted({problem for stack in stacks for problem in problems(stack)})
        if found:
            print("This machine can't run the stack stand-ins yet:", file=sys.stderr)
            for problem in found:
                print(f"  - {problem}", file=sys.stderr)
            return 1
    started = time.monotonic()
    with ThreadPoolExecutor(len(stacks) + len(BUILT_MAJORS)) as pool:
        # The CPython build (CPU) beside debootstrap (network): a fresh
        # machine waits for the longer of them, not their sum. Its failure
        # is reported below, by package_archives.
        for major in BUILT_MAJORS:
            pool.submit(built_cpython, major)
        made = {stack: pool.submit(make_rootfs, True, stack) for stack in stacks}
    failed = [str(future.exception()) for future in made.values() if future.exception()]
    if failed:
        print("\n".join(failed), file=sys.stderr)
        return 1
    print(f"Stand-ins ready in {time.monotonic() - started:.0f}s: "
          + ", ".join(f"{stack} {made[stack].result() or 'this container'}" for stack in stacks))
    for stack in stacks:
        started = time.monotonic()
        try:
            archives = package_archives(stack)
        except MissingPrerequisite as error:
            print(f"Missing: {error}", file=sys.stderr)
            return 1
        versions = ", ".join(archives.versions[major] for major in sorted(archives.versions))
        print(f"{stack}: runtimes {versions} ready in {time.monotonic() - started:.0f}s")
        for major, reason in archives.unavailable.items():
            print(f"{stack}: WARNING: no Python {major} runtime, so the tests that need it are skipped: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
