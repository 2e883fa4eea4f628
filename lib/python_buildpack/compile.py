"""bin/compile: build the app in BUILD_DIR, in the order the build log shows.

Each step is a function below; compile_app reads like the build log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from . import checks, errors, output, package_manager, pip, python_runtime, python_version, runtime_env
from .cache import BuildCache, CacheKey
from .config_vars import BuildConfig
from .download import Timeouts, shown
from .python_version import RequestedVersion
from .runtime_env import PythonLocation
from .runtime_mirror import Manifest, Mirror, mirror_from
from .stack import Stack, current_stack


@dataclass(frozen=True)
class BuildDirs:
    build: Path
    cache: Path
    env: Path
    buildpack: Path


@dataclass(frozen=True)
class PythonChoice:
    """The Python version to install, and where it comes from."""

    requested: RequestedVersion
    version: str
    mirror: Mirror
    manifest: Optional[Manifest]


def compile_app(dirs: BuildDirs) -> None:
    environ = dict(os.environ)
    stack = current_stack(environ)
    config = BuildConfig(dirs.env, environ)
    timeouts = Timeouts.from_config(config)
    cache = BuildCache(dirs.cache)

    checks.no_existing_python_dir(dirs.build)
    manager = package_manager.detect(dirs.build)
    python = choose_python(dirs.build, stack, config, cache, timeouts)

    pip_version = package_manager.pinned_version("pip")
    requirements = pip.inspect_requirements(dirs.build)
    key = CacheKey(
        stack=stack.name,
        arch=stack.arch,
        python_version=python.version,
        package_manager=manager.name,
        package_manager_version=pip_version,
        dependencies=requirements.fingerprint,
    )
    location = runtime_env.link_app_dir(dirs.build)
    if location.link_problem:
        output.warning(errors.app_symlink_warning(location.link_problem))
    env = runtime_env.build_env(location, environ)
    reused = install_python(location, stack, python, cache, key, env, timeouts)

    settings = pip.index_settings(config)
    pip.install_pip(location, pip_version, env, settings, cache.pip_dir)
    if reused and requirements.reinstall_reason is None:
        output.step("Skipping dependency install: requirements.txt and the cached install are unchanged")
    else:
        if reused:
            output.info(f"The install runs again since {requirements.reinstall_reason}.")
        pip.install_dependencies(location, dirs.build, env, settings, cache.pip_dir)

    write_environment(dirs, location)
    problem = cache.save(key, location.install_dir)
    if problem:
        output.warning(errors.cache_save_warning(problem))


def choose_python(
    build_dir: Path, stack: Stack, config: BuildConfig, cache: BuildCache, timeouts: Timeouts
) -> PythonChoice:
    """What the app asks for, then the exact release to install."""
    versions = python_version.load_versions()
    requested = python_version.read_requested_version(build_dir, versions, cache.cached_python_version())
    output.step(python_version.describe_choice(requested))
    python_version.check_supported(requested, versions)

    mirror = mirror_from(config.get("PYTHON_RUNTIME_BASE_URL"))
    if not mirror.is_default:
        output.info(f"Using the Python runtime mirror {shown(mirror.base_url)}")
    try:
        manifest = python_runtime.fetch_manifest(mirror, timeouts)
    except errors.DownloadFailed as failure:
        # An unreachable mirror needn't stop a build the cache can serve.
        cached = _cached_version_for(requested, cache)
        if cached is None:
            raise
        output.warning(errors.mirror_unreachable_warning(failure.url, failure.cause, cached))
        return PythonChoice(requested, cached, mirror, None)

    available = manifest.versions_for(stack) if manifest else None
    version = python_version.resolve(requested, versions, available)
    python_runtime.check_available(requested.text, version, requested.origin, stack, mirror, manifest)
    for warning in python_version.warnings_for(requested, version, versions):
        output.warning(warning)
    return PythonChoice(requested, version, mirror, manifest)


def install_python(
    location: PythonLocation,
    stack: Stack,
    python: PythonChoice,
    cache: BuildCache,
    key: CacheKey,
    env: Mapping[str, str],
    timeouts: Timeouts,
) -> bool:
    """Restore the cached install or download Python; True if restored."""
    reused = cache.restore(key, location.install_dir)
    if reused and not python_runtime.python_works(location.home, dict(env)):
        cache.discard_restored(location.install_dir, "The cached Python install doesn't run")
        reused = False
    if reused:
        output.step(f"Using cached install of Python {python.version}")
        return True
    output.step(f"Installing Python {python.version}")
    python_runtime.install(
        location.install_dir, python.requested.text, python.version, python.requested.origin,
        stack, python.mirror, python.manifest, timeouts,
    )
    return False


def write_environment(dirs: BuildDirs, location: PythonLocation) -> None:
    """The app's environment at run time and for later buildpacks."""
    if location.link_problem:
        runtime_env.rewrite_script_paths(location)
    runtime_env.write_profile_script(dirs.build)
    problem = runtime_env.write_export(dirs.buildpack, location)
    if problem:
        output.warning(errors.export_not_writable_warning(str(dirs.buildpack / "export"), problem))


def _cached_version_for(requested: RequestedVersion, cache: BuildCache) -> Optional[str]:
    """The cached install's version, if it satisfies the request."""
    key = cache.read_key()
    if key is None or not cache.python_dir.is_dir():
        return None
    cached = key.python_version
    matches = cached == requested.text if requested.is_exact else cached.rsplit(".", 1)[0] == requested.major
    return cached if matches else None
