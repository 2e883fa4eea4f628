"""The app's own build hooks, bin/pre_compile and bin/post_compile, and the
environment the app's code gets at build time (hooks, collectstatic)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Mapping

from . import errors, output
from .commands import run_streamed
from .config_vars import BuildConfig


def app_config(config: BuildConfig) -> dict[str, str]:
    """The app's config vars for its code at build time, warning about the
    protected names left out."""
    values, ignored = config.app_config()
    if ignored:
        output.warning(errors.protected_config_vars_warning(ignored))
    return values


def app_environment(env: Mapping[str, str], app_config: Mapping[str, str], dirs: Mapping[str, Path]) -> dict[str, str]:
    """The build env plus the app's config vars and BUILD_DIR, CACHE_DIR and ENV_DIR."""
    return {**env, **app_config, **{name: str(path) for name, path in dirs.items()}}


def run_hook(name: str, build_dir: Path, env: Mapping[str, str]) -> None:
    script = build_dir / "bin" / name
    if not script.is_file():
        return
    output.step(f"Running bin/{name} hook")
    if not os.access(script, os.X_OK):
        try:
            script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError:
            pass
    result = run_streamed([str(script)], env, cwd=build_dir)
    if not result.ok:
        raise errors.hook_failed(name, result.returncode)
