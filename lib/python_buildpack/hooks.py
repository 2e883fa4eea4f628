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


def app_environment(env: Mapping[str, str], config: BuildConfig, dirs: Mapping[str, Path]) -> dict[str, str]:
    """The build env plus the app's config vars (all but the protected names)
    and BUILD_DIR, CACHE_DIR and ENV_DIR."""
    app_config, _ignored = config.app_config()
    return {**env, **app_config, **{name: str(path) for name, path in dirs.items()}}


def warn_about_protected_config_vars(config: BuildConfig) -> None:
    _config, ignored = config.app_config()
    if ignored:
        output.warning(errors.protected_config_vars_warning(ignored))


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
