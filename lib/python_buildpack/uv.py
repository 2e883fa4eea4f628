"""uv: `uv sync --locked` from uv.lock into the app's Python.

uv (installed from the package index: its wheel holds the binary) lives in
the build cache, not in the slug. It installs into .heroku/python itself,
without the dev and other default groups, and never downloads a Python of
its own.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

from . import bundled_pip, errors, output, pip_config, pyproject, python_version, uv_download
from .build import Build
from .commands import CommandResult, run_streamed
from .download import Timeouts
from .environment import PREPEND, Variable
from .package_manager import InstallContext, LockfileSync, file_entry
from .python_range import PythonRange
from .python_version import RequestedVersion
from .tool_layer import ToolLayer
from .tool_versions import pinned_version

INDEX_SETTINGS = r"UV_(INDEX|DEFAULT_INDEX|INDEX_URL|EXTRA_INDEX_URL|INDEX_STRATEGY|KEYRING_PROVIDER|INDEX_.+_(USERNAME|PASSWORD)|NATIVE_TLS|INSECURE_HOST)"
TOOL_DIR = "uv"
DOWNLOAD_CACHE = "uv-cache"


class Uv(LockfileSync):
    name = "uv"
    label = "uv"
    file_name = "uv.lock"
    pyproject_markers = ("[tool.uv", "[dependency-groups]")
    cache_dirs = (TOOL_DIR, DOWNLOAD_CACHE)
    outdated_markers = ("needs to be updated, but `--locked` was provided",)
    lock_command = "uv lock"
    local_source_markers = ("source = { path", "source = { directory", "source = { editable", "source = { git")
    enforces_python_range = True

    def python_ranges(self, build_dir: Path) -> tuple[PythonRange, ...]:
        """requires-python, which uv reads as PEP 440 (it rejects `3.12` or
        `^3.12`), and checks against the Python it syncs into."""
        return pyproject.requires_python_range(build_dir)

    def check_requested_python(self, requested: RequestedVersion) -> None:
        """uv apps name their version in .python-version, as `uv python pin`
        writes it: the classic buildpack requires it too."""
        if requested.origin != python_version.ORIGIN_VERSION_FILE:
            raise errors.uv_needs_python_version_file(requested.origin, requested.major)

    def installs_project_itself(self, build_dir: Path) -> Optional[str]:
        project = pyproject.read(build_dir)
        if project is not None and project.has_build_system:
            return "uv installs the project itself (it has a build system)"
        return None

    def prefetch_tool(self, context: InstallContext) -> None:
        prefetch(context)

    def package_files(self, package: dict[str, Any]) -> list[tuple[str, str]]:
        """sdist = {url = ".../flask-3.1.3.tar.gz", hash = "sha256:..."} and
        wheels = [{url = ..., hash = ...}, ...]; a local file has a path or a
        filename instead of the url."""
        wheels = package.get("wheels")
        entries = [package.get("sdist"), *(wheels if isinstance(wheels, list) else [])]
        found = [file_entry(entry, ("filename", "url", "path")) for entry in entries]
        return [each for each in found if each]

    def install_tool(self, context: InstallContext) -> None:
        ensure_uv(context)

    def environment(self, context: InstallContext) -> tuple[Variable, ...]:
        # uv stays out of the slug: for the build and later buildpacks only.
        return (
            Variable.in_build("PATH", str(ensure_uv(context).parent), PREPEND),
            # Sync into the app's Python itself.
            Variable.in_build("UV_PROJECT_ENVIRONMENT", "{home}"),
            *(Variable.in_build(name, value) for name, value in uv_settings(context).items()),
        )

    def install_dependencies(self, context: InstallContext) -> None:
        groups = [] if context.install_test else ["--no-default-groups"]
        shown = " ".join(["uv", "sync", "--locked", *groups])
        output.step(f"Installing dependencies using '{shown}'")
        env = {**context.env, **context.build.config.matching(INDEX_SETTINGS)}
        result = run_streamed(
            [str(ensure_uv(context)), "sync", "--locked", *groups, "--compile-bytecode", "--no-progress",
             "--color=never"],
            env, cwd=context.build_dir,
        )
        if not result.ok:
            raise self.install_failed(result, shown)


def _layer(build: Build) -> ToolLayer:
    return ToolLayer("uv", "uv", pinned_version("uv"), build.cache.tool_dir(TOOL_DIR), site_packages=".")


def ensure_uv(context: InstallContext) -> Path:
    """uv at its pinned version, in the build cache (never in the slug): the
    installer of uv apps, of requirements.txt (pip.py) and of Pipenv and
    Poetry themselves. Returns the uv binary."""
    layer = _layer(context.build)
    if layer.directory not in _ENSURED:  # once a build: several steps use it
        _ENSURED[layer.directory] = _install(context, layer)
        # Before the build's first uv run, once the warm-up's is over.
        uv_download.remove_stopped_uv_leftovers(context.build.cache.download_cache(DOWNLOAD_CACHE))
    return _ENSURED[layer.directory]


def _install(context: InstallContext, layer: ToolLayer) -> Path:
    root = layer.directory
    download = staged = None
    fetching = _FETCHING.pop(layer.directory, None)
    if not layer.reusable():
        download = fetching.result() if fetching else uv_download.fetch_uv(*_fetch_arguments(context, layer))
        staged = download.unpacked()
        if staged is None:
            output.info(f"uv couldn't be downloaded from the index directly ({download.problem}): "
                        "installing it with pip")
    elif fetching is not None:
        fetching.cancel()  # another build of the app cached uv meanwhile
    # Installed beside the cached uv, then renamed into its place: another
    # build of the app (one CACHE_DIR, two builds at once) may be running the
    # cached uv, and a ToolLayer clears its directory before installing.
    staging = replace(layer, directory=root.with_name(f".uv-installing-{os.getpid()}-{secrets.token_hex(4)}"))
    try:
        if layer.reusable():
            layer.ensure(lambda: True)  # "Using cached uv"
        else:
            if staged is not None:
                staging.ensure(lambda: _adopt(staged, staging.directory))
            else:
                staging.ensure(lambda: _pip_target(context, staging.directory, layer.version))
            _publish(staging.directory, layer)
        return root / "bin" / "uv"
    except errors.BuildError:
        # The cache can't hold uv (a full disk or quota): this build runs it
        # from a temporary directory instead, and the next one tries again.
        temporary = Path(tempfile.mkdtemp(prefix="python-buildpack-uv-"))
        atexit.register(shutil.rmtree, temporary, True)
        output.warning(errors.uv_not_cached_warning(str(root.parent)))
        if not ((staged is not None and staged.is_dir() and _adopt(staged, temporary / "uv"))
                or _pip_target(context, temporary / "uv", layer.version)):
            raise errors.tool_install_failed("uv", layer.version) from None
        return temporary / "uv" / "bin" / "uv"
    finally:
        shutil.rmtree(staging.directory, ignore_errors=True)
        if download is not None:
            download.discard()


def _publish(installed: Path, layer: ToolLayer) -> None:
    """Rename a complete install into the cache. If another build put one
    there meanwhile, theirs is kept; an outdated one is moved aside first."""
    try:
        os.rename(installed, layer.directory)
        return
    except OSError:
        if layer.reusable():
            return
    aside = layer.directory.with_name(f".uv-old-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.rename(layer.directory, aside)
        os.rename(installed, layer.directory)
    except OSError:
        raise errors.tool_install_failed("uv", layer.version) from None
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def _pip_target(context: InstallContext, root: Path, version: str) -> bool:
    # The uv wheel holds a static binary: installed with `pip --target`.
    return bundled_pip.install(context, ["--target", str(root), f"uv=={version}"]).ok \
        and (root / "bin" / "uv").exists()


def _adopt(staged: Path, root: Path) -> bool:
    """Move the downloaded uv into place; False if it can't be (a full disk)."""
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)
        shutil.move(str(staged), str(root))
    except (OSError, shutil.Error):
        shutil.rmtree(root, ignore_errors=True)
        return False
    return (root / "bin" / "uv").is_file()


