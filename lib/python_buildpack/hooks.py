"""The app's own build hooks, bin/pre_compile and bin/post_compile, and the
environment the app's code gets at build time (hooks, collectstatic)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Mapping, Optional

from . import errors, output
from .commands import run_streamed
from .config_vars import BuildConfig

# Enough of a script's first line to see its #! interpreter.
_SHEBANG_BYTES = 256


def app_config(config: BuildConfig) -> dict[str, str]:
    """The app's config vars for its code at build time, warning about the
    protected names left out and the ENV_DIR entries that can't be read."""
    found = config.app_config()
    if found.protected:
        output.warning(errors.protected_config_vars_warning(found.protected))
    if found.skipped:
        output.warning(errors.config_vars_skipped_warning(found.skipped))
    return found.values


def app_environment(env: Mapping[str, str], app_config: Mapping[str, str], dirs: Mapping[str, Path]) -> dict[str, str]:
    """The build env plus the app's config vars and BUILD_DIR, CACHE_DIR and ENV_DIR."""
    return {**env, **app_config, **{name: str(path) for name, path in dirs.items()}}


def run_hook(name: str, app_dir: Path, env: Mapping[str, str]) -> None:
    """The app's bin/<name>, run in the app's directory (the build dir, or
    PYTHON_APP_DIR's subdirectory: BUILD_DIR in `env` names the root)."""
    script = app_dir / "bin" / name
    if not script.is_file():
        return
    output.step(f"Running bin/{name} hook")
    if not os.access(script, os.X_OK):
        try:
            script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError:
            pass
    interpreter = shebang(script)
    if interpreter is not None and interpreter.endswith("\r"):
        # Saved with Windows line ends: the kernel looks for "/bin/bash\r".
        raise errors.hook_crlf_shebang(name, interpreter.rstrip("\r"))
    result = run_streamed(_command(script, interpreter), env, cwd=app_dir)
    if result.start_error is not None:
        missing = result.start_errno == errno.ENOENT and interpreter is not None
        raise errors.hook_not_started(name, result.start_error, interpreter if missing else None)
    if not result.ok:
        raise errors.hook_failed(name, result.returncode)


def _command(script: Path, interpreter: Optional[str]) -> list[str]:
    """How to run the hook. A text script without a #! line is run with bash,
    as the classic buildpack's bash runs it (the kernel alone refuses it);
    anything else is run as it is, so the kernel reads its #! line or ELF header."""
    if interpreter is None and not _is_binary(script):
        return ["bash", str(script)]
    return [str(script)]


def _is_binary(script: Path) -> bool:
    try:
        with open(script, "rb") as handle:
            return b"\0" in handle.read(_SHEBANG_BYTES)
    except OSError:
        return False


def shebang(script: Path) -> Optional[str]:
    """The interpreter the script's #! line names (with any arguments), or None."""
    try:
        with open(script, "rb") as handle:
            head = handle.read(_SHEBANG_BYTES)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    line = head[2:].split(b"\n", 1)[0]
    return line.decode("utf-8", errors="replace").strip(" \t")
