"""What one run of bin/compile knows before it installs anything: its
directories, the stack, the settings, the cache and the report it keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Hashable, Mapping, TypeVar

from .app_dir import ROOT, AppDir
from .cache import BuildCache
from .config_vars import BuildConfig
from .download import Timeouts
from .report import BuildReport
from .stack import Stack

T = TypeVar("T")


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
    # What once() has worked out, by function and arguments.
    _worked_out: dict[tuple[Any, ...], Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def once(self, work_out: Callable[..., T], *args: Hashable) -> T:
        """work_out(self, *args), worked out once a build: what several steps
        read of the app's files (requirements.txt, Pipfile.lock), which nothing
        changes after the pre_compile hook, nor should a step see it change."""
        key = (work_out, args)
        if key not in self._worked_out:
            self._worked_out[key] = work_out(self, *args)
        return self._worked_out[key]

    @property
    def app(self) -> AppDir:
        return AppDir(self.dirs.build, self.app_path)

    @property
    def app_dir(self) -> Path:
        """Where the app's own files are read from, and its tools run: the
        build dir, or the PYTHON_APP_DIR subdirectory. What belongs to the
        slug (.heroku/python, .profile.d) is in dirs.build."""
        return self.app.path