# The uv binaries this process (one build) has checked or installed.
_ENSURED: dict[Path, Path] = {}
# uv's downloads started early (prefetch).
_FETCHING: dict[Path, uv_download.Fetching] = {}


def prefetch(context: InstallContext) -> None:
    """Start downloading uv (in a child process) if the cache hasn't got it,
    for ensure_uv to take: called while the runtime downloads."""
    layer = _layer(context.build)
    if layer.directory in _ENSURED or layer.directory in _FETCHING or layer.reusable():
        return
    _FETCHING[layer.directory] = uv_download.Fetching.start(*_fetch_arguments(context, layer))


def warm_up(context: InstallContext, installs: list[list[str]]) -> None:
    """Have the child fetching uv (a first build's) download `installs` into
    uv's cache once uv is unpacked, while the runtime still unpacks
    (uv_download.WarmUp): each a `uv pip install` argument list."""
    fetching = _FETCHING.get(_layer(context.build).directory)
    if fetching is None or not installs:
        return
    fetching.warm_up(uv_download.WarmUp(
        installs, context.python_version, env=install_environment(context), cwd=str(context.build_dir),
        limit=min(context.build.timeouts.total, 120.0)))


def _fetch_arguments(context: InstallContext, layer: ToolLayer) -> tuple[str, str, Optional[str], Timeouts]:
    # A failure costs only the time it took: uv is then installed with pip.
    timeouts = replace(context.build.timeouts, total=min(context.build.timeouts.total, 120.0), retries=1)
    return layer.version, context.build.stack.arch, context.pip_settings.get("PIP_INDEX_URL"), timeouts


