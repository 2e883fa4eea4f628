"""bin/compile: build the app in BUILD_DIR, in the order the build log shows.

Each step is a function below or in the module named; compile_app reads like
the build log, and times each step for the build report (report.py).
"""

from __future__ import annotations

import os
from typing import Optional

from . import (
    app_dir, checks, django, editables, environment, errors, hooks, managers, nltk, output, python_choice,
    python_runtime, release, sbom, uv,
)
from .build import Build, BuildDirs
from .cache import BuildCache, CacheKey, Restored, RuntimeKey
from .config_vars import BuildConfig
from .download import Timeouts
from .environment import Variable
from .install_base import InstallBase
from .package_manager import InstallContext, PackageManager
from .python_location import PythonLocation, clean_env, link_app_dir, rewrite_script_paths
from .python_runtime import PythonChoice
from .report import BuildReport
from .stack import current_stack


def run(dirs: BuildDirs, install_test: bool = False) -> None:
    """bin/compile and bin/test-compile: the build, and its report whatever happens."""
    report = BuildReport(dirs.build, dirs.cache)
    try:
        compile_app(start_build(dirs, report, install_test))
    except errors.BuildError as error:
        report.finish(error.id, error.detail)
        raise
    except KeyboardInterrupt:
        report.finish(errors.INTERRUPTED_ID)
        raise
    except Exception as error:
        # The type only: an exception's text may quote anything (a URL, a value).
        report.finish(errors.INTERNAL_ERROR_ID, type(error).__name__)
        raise
    report.finish()


def start_build(dirs: BuildDirs, report: BuildReport, install_test: bool = False) -> Build:
    """What the build knows before it touches the app: the stack (an
    unsupported one ends the build here) and the settings."""
    environ = dict(os.environ)
    stack = current_stack(environ)
    report.record(stack=stack.name, arch=stack.arch)
    checks.not_run_twice(dirs.build, environ)
    config = BuildConfig(dirs.env, environ)
    checks.tool_settings_honoured(config)
    app = app_dir.from_config(dirs.build, config)
    report.record(app_dir=app.relative)
    return Build(dirs, stack, config, BuildCache(dirs.cache), Timeouts.from_config(config), environ, report,
                 install_test, app.relative)


def compile_app(build: Build) -> None:
    """The build. bin/test-compile (Heroku CI) adds the test dependencies and
    leaves out collectstatic."""
    report = build.report
    app_dir.announce(build.app)
    app_config = hooks.app_config(build.config)
    with report.step("pre_compile"):
        hook_env = hooks.app_environment(clean_env(build.environ), app_config, build.dirs.for_hooks)
        hooks.run_hook("pre_compile", build.app_dir, hook_env)
    checks.no_existing_python_dir(build.dirs.build)
    manager = managers.detect(build.app_dir)
    output.step(f"Using the {manager.label} package manager ({manager.file_name})")
    report.record(package_manager={"name": manager.name, "version": manager.version})
    checks.no_committed_venv(build.app_dir)

    with report.step("python_version"):
        python = python_choice.choose(build, manager)
    report.record(python={"version": python.version, "requested": python.requested.text,
                          "origin": python.requested.origin})
    location = link_python(build)
    dependencies, reinstall_reason = manager.dependencies_key(build)
    report.record(package_manager={**report.data["package_manager"], "installer": dependencies.installer})
    key = CacheKey(RuntimeKey(build.stack.name, build.stack.arch, python.version), dependencies)
    context = InstallContext(build, location, environment.build_env(location, build.environ), python.version)
    manager.prefetch_tool(context)  # downloads beside Python's
    with report.step("python"):
        restored = restore_cache(context, manager, key, reinstall_reason)
        restored = install_python(context, python, restored)
    context.install_kept = nothing_to_install(restored, reinstall_reason)

    with report.step("package_manager"):
        manager.install_tool(context)
    # What a later dependency change resets the install to (install_base.py):
    # recorded before the first dependency goes in.
    base = restored.base if restored.reused else InstallBase.record(location.install_dir)
    tool_environment = manager.environment(context)
    context.env = environment.build_env(location, build.environ, tool_environment)
    with report.step("dependencies"):
        install_dependencies(context, manager, restored, reinstall_reason)

    app_env = hooks.app_environment(context.env, app_config, build.dirs.for_hooks)
    with report.step("nltk"):
        if nltk.download_corpora(location, build.app_dir, app_env):
            tool_environment += (Variable.everywhere("NLTK_DATA", "{home}/nltk_data", environment.FORCED),)
    build.cache.start_save(location.install_dir)  # beside collectstatic, if not started yet
    with report.step("collectstatic"):
        if build.install_test:
            output.step("Skipping Django collectstatic for the test build")
        else:
            django.collectstatic(location, build.app_dir, build.config, app_env)

    write_environment(build, location, tool_environment)
    release.note_process_types(build.dirs.build, build.app_path)
    with report.step("post_compile"):
        hooks.run_hook("post_compile", build.app_dir, app_env)
    # After the hook, which may install packages too.
    with report.step("sbom"):
        sbom.write(context, manager)
    with report.step("cache_save"):
        warning = build.cache.save(key, location.install_dir, base)
    report.record(cache_saved=build.cache.saved_by)
    if warning:
        output.warning(warning)


