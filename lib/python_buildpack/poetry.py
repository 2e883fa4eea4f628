"""Poetry: `poetry sync --only main` from poetry.lock into the app's Python.

Poetry lives in a virtual environment in the build cache, not in the slug;
the app's dependencies go into .heroku/python itself (no virtualenv of
Poetry's own), without the dev groups.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Optional

from . import bundled_pip, errors, output, pyproject, python_range
from .commands import run_streamed
from .package_manager import InstallContext, LockfileSync, ToolEnvironment
from .python_range import PythonRange

INDEX_SETTINGS = r"POETRY_(HTTP_BASIC_.+_(USERNAME|PASSWORD)|REPOSITORIES_.+|PYPI_TOKEN_.+|CERTIFICATES_.+)"


class Poetry(LockfileSync):
    name = "poetry"
    label = "Poetry"
    file_name = "poetry.lock"
    outdated_markers = ("changed significantly since poetry.lock was last generated", "poetry.lock is not consistent")
    lock_command = "poetry lock"
    local_source_markers = ('type = "directory"', 'type = "file"', 'type = "git"')
    enforces_python_range = True

    def python_ranges(self, build_dir: Path) -> tuple[PythonRange, ...]:
        """requires-python and [tool.poetry.dependencies] python, both in
        Poetry's syntax (poetry-core reads requires-python with the same
        parser). Poetry 1 style projects have only the latter; Poetry checks
        the running Python against it, and requires it to be within
        requires-python, so a version must satisfy both."""
        project = pyproject.read(build_dir)
        if project is None:
            return ()
        found = (
            python_range.poetry(python_range.REQUIRES_PYTHON, project.requires_python),
            python_range.poetry(python_range.POETRY_PYTHON, project.poetry_python),
        )
        return tuple(each for each in found if each is not None)

    def installs_project_itself(self, build_dir: Path) -> Optional[str]:
        project = pyproject.read(build_dir)
        if project is not None and project.poetry_package_mode:
            return "Poetry installs the project itself (package mode)"
        return None

    def _root(self, context: InstallContext) -> Path:
        return context.cache.root / "poetry"

    def install_tool(self, context: InstallContext) -> None:
        root = self._root(context)
        # The venv runs on the app's Python, so it is only reused with it.
        stamp = f"poetry=={self.version} {context.location.home} {_python_id(context)}\n"
        if (root / "bin" / "poetry").exists() and _read(root / "installed") == stamp:
            output.step(f"Using cached Poetry {self.version}")
            bundled_pip.write_launcher(root / "bin" / "poetry", "../venv/bin/poetry")
            return
        output.step(f"Installing Poetry {self.version}")
        shutil.rmtree(root, ignore_errors=True)
        result = bundled_pip.install_in_venv(
            context.location, root / "venv", f"poetry=={self.version}", context.env,
            bundled_pip.pip_settings(context.config), context.cache.pip_dir,
        )
        if not result.ok:
            shutil.rmtree(root, ignore_errors=True)
            raise errors.tool_install_failed("Poetry", self.version)
        bundled_pip.write_launcher(root / "bin" / "poetry", "../venv/bin/poetry")
        (root / "installed").write_text(stamp)

    def environment(self, context: InstallContext) -> ToolEnvironment:
        return ToolEnvironment(
            path=(str(self._root(context) / "bin"),),
            build={
                "POETRY_VIRTUALENVS_CREATE": "false",
                "POETRY_VIRTUALENVS_USE_POETRY_PYTHON": "false",
            },
        )

    def install_dependencies(self, context: InstallContext) -> None:
        groups = [] if context.install_test else ["--only", "main"]
        shown = " ".join(["poetry", "sync", *groups])
        output.step(f"Installing dependencies using '{shown}'")
        env = {**context.env, **bundled_pip.pip_settings(context.config),
               **context.config.matching(INDEX_SETTINGS), "POETRY_CACHE_DIR": str(context.cache.root / "poetry-cache")}
        result = run_streamed(
            ["poetry", "sync", *groups, "--no-interaction", "--no-ansi", "--compile"],
            env, cwd=context.build_dir,
            line_filter=lambda line: None if "Skipping virtualenv creation" in line else line,
        )
        if not result.ok:
            raise self.install_failed(result, shown)


def _python_id(context: InstallContext) -> str:
    """The runtime's stdlib directory name, such as python3.12."""
    stdlib = sorted(context.location.install_dir.glob("lib/python3*/os.py"))
    return stdlib[0].parent.name if stdlib else "unknown"


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
