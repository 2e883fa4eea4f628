"""What the machine must have for the stack stand-ins and the test runtimes,
checked up front so a newcomer gets one clear list instead of a traceback
minutes into a run. (The apt packages `make setup` installs itself.)"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from runtimes import CACHE_ROOT, PYENV_MAJORS, MissingPrerequisite, pyenv_builds

# Measured on a fresh machine: the three stand-in rootfs (~0.6 GB each),
# the CPython 3.14 build and its source (~0.4 GB), runtime archives
# (~0.2 GB a stack); plus the test builds' own directories under /tmp.
FIRST_TIME_GB = 3.0
TEST_RUN_GB = 2.0
# heroku-22's system python3 and the unit tests' oldest Python.
OLDEST_MAJOR = "3.10"


def problems(stack: str) -> list[str]:
    found: list[str] = []
    if os.geteuid() != 0:
        found.append("The stand-in stack needs root (debootstrap, chroot, mount): run make as root.")
    elif not _can_unshare():
        found.append("Unable to make a mount namespace (`unshare --mount` failed): in a container, run it "
                     "with CAP_SYS_ADMIN (docker run --privileged).")
    majors = PYENV_MAJORS + ((OLDEST_MAJOR,) if stack == "heroku-22" else ())
    try:
        pyenv_builds(majors)
    except MissingPrerequisite as error:
        found.append(f"Missing CPython builds: {error}.")
    found += _disk_space()
    return found


def _can_unshare() -> bool:
    try:
        return subprocess.run(["unshare", "--mount", "--fork", "--propagation", "private", "true"],
                              capture_output=True).returncode == 0
    except OSError:
        return False


def _disk_space() -> list[str]:
    found = []
    first_time = not any(CACHE_ROOT.glob("rootfs-*/.complete"))
    wanted = [(_existing(CACHE_ROOT), FIRST_TIME_GB if first_time else 0.0), (Path("/tmp"), TEST_RUN_GB)]
    for path, gigabytes in wanted:
        free = shutil.disk_usage(path).free / 1e9
        if gigabytes and free < gigabytes:
            found.append(f"{path} has {free:.1f} GB free; {gigabytes:.0f} GB are needed"
                         f"{' the first time (stand-ins, CPython build, runtimes)' if path != Path('/tmp') else ''}.")
    return found


def _existing(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path
