"""Poetry: `poetry sync --only main` from poetry.lock into the app's Python.

Poetry lives in a virtual environment in the build cache, not in the slug;
the app's dependencies go into .heroku/python itself (no virtualenv of
Poetry's own), without the dev groups.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from . import output, pyproject, python_range, uv
from .commands import run_streamed
from .environment import PREPEND, Variable
from .package_manager import InstallContext, LockfileSync, files_table
from .python_range import PythonRange

INDEX_SETTINGS = r"POETRY_(HTTP_BASIC_.+_(USERNAME|PASSWORD)|REPOSITORIES_.+|PYPI_TOKEN_.+|CERTIFICATES_.+)"
TOOL_DIR = "poetry"
DOWNLOAD_CACHE = "poetry-cache"


class Poetry(LockfileSync):
    name = "poetry"
    label = "Poetry"
    file_name = "poetry.lock"
    pyproject_markers = ("[tool.poetry",)
    # Poetry itself is installed with uv.
    cache_dirs = (TOOL_DIR, DOWNLOAD_CACHE, uv.TOOL_DIR, uv.DOWNLOAD_CACHE)
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

    def prefetch_tool(self, context: InstallContext) -> None:
        uv.prefetch(context)  # which installs the tool, when the cache hasn't got it

    def package_files(self, package: dict[str, Any]) -> list[tuple[str, str]]:
        return files_table(package)

    def tool_requirement(self) -> str:
        return f"poetry=={self.version}"

    def install_tool(self, context: InstallContext) -> None:
        uv.install_cached_tool(context, TOOL_DIR, self.label, self.version, self.tool_requirement())

    def environment(self, context: InstallContext) -> tuple[Variable, ...]:
        # Poetry stays out of the slug: for the build and later buildpacks only.
        return (
            Variable.in_build("PATH", str(context.build.cache.tool_dir(TOOL_DIR) / "bin"), PREPEND),
            # Into the app's Python itself, not a virtualenv of Poetry's.
            Variable.in_build("POETRY_VIRTUALENVS_CREATE", "false"),
            Variable.in_build("POETRY_VIRTUALENVS_USE_POETRY_PYTHON", "false"),
        )

    def install_dependencies(self, context: InstallContext) -> None:
        groups = [] if context.install_test else ["--only", "main"]
        shown = " ".join(["poetry", "sync", *groups])
        output.step(f"Installing dependencies using '{shown}'")
        env = {**context.env, **context.pip_settings, **context.build.config.matching(INDEX_SETTINGS),
               "POETRY_CACHE_DIR": str(context.build.cache.download_cache(DOWNLOAD_CACHE))}
        result = run_streamed(
            ["poetry", "sync", *groups, "--no-interaction", "--no-ansi", "--compile"],
            env, cwd=context.build_dir,
            # Poetry says so on every run, though it is what the buildpack asked for.
            line_filter=lambda line: None if "Skipping virtualenv creation" in line else line,
        )
        if not result.ok:
            raise self.install_failed(result, shown)