def uv_settings(context: InstallContext) -> dict[str, str]:
    """How every uv run of the build works: with the build cache's download
    cache, and never with a Python of uv's own."""
    uv_cache = context.build.cache.download_cache(DOWNLOAD_CACHE)
    uv_cache.mkdir(parents=True, exist_ok=True)
    # Hardlinks from the cache save copying, but only within one file system;
    # across two, uv warns "Failed to hardlink files; falling back to full copy".
    # The install's directory, or (before the runtime is unpacked, for the
    # warm-up) the build dir that will hold it.
    install_parent = context.location.install_dir.parent
    if not install_parent.exists():
        install_parent = context.build.dirs.build
    same_fs = os.stat(uv_cache).st_dev == os.stat(install_parent).st_dev
    return {
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_MANAGED_PYTHON": "1",
        "UV_CACHE_DIR": str(uv_cache),
        "UV_LINK_MODE": "hardlink" if same_fs else "copy",
    }


def pip_install(context: InstallContext, python: Path, requirements: list[str]) -> CommandResult:
    """`uv pip install` of a tool (pip, Pipenv, Poetry) into the environment of
    `python`: seconds faster than pip, from the same index settings."""
    uv = ensure_uv(context)
    return run_streamed(
        # --no-config: an app's uv.toml is for its own uv runs ([pip] target
        # would send the install out of the slug).
        [str(uv), "pip", "install", "--no-config", "--python", str(python), "--no-progress", "--color=never",
         "--quiet", *requirements],
        pip_environment(context), quiet=True,
    )


def install_requirements(context: InstallContext, arguments: list[str], env: dict[str, str]) -> CommandResult:
    """`uv pip install <arguments>` of the app's dependencies (pip.py's
    requirements.txt, pipenv_uv.py's Pipfile.lock) into the app's Python."""
    return run_streamed(
        # --no-config: a uv.toml in the app is for its own uv runs, not the
        # buildpack's ([pip] target = ... would install outside the slug).
        [str(ensure_uv(context)), "pip", "install", *arguments, "--no-config",
         "--python", str(context.location.python),
         # Compiled now, as pip does: the app then starts as fast as a pip-built one.
         "--compile-bytecode", "--no-progress", "--color=never"],
        env, cwd=context.build_dir,
    )


def pip_environment(context: InstallContext) -> dict[str, str]:
    """The environment of the build's `uv pip install` runs: uv's settings,
    and the app's pip index config vars as uv's."""
    index = pip_config.as_uv(pip_config.from_variables(context.pip_settings))
    return {**context.env, **uv_settings(context), **index}


def dependencies_environment(context: InstallContext) -> dict[str, str]:
    """The environment of `uv pip install` of the app's dependencies where
    pip would install them (requirements.txt, Pipfile.lock): all of pip's
    settings that uv has equivalents for, as uv's (pip_config.py), the index
    config vars among them."""
    return {**context.env, **uv_settings(context), **pip_config.as_uv(pip_config.for_build(context.build).settings)}


def install_environment(context: InstallContext) -> dict[str, str]:
    """The environment of `uv pip install -r requirements.txt`: the app's
    own uv index config vars too (UV_INDEX_STRATEGY and the like)."""
    return {**dependencies_environment(context), **context.build.config.matching(INDEX_SETTINGS)}


def install_cached_tool(context: InstallContext, name: str, label: str, version: str, requirement: str) -> None:
    """A tool in a venv of its own in the build cache, never in the slug
    (Poetry, PDM), at `version` (`requirement` installs it). `name` is its
    distribution, its script, and its directory in the cache, where
    bin/<name> launches it."""
    root = context.build.cache.tool_dir(name)
    layer = ToolLayer(
        name, label, version, root, site_packages="venv/lib/python3*/site-packages",
        # Its venv runs on the app's Python, so it is only reused with it.
        runs_on=f"{context.location.home} {_python_id(context)}",
    )
    layer.ensure(lambda: install_in_venv(context, root / "venv", requirement).ok)
    bundled_pip.write_launcher(root / "bin" / name, f"../venv/bin/{name}")


def _python_id(context: InstallContext) -> str:
    """The runtime's stdlib directory name, such as python3.12."""
    stdlib = sorted(context.location.install_dir.glob("lib/python3*/os.py"))
    return stdlib[0].parent.name if stdlib else "unknown"


def install_in_venv(context: InstallContext, venv: Path, requirement: str) -> CommandResult:
    """A virtual environment of the app's Python holding one tool (Pipenv,
    Poetry, PDM), made by the app's Python (a venv names the Python it was made
    with, here the /app path: uv would name the build dir's) and filled by uv."""
    created = run_streamed([str(context.location.python), "-m", "venv", "--without-pip", str(venv)],
                           context.env, quiet=True)
    if not created.ok:
        return created
    return pip_install(context, venv / "bin" / "python", [requirement])
