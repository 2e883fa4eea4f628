"""What one run of bin/compile knows before it installs anything: its
directories, the stack, the settings, the cache and the report it keeps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .app_dir import ROOT, AppDir
from .cache import BuildCache
from .config_vars import BuildConfig
from .download import Timeouts
from .report import BuildReport
from .stack import Stack


@dataclass(frozen=True)
class BuildDirs:
    build: Path
    cache: Path
    env: Path
    buildpack: Path

    @property
    def for_hooks(self) -> dict[str, Path]:
        """Exported to the app's hooks and build-time code, as the classic buildpack does."""
        return {"BUILD_DIR": self.build, "CACHE_DIR": self.cache, "ENV_DIR": self.env}


@dataclass(frozen=True)
class Build:
    dirs: BuildDirs
    stack: Stack
    config: BuildConfig
    cache: BuildCache
    timeouts: Timeouts
    # The build system's environment, as bin/compile was given it.
    environ: Mapping[str, str]
    report: BuildReport
    # bin/test-compile (Heroku CI): the test dependencies too, no collectstatic.
    install_test: bool = False
    # The app's directory in the build dir (PYTHON_APP_DIR, app_dir.py).
    app_path: str = ROOT

    @property
    def app(self) -> AppDir:
        return AppDir(self.dirs.build, self.app_path)

    @property
    def app_dir(self) -> Path:
        """Where the app's own files are read from, and its tools run: the
        build dir, or the PYTHON_APP_DIR subdirectory. What belongs to the
        slug (.heroku/python, .profile.d) is in dirs.build."""
        return self.app.path
