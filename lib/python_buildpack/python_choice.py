"""Which Python the build installs: what the app asks for (python_version.py),
checked against the package manager's rules, resolved to an exact release
the runtime mirror has."""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

from . import errors, output, python_runtime, python_version
from .build import Build
from .cache import BuildCache
from .package_manager import PackageManager
from .python_runtime import PythonChoice
from .python_version import RequestedVersion
from .runtime_mirror import mirror_from
from .urls import shown


def choose(build: Build, manager: PackageManager) -> PythonChoice:
    """What the app asks for, then the exact release to install."""
    versions = python_version.load_versions()
    sources = manager.version_sources(build.app_dir)
    sticky = build.cache.sticky_python_version()
    requested = python_version.read_requested_version(
        build.app_dir, versions, sticky.version if sticky else None, sources)
    if sticky and sticky.from_classic_buildpack and requested.origin == python_version.ORIGIN_CACHED:
        requested = replace(requested, detail=python_version.CLASSIC_BUILDPACK)
    output.step(python_version.describe_choice(requested))
    python_version.check_supported(requested, versions)
    manager.check_requested_python(requested)

    mirror = mirror_from(build.config.get("PYTHON_RUNTIME_BASE_URL"))
    if not mirror.is_default:
        output.info(f"Using the Python runtime mirror {shown(mirror.base_url)}")
    try:
        manifest = python_runtime.fetch_manifest(mirror, build.timeouts)
    except errors.DownloadFailed as failure:
        # An unreachable mirror needn't stop a build the cache can serve.
        cached = cached_version_for(requested, build.cache)
        if cached is None:
            raise
        output.warning(errors.mirror_unreachable_warning(failure.url, failure.cause, cached))
        manager.check_python(requested, cached, sources)
        return PythonChoice(requested, cached, mirror, None)

    available = manifest.versions_for(build.stack) if manifest else None
    version = python_version.resolve(requested, versions, available)
    python_runtime.check_available(requested, version, build.stack, mirror, manifest)
    manager.check_python(requested, version, sources)
    for warning in python_version.warnings_for(requested, version, versions):
        output.warning(warning)
    return PythonChoice(requested, version, mirror, manifest)


def cached_version_for(requested: RequestedVersion, cache: BuildCache) -> Optional[str]:
    """The cached install's version, if it satisfies the request."""
    key = cache.read_key()
    if key is None or not cache.has_install():
        return None
    cached = key.runtime.python_version
    matches = cached == requested.text if requested.is_exact else cached.rsplit(".", 1)[0] == requested.major
    return cached if matches else None
