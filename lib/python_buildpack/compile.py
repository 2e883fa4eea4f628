"""bin/compile: build the app in BUILD_DIR, in the order the build log shows.

Each step is a function below; compile_app reads like the build log.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Optional

from . import (
    checks, django, editables, errors, hooks, nltk, output, package_manager, pipenv, python_runtime, python_version,
    release, runtime_env,
)
from .cache import BuildCache, CacheKey, Restored
from .package_manager import Dependencies, InstallContext, PackageManager, ToolEnvironment
from .config_vars import BuildConfig
from .download import Timeouts
from .urls import shown
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


def compile_app(dirs: BuildDirs, install_test: bool = False) -> None:
    """The build. `install_test` (bin/test-compile, Heroku CI) adds the test
    dependencies and leaves out collectstatic."""
    environ = dict(os.environ)
    stack = current_stack(environ)
    checks.not_run_twice(dirs.build, environ)
    config = BuildConfig(dirs.env, environ)
    checks.tool_settings_honoured(config)
    timeouts = Timeouts.from_config(config)
    cache = BuildCache(dirs.cache)
    hook_dirs = {"BUILD_DIR": dirs.build, "CACHE_DIR": dirs.cache, "ENV_DIR": dirs.env}
    app_config = hooks.app_config(config)

    hooks.run_hook("pre_compile", dirs.build, hooks.app_environment(runtime_env.clean_env(environ), app_config, hook_dirs))
    checks.no_existing_python_dir(dirs.build)
    manager = package_manager.detect(dirs.build)
    output.step(f"Using the {manager.label} package manager ({manager.file_name})")
    checks.no_committed_venv(dirs.build)
    python = choose_python(dirs.build, stack, config, cache, timeouts, manager)

    dependencies = manager.dependencies(dirs.build)
    if install_test:
        dependencies = Dependencies(
            package_manager.file_fingerprint(dirs.build / "requirements-test.txt") + dependencies.fingerprint,
            dependencies.reinstall_reason,
        )
    key = CacheKey(
        stack=stack.name,
        arch=stack.arch,
        python_version=python.version,
        package_manager=manager.name,
        package_manager_version=manager.version,
        dependencies=dependencies.fingerprint,
    )
    location = runtime_env.link_app_dir(dirs.build)
    if location.link_problem:
        output.warning(errors.app_symlink_warning(location.link_problem))
    env = runtime_env.build_env(location, environ)
    restored = install_python(location, stack, python, cache, key, env, timeouts, manager)

    context = InstallContext(location, dirs.build, env, config, cache, install_test)
    manager.install_tool(context)
    tool_env = manager.environment(context)
    env["PATH"] = os.pathsep.join([*tool_env.path, env["PATH"]])
    env.update(tool_env.build)
    if restored.dependencies_unchanged and dependencies.reinstall_reason is None:
        output.step(f"Skipping dependency install: {manager.file_name} and the cached install are unchanged")
    else:
        if restored.dependencies_unchanged:
            output.info(f"The install runs again since {dependencies.reinstall_reason}.")
        manager.install_dependencies(context)
    app_env = hooks.app_environment(env, app_config, hook_dirs)
    if nltk.download_corpora(location, dirs.build, app_env):
        tool_env = tool_env.with_nltk_data(location)
    if install_test:
        output.step("Skipping Django collectstatic for the test build")
    else:
        django.collectstatic(location, dirs.build, config, app_env)

    write_environment(dirs, location, tool_env)
    release.note_process_types(dirs.build)
    hooks.run_hook("post_compile", dirs.build, app_env)
    warning = cache.save(key, location.install_dir)
    if warning:
        output.warning(warning)


def choose_python(
    build_dir: Path, stack: Stack, config: BuildConfig, cache: BuildCache, timeouts: Timeouts,
    manager: PackageManager,
) -> PythonChoice:
    """What the app asks for, then the exact release to install."""
    versions = python_version.load_versions()
    ranges = manager.python_ranges(build_dir)
    sticky = cache.sticky_python_version()
    requested = python_version.read_requested_version(
        build_dir, versions, sticky.version if sticky else None,
        pipfile_lock_reader=pipenv.python_version_from_lock if manager.name == "pipenv" else None,
        ranges=ranges,
    )
    if sticky and sticky.from_classic_buildpack and requested.origin == python_version.ORIGIN_CACHED:
        requested = replace(requested, detail=python_version.CLASSIC_BUILDPACK)
    output.step(python_version.describe_choice(requested))
    python_version.check_supported(requested, versions)
    if manager.name == "uv" and requested.origin != python_version.ORIGIN_VERSION_FILE:
        raise errors.uv_needs_python_version_file(requested.origin, requested.major)

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
        if manager.enforces_python_range:
            python_version.check_ranges(requested, cached, ranges, manager.lock_command)
        return PythonChoice(requested, cached, mirror, None)

    available = manifest.versions_for(stack) if manifest else None
    version = python_version.resolve(requested, versions, available)
    python_runtime.check_available(requested.text, version, requested.origin, stack, mirror, manifest)
    if manager.enforces_python_range:
        python_version.check_ranges(requested, version, ranges, manager.lock_command)
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
    manager: PackageManager,
) -> Restored:
    """Restore the cached install or download Python."""
    dependency_file = manager.file_name if manager.discard_cache_on_change else None
    restored = cache.restore(key, location.install_dir, dependency_file)
    if restored.reused and not python_runtime.python_works(location.home, dict(env)):
        cache.discard_restored(location.install_dir, "The cached Python install doesn't run")
        restored = Restored(False)
    if restored.reused:
        output.step(f"Using cached install of Python {python.version}")
        return restored
    output.step(f"Installing Python {python.version}")
    python_runtime.install(
        location.install_dir, python.requested.text, python.version, python.requested.origin,
        stack, python.mirror, python.manifest, timeouts,
    )
    return restored


def write_environment(dirs: BuildDirs, location: PythonLocation, tool_env: ToolEnvironment) -> None:
    """The app's environment at run time and for later buildpacks."""
    if location.link_problem:
        runtime_env.rewrite_script_paths(location)
    editables.point_at_app_python(location)
    runtime_env.write_profile_script(
        dirs.build, tool_env.runtime_path, tool_env.runtime,
        extra=editables.runtime_fix(dirs.build, location.install_dir),
    )
    problem = runtime_env.write_export(dirs.buildpack, location, tool_env.path, tool_env.build)
    if problem:
        output.warning(errors.export_not_writable_warning(str(dirs.buildpack / "export"), problem))


def _cached_version_for(requested: RequestedVersion, cache: BuildCache) -> Optional[str]:
    """The cached install's version, if it satisfies the request."""
    key = cache.read_key()
    if key is None or not cache.has_install():
        return None
    cached = key.python_version
    matches = cached == requested.text if requested.is_exact else cached.rsplit(".", 1)[0] == requested.major
    return cached if matches else None
