"""uv: `uv sync --locked` from uv.lock into the app's Python.

uv (installed from the package index: its wheel holds the binary) lives in
the build cache, not in the slug. It installs into .heroku/python itself,
without the dev and other default groups, and never downloads a Python of
its own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Optional

from . import bundled_pip, errors, output, pyproject
from .commands import run_streamed
from .package_manager import InstallContext, LockfileSync, ToolEnvironment, requires_python_range
from .python_range import PythonRange

INDEX_SETTINGS = r"UV_(INDEX|DEFAULT_INDEX|INDEX_URL|EXTRA_INDEX_URL|INDEX_STRATEGY|KEYRING_PROVIDER|INDEX_.+_(USERNAME|PASSWORD)|NATIVE_TLS|INSECURE_HOST)"


class Uv(LockfileSync):
    name = "uv"
    label = "uv"
    file_name = "uv.lock"
    outdated_markers = ("needs to be updated, but `--locked` was provided",)
    lock_command = "uv lock"
    local_source_markers = ("source = { path", "source = { directory", "source = { editable", "source = { git")
    enforces_python_range = True

    def python_ranges(self, build_dir: Path) -> tuple[PythonRange, ...]:
        """requires-python, which uv reads as PEP 440 (it rejects `3.12` or
        `^3.12`), and checks against the Python it syncs into."""
        return requires_python_range(build_dir)

    def installs_project_itself(self, build_dir: Path) -> Optional[str]:
        project = pyproject.read(build_dir)
        if project is not None and project.has_build_system:
            return "uv installs the project itself (it has a build system)"
        return None

    def _root(self, context: InstallContext) -> Path:
        return context.cache.root / "uv"

    def install_tool(self, context: InstallContext) -> None:
        target = self._root(context) / self.version
        if (target / "bin" / "uv").exists():
            output.step(f"Using cached uv {self.version}")
            return
        output.step(f"Installing uv {self.version}")
        shutil.rmtree(self._root(context), ignore_errors=True)
        partial = self._root(context) / f".partial-{self.version}"
        result = bundled_pip.install(
            context.location.python, context.location, ["--target", str(partial), f"uv=={self.version}"],
            context.env, bundled_pip.pip_settings(context.config), context.cache.pip_dir,
        )
        if not result.ok or not (partial / "bin" / "uv").exists():
            shutil.rmtree(self._root(context), ignore_errors=True)
            raise errors.tool_install_failed("uv", self.version)
        partial.rename(target)

    def environment(self, context: InstallContext) -> ToolEnvironment:
        uv_cache = context.cache.root / "uv-cache"
        uv_cache.mkdir(parents=True, exist_ok=True)
        same_fs = os.stat(uv_cache).st_dev == os.stat(context.location.install_dir.parent).st_dev
        return ToolEnvironment(
            path=(str(self._root(context) / self.version / "bin"),),
            build={
                "UV_PROJECT_ENVIRONMENT": str(context.location.home),
                "UV_PYTHON_DOWNLOADS": "never",
                "UV_NO_MANAGED_PYTHON": "1",
                "UV_CACHE_DIR": str(uv_cache),
                "UV_LINK_MODE": "hardlink" if same_fs else "copy",
            },
        )

    def install_dependencies(self, context: InstallContext) -> None:
        groups = [] if context.install_test else ["--no-default-groups"]
        shown = " ".join(["uv", "sync", "--locked", *groups])
        output.step(f"Installing dependencies using '{shown}'")
        env = {**context.env, **context.config.matching(INDEX_SETTINGS)}
        result = run_streamed(
            ["uv", "sync", "--locked", *groups, "--compile-bytecode", "--no-progress", "--color=never"],
            env, cwd=context.build_dir,
        )
        if not result.ok:
            raise self.install_failed(result, shown)