def link_python(build: Build) -> PythonLocation:
    """Make /app/.heroku/python lead to the build's install (python_location.py)."""
    location = link_app_dir(build.dirs.build)
    if location.link_problem:
        output.warning(errors.app_symlink_warning(location.link_problem))
    return location


def restore_cache(
    context: InstallContext, manager: PackageManager, key: CacheKey, reinstall_reason: Optional[str],
) -> Restored:
    """The cached install, and what can start beside the rest of the build."""
    build, location = context.build, context.location
    restored = build.cache.restore(key, location.install_dir, managers.unused_cache_dirs(manager))
    if nothing_to_install(restored, reinstall_reason):
        # The install is already what this build leaves: its copy into
        # the cache starts now, beside the steps that follow (cache.py).
        build.cache.start_save(location.install_dir)
    elif not restored.reused:
        # Nothing restored, all to install: uv (if it is being fetched)
        # downloads the tool while the runtime unpacks.
        uv.warm_up(context, manager.packages_to_prefetch(build))
    return restored


def install_python(context: InstallContext, python: PythonChoice, restored: Restored) -> Restored:
    """Use the restored install if its Python runs, else download Python."""
    build, location = context.build, context.location
    if restored.reused and not python_runtime.python_works(location.home, dict(context.env)):
        why = "The cached Python install doesn't run"
        build.cache.discard_restored(location.install_dir, why)
        restored = Restored.discarded([why])
    build.report.record(cache={"status": restored.status, "reasons": list(restored.reasons),
                               "dependencies_reinstalled_because": list(restored.reset_reasons)})
    if restored.reused:
        output.step(f"Using cached install of Python {python.version}")
        return restored
    output.step(f"Installing Python {python.version}")
    python_runtime.install(location.install_dir, python, build.stack, build.timeouts)
    return restored


def install_dependencies(
    context: InstallContext, manager: PackageManager, restored: Restored, reinstall_reason: Optional[str],
) -> None:
    """Install the dependencies, unless the restored install has them already."""
    skipped = nothing_to_install(restored, reinstall_reason)
    context.build.report.record(dependencies_install_skipped=skipped)
    if skipped:
        output.step(f"Skipping dependency install: {manager.file_name} and the cached install are unchanged")
        return
    if restored.dependencies_unchanged:
        output.info(f"The install runs again since {reinstall_reason}.")
    manager.install_dependencies(context)
    if restored.kept_bytecode:
        restored.kept_bytecode.tidy()


def nothing_to_install(restored: Restored, reinstall_reason: Optional[str]) -> bool:
    """Whether the restored install has the dependencies already (and the
    package manager has no reason to run again)."""
    return restored.dependencies_unchanged and reinstall_reason is None


def write_environment(build: Build, location: PythonLocation, tool_environment: tuple[Variable, ...]) -> None:
    """The app's environment at run time and for later buildpacks, and
    where the app is, for bin/release and bin/test."""
    dirs = build.dirs
    if location.link_problem:
        rewrite_script_paths(location)
    editables.point_at_app_python(location)
    environment.write_profile_scripts(
        dirs.build, tool_environment, more=editables.runtime_fix(dirs.build, location.install_dir),
        app_path=build.app_path)
    app_dir.record(build.app)
    problem = environment.write_export(dirs.buildpack, location, tool_environment)
    if problem:
        output.warning(errors.export_not_writable_warning(str(dirs.buildpack / "export"), problem))
