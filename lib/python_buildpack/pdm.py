"""PDM: `pdm sync --prod` from pdm.lock into the app's Python.

PDM lives in a virtual environment in the build cache, not in the slug
(like Poetry), with the versions of its dependencies its release was tested
with (its `locked` extra): a new release of one of them (httpx, hishel)
can't break the build.

The app's dependencies go into .heroku/python itself. A PDM project
installs into a virtualenv, or into __pypackages__ when told not to use one;
PDM's global mode (`-g -p <app>`) installs into the interpreter's own
site-packages, which is what the buildpack needs: so every PDM run is global,
on the app's Python (PDM_PYTHON), for the app's project. `pdm lock --check`
runs first, as `pdm sync` would only warn about an out-of-date lockfile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from . import errors, output, pyproject, uv
from .commands import run_streamed
from .config_vars import PROTECTED_NAMES, tool_setting
from .environment import PREPEND, Variable
from .package_manager import InstallContext, LockfileSync, files_table
from .python_range import PythonRange

INDEX_SETTINGS = r"PDM_PYPI_(URL|USERNAME|PASSWORD|VERIFY_SSL|JSON_API)|PDM_IGNORE_STORED_INDEX"
TOOL_DIR = "pdm"
DOWNLOAD_CACHE = "pdm-cache"
# The project's own PDM settings (the second is the name older PDMs wrote).
PROJECT_CONFIG_FILES = ("pdm.toml", ".pdm.toml")


class Pdm(LockfileSync):
    name = "pdm"
    label = "PDM"
    file_name = "pdm.lock"
    pyproject_markers = ("[tool.pdm",)
    # PDM itself is installed with uv.
    cache_dirs = (TOOL_DIR, DOWNLOAD_CACHE, uv.TOOL_DIR, uv.DOWNLOAD_CACHE)
    # What `pdm lock --check` says (PDM's check_lockfile) about a lockfile
    # that doesn't match pyproject.toml, or that this PDM can't read.
    outdated_markers = ("Lockfile doesn't satisfy the project requirements", "Lockfile is not compatible with PDM")
    lock_command = "pdm lock"
    # pdm.lock's keys for a package from a local path (editable or not), a
    # local file, or version control.
    local_source_markers = ('\npath = "', '\nurl = "file:', '\ngit = "', '\nhg = "', '\nsvn = "', '\nbzr = "')
    enforces_python_range = True

    def python_ranges(self, build_dir: Path) -> tuple[PythonRange, ...]:
        """requires-python (PEP 440): PDM looks for another Python than the
        one it was given when that one doesn't satisfy it."""
        return pyproject.requires_python_range(build_dir)

    def installs_project_itself(self, build_dir: Path) -> Optional[str]:
        project = pyproject.read(build_dir)
        if project is not None and project.pdm_distribution:
            return "PDM installs the project itself (it is a distribution)"
        return None

    def prefetch_tool(self, context: InstallContext) -> None:
        uv.prefetch(context)  # which installs PDM, when the cache hasn't got it

    def package_files(self, package: dict[str, Any]) -> list[tuple[str, str]]:
        return files_table(package)

    def tool_requirement(self) -> str:
        return f"pdm[locked]=={self.version}"

    def install_tool(self, context: InstallContext) -> None:
        uv.install_cached_tool(context, TOOL_DIR, self.label, self.version, self.tool_requirement())

    def environment(self, context: InstallContext) -> tuple[Variable, ...]:
        # PDM stays out of the slug: for the build and later buildpacks only.
        return (
            Variable.in_build("PATH", str(context.build.cache.tool_dir(TOOL_DIR) / "bin"), PREPEND),
            # The app's Python, whatever .pdm-python or .python-version say.
            Variable.in_build("PDM_PYTHON", "{home}/bin/python"),
            Variable.in_build("PDM_CHECK_UPDATE", "false"),
        )

    def install_dependencies(self, context: InstallContext) -> None:
        build_dir = context.build_dir
        check_project_config(build_dir)
        groups = [] if context.install_test else ["--prod"]
        shown = " ".join(["pdm", "sync", *groups])
        output.step(f"Installing dependencies using '{shown}'")
        env = install_environment(context)
        project = ["--global", "--project", str(build_dir)]
        checked = run_streamed(["pdm", "lock", "--check", *project], env, cwd=build_dir, quiet=True)
        if not checked.ok:
            raise self.install_failed(checked, "pdm lock --check")
        result = run_streamed(
            # --only-keep: what the lockfile's other groups hold goes too (a
            # test build's dev groups), as with Poetry and uv. --no-editable:
            # the project itself and path dependencies are installed as they
            # are now, naming no path into the build directory.
            ["pdm", "sync", *project, *groups, "--only-keep", "--no-editable"],
            env, cwd=build_dir,
        )
        if not result.ok:
            raise self.install_failed(result, shown)
        compile_bytecode(context)


