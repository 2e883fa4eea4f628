"""Installing pip or uv with the pip wheel that CPython bundles for
ensurepip, so nothing needs to be installed first (the fallbacks: uv and
pip normally come from uv_download.py and uv), and the launchers of the
tools that live in venvs of their own.

Only a few pip settings of the build environment reach these installs (the
index, certificates, proxy): the rest, and pip config files, can't break them.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Optional, Sequence

from . import errors
from .commands import CommandResult, run_streamed
from .config_vars import BuildConfig
from .python_location import PythonLocation

if TYPE_CHECKING:
    from .package_manager import InstallContext

# pip's index settings, read from the app's config vars too (private indexes).
PIP_INDEX_SETTINGS = r"PIP_(INDEX_URL|EXTRA_INDEX_URL|TRUSTED_HOST|FIND_LINKS)"
_ALLOWED = re.compile(PIP_INDEX_SETTINGS + r"|PIP_(CERT|CLIENT_CERT|PROXY|DEFAULT_TIMEOUT|RETRIES)")


def pip_settings(config: BuildConfig) -> dict[str, str]:
    return config.matching(PIP_INDEX_SETTINGS)


def cache_args(pip_cache_dir: Optional[Path]) -> list[str]:
    return [f"--cache-dir={pip_cache_dir}"] if pip_cache_dir else ["--no-cache-dir"]


def wheel(location: PythonLocation) -> Path:
    wheels = sorted(
        location.install_dir.glob("lib/python3*/ensurepip/_bundled/pip-*.whl"),
        key=lambda p: [int(n) if n.isdigit() else 0 for n in re.split(r"[.-]", p.name)[1:4]],
    )
    if not wheels:
        raise errors.bundled_pip_missing(str(location.home))
    # Run through the build's path (/app/...), like every other use of Python.
    return location.home / wheels[-1].relative_to(location.install_dir)


def environment(env: Mapping[str, str], settings: Mapping[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in env.items() if not k.startswith("PIP_") or _ALLOWED.fullmatch(k)}
    clean.update(settings)
    # pip docs (Configuration): PIP_CONFIG_FILE=os.devnull loads no config file.
    clean["PIP_CONFIG_FILE"] = os.devnull
    # pip before 24.2 (the wheel older runtimes bundle) trusts certifi's CAs, or
    # PIP_CERT / REQUESTS_CA_BUNDLE, never SSL_CERT_FILE (pip docs: HTTPS Certificates).
    if "PIP_CERT" not in clean and env.get("SSL_CERT_FILE"):
        clean["PIP_CERT"] = env["SSL_CERT_FILE"]
    return clean


def install(context: "InstallContext", args: Sequence[str]) -> CommandResult:
    """`<the app's python> <bundled pip wheel>/pip install ARGS`, output shown
    on failure only: pip into the app's Python, or uv when it couldn't be
    downloaded directly (uv_download.py), with PYTHON_INSTALLER=pip."""
    location = context.location
    return run_streamed(
        [
            str(location.python), str(wheel(location) / "pip"), "install", "--disable-pip-version-check",
            *cache_args(context.pip_cache_dir), "--no-input", "--quiet", "--no-warn-script-location",
            # Tools compile their modules when first run; compiling all now costs seconds.
            "--no-compile", *args,
        ],
        environment(context.env, context.pip_settings),
        quiet=True,
    )


def write_launcher(launcher: Path, script: str) -> None:
    """`launcher`: runs a tool's venv script (`script`, relative to it) without PYTHONHOME.

    The export file (later buildpacks) and .profile.d (run time) set
    PYTHONHOME to the app's Python, and CPython documents a venv's
    pyvenv.cfg as setting sys.prefix only "if PYTHONHOME is not set" (docs:
    "The initialization of the sys.path module search path"): the tool runs
    in its venv without it. What the tool runs (`pipenv run ...`) doesn't
    need it either: the app's Python finds its home from where it is.
    """
    content = (
        "#!/bin/sh\n"
        "# Written by the Python buildpack: the tool runs in its own venv, which PYTHONHOME would hide.\n"
        "unset PYTHONHOME\n"
        f'exec "$(dirname -- "$0")/{script}" "$@"\n'
    )
    # Left as it is when it is already this: the cache's early copy of the
    # install (cache.py) stays valid only while nothing in it changes.
    if _is_file_with(launcher, content, 0o755):
        return
    launcher.parent.mkdir(parents=True, exist_ok=True)
    if launcher.is_symlink() or launcher.exists():
        launcher.unlink()  # an older build's symlink
    launcher.write_text(content, encoding="utf-8")
    launcher.chmod(0o755)


def _is_file_with(path: Path, content: str, mode: int) -> bool:
    try:
        info = path.lstat()
        return stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == mode \
            and path.read_text(encoding="utf-8") == content
    except (OSError, ValueError):
        return False
