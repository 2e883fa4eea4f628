"""Poetry: `poetry sync --only main` from poetry.lock into the app's Python.

Poetry lives in a virtual environment in the build cache, not in the slug;
the app's dependencies go into .heroku/python itself (no virtualenv of
Poetry's own), without the dev groups.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from . import bundled_pip, output, pyproject, python_range, uv
from .commands import run_streamed
from .environment import PREPEND, Variable
from .package_manager import InstallContext, LockfileSync, file_entry
from .python_range import PythonRange
from .tool_layer import ToolLayer

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
        """files = [{file = "flask-3.1.3-py3-none-any.whl", hash = "sha256:..."}, ...]"""
        files = package.get("files")
        found = [file_entry(entry, ("file",)) for entry in files] if isinstance(files, list) else []
        return [each for each in found if each]

    def install_tool(self, context: InstallContext) -> None:
        root = context.build.cache.tool_dir(TOOL_DIR)
        layer = ToolLayer(
            self.name, self.label, self.version, root, site_packages="venv/lib/python3*/site-packages",
            # Its venv runs on the app's Python, so it is only reused with it.
            runs_on=f"{context.location.home} {_python_id(context)}",
        )
        layer.ensure(lambda: uv.install_in_venv(context, root / "venv", f"poetry=={self.version}").ok)
        bundled_pip.write_launcher(root / "bin" / "poetry", "../venv/bin/poetry")

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


def _python_id(context: InstallContext) -> str:
    """The runtime's stdlib directory name, such as python3.12."""
    stdlib = sorted(context.location.install_dir.glob("lib/python3*/os.py"))
    return stdlib[0].parent.name if stdlib else "unknown"