def install_environment(context: InstallContext) -> dict[str, str]:
    """The environment of the build's PDM runs: the app's index settings,
    PDM's caches in the build cache, and nothing that would install
    elsewhere or with another installer."""
    build = context.build
    project = pyproject.read(context.build_dir)
    variables = project.pdm_source_variables if project else ()
    return {
        **context.env, **build.config.matching(INDEX_SETTINGS),
        # Config vars a source's URL names (its credentials): Heroku passes
        # config vars to the build only in ENV_DIR.
        **{name: value for name in variables if usable_variable(name) and (value := build.config.get(name))},
        "PDM_CACHE_DIR": str(build.cache.download_cache(DOWNLOAD_CACHE)),
        # The debug log of a failed run: beside PDM, not in the app's HOME.
        "PDM_LOG_DIR": str(build.cache.tool_dir(TOOL_DIR) / "logs"),
        # PDM's uv mode installs only into a virtualenv.
        "PDM_USE_UV": "false",
        "PDM_NON_INTERACTIVE": "1",
    }


def usable_variable(name: str) -> bool:
    """Whether a config var a source URL names may reach PDM: not one that
    would break the build's own tools or install elsewhere."""
    return name not in PROTECTED_NAMES and tool_setting(name) is None and not name.startswith(("PYTHON", "PDM_"))


def check_project_config(build_dir: Path) -> None:
    """Refuse PDM's install cache, which no environment variable can turn
    off: PDM would link the installed packages to its cache, in the build
    cache, and the app would find none of them at run time."""
    found: Optional[tuple[str, Any]] = None
    for name in PROJECT_CONFIG_FILES:  # the later file wins, as in PDM
        path = build_dir / name
        if not path.is_file():
            continue
        try:
            install = pyproject.read_toml(path).get("install")
        except ValueError:  # not TOML
            continue  # PDM's own error says what is wrong with it
        if isinstance(install, dict) and "cache" in install:
            found = (name, install["cache"])
    if found is not None and _enabled(found[1]):
        raise errors.pdm_install_cache(found[0])


def _enabled(value: Any) -> bool:
    """A boolean setting's value as PDM reads it (config.ensure_boolean)."""
    if isinstance(value, str):
        return bool(value) and value.lower() not in ("false", "no", "0")
    return bool(value)


def compile_bytecode(context: InstallContext) -> None:
    """Compile what PDM installed, as pip, uv and Poetry do when they
    install: the app then starts without writing .pyc files."""
    location = context.location
    for site_packages in sorted(location.install_dir.glob("lib/python3*/site-packages")):
        # Through the build's path (/app/...), the one the app runs from.
        target = location.home / site_packages.relative_to(location.install_dir)
        # Whatever fails to compile (a package's deliberately broken test
        # file) is left for Python to ignore, as pip does.
        run_streamed([str(location.python), "-m", "compileall", "-qq", str(target)], context.env, quiet=True)
