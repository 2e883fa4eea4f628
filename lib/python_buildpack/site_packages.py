"""What is installed in a Python environment (the app's, or a tool's venv),
read from its site-packages without running its Python."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

# Where a distribution's metadata lives, relative to an environment's prefix.
SITE_PACKAGES = "lib/python3*/site-packages"


def installed_version(prefix: Path, package: str, pattern: str = SITE_PACKAGES) -> Optional[str]:
    """The version of `package` installed in the environment at `prefix`
    (`pattern`: where its site-packages is; "." for a `pip --target` dir)."""
    where = f"{pattern}/" if pattern != "." else ""
    for dist_info in prefix.glob(f"{where}{package}-*.dist-info"):
        return dist_info.name[len(f"{package}-"):-len(".dist-info")]
    return None


def has_module(prefix: Path, module: str) -> bool:
    """Whether the environment at `prefix` has the top-level package `module`."""
    return any(prefix.glob(f"{SITE_PACKAGES}/{module}/__init__.py"))


def python_version(prefix: Path) -> Optional[tuple[int, int]]:
    """The major version of the Python installed at `prefix` (its
    lib/python3.X/site-packages), or None if there is none."""
    for site in prefix.glob(SITE_PACKAGES):
        major, _, minor = site.parent.name[len("python"):].partition(".")
        if major.isdigit() and minor.isdigit():
            return int(major), int(minor)
    return None


def normalized_name(name: str) -> str:
    """A distribution's name as installers compare names (PEP 503): "Flask",
    "zope.interface" and "typing_extensions" are "flask", "zope-interface"
    and "typing-extensions"."""
    return re.sub(r"[-_.]+", "-", name).lower()
