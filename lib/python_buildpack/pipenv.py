"""Pipenv: Pipfile.lock installed into the app's Python, by uv where it can
install the lockfile as Pipenv would (pipenv_uv.py), else (and with
PYTHON_INSTALLER=pip) by `pipenv install --deploy`.

Pipenv lives in its own virtual environment in .heroku/python/pipenv, so it
is cached with the Python install and ships in the slug: `pipenv run` works
in a Procfile. No pip is installed into the app's Python.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Optional

from . import app_files, bundled_pip, errors, output, pip, pipenv_uv, python_version, site_packages, uv
from .build import Build
from .commands import run_streamed
from .environment import FORCED, PREPEND, Variable
from .package_manager import Dependencies, InstallContext, LockedFile, LockedFiles, PackageManager
from .pipenv_uv import LockInstall
from .python_version import VersionSources
from .tool_layer import ToolLayer

LOCKFILE = "Pipfile.lock"


class Pipenv(PackageManager):
    name = "pipenv"
    label = "Pipenv"
    file_name = LOCKFILE
    outdated_markers = ("is out of date",)
    lock_command = "pipenv lock"
    # Pipenv itself is installed with uv.
    cache_dirs = (uv.TOOL_DIR, uv.DOWNLOAD_CACHE)

    def version_sources(self, build_dir: Path) -> VersionSources:
        """Pipfile.lock may name the version too (after runtime.txt and .python-version)."""
        return VersionSources(self.python_ranges(build_dir), python_version_from_lock, LOCKFILE)

    def dependencies(self, build_dir: Path) -> Dependencies:
        return Dependencies(app_files.fingerprint(build_dir / LOCKFILE), _reinstall_reason(build_dir))

    def installer(self, build: Build) -> str:
        return pip.UV if self._uv_plan(build)[0] else self.name

    def _uv_plan(self, build: Build) -> tuple[Optional[LockInstall], Optional[str]]:
        return build.once(_uv_install_plan)

    def prefetch_tool(self, context: InstallContext) -> None:
        uv.prefetch(context)  # which installs the tool, when the cache hasn't got it

    def tool_requirement(self) -> str:
        return f"pipenv=={self.version}"

    def install_tool(self, context: InstallContext) -> None:
        why = self._uv_plan(context.build)[1]
        if why:
            output.info(why)
        root = context.location.install_dir / "pipenv"
        layer = ToolLayer(
            self.name, self.label, self.version, root, site_packages="venv/lib/python3*/site-packages",
            runs_on=str(context.location.home),
        )
        layer.ensure(lambda: uv.install_in_venv(
            context, context.location.home / "pipenv" / "venv", self.tool_requirement()).ok)
        # Rewritten when reused too: older builds made a symlink there.
        bundled_pip.write_launcher(root / "bin" / "pipenv", "../venv/bin/pipenv")

    def environment(self, context: InstallContext) -> tuple[Variable, ...]:
        # The app's Python is the "virtualenv" Pipenv installs into, at run
        # time too (`pipenv run` in a Procfile). VIRTUAL_ENV: in system mode Pipenv
        # skips packages its own venv has (certifi, packaging; the classic buildpack's
        # heroku/heroku-buildpack-python#1842); PIPENV_VERBOSITY=-1 hides the
        # "Courtesy Notice: Pipenv found itself running within a virtual environment".
        return (
            Variable.everywhere("PATH", "{home}/pipenv/bin", PREPEND),
            Variable.everywhere("PIPENV_SYSTEM", "1", FORCED),
            Variable.everywhere("PIPENV_VERBOSITY", "-1", FORCED),
            Variable.everywhere("VIRTUAL_ENV", "{home}", FORCED),
        )

    def install_dependencies(self, context: InstallContext) -> None:
        plan = self._uv_plan(context.build)[0]
        if plan:
            self._install_with_uv(context, plan)
            return
        command = ["pipenv", "install", "--deploy", *(["--dev"] if context.install_test else [])]
        shown = " ".join(command)
        output.step(f"Installing dependencies using '{shown}'")
        env = {
            **context.env,
            **context.pip_settings,
            "PIPENV_NOSPIN": "1",
            # VCS editables: pip's default outside a venv is "<current dir>/src"
            # (pip --src help), among the app's files and uncached.
            "PIP_SRC": str(context.location.home / "src"),
        }
        result = run_streamed(command, env, cwd=context.build_dir)
        if not result.ok:
            raise self.install_failed(result, shown)

    def _install_with_uv(self, context: InstallContext, plan: LockInstall) -> None:
        """What `pipenv install --deploy` installs, by uv: the Pipfile's Python
        check first (its lockfile check is the plan's), then the locked
        releases alone (--no-deps, as Pipenv), each file checked against
        its hashes, from the lockfile's index."""
        if plan.required_python and not pipenv_uv.python_allowed(plan.required_python, context.python_version):
            raise errors.pipfile_python_mismatch(plan.required_python, context.python_version)
        output.step(f"Installing dependencies from {LOCKFILE} using 'uv pip install'")
        env = uv.dependencies_environment(context)
        # The lockfile's index replaces PIP_INDEX_URL, as Pipenv's `-i` does;
        # PIP_EXTRA_INDEX_URL stays an extra index.
        env.pop("UV_INDEX_URL", None)
        env["UV_DEFAULT_INDEX"] = plan.index_url
        with tempfile.TemporaryDirectory(prefix="python-buildpack-pipfile-") as scratch:
            requirements = Path(scratch) / "requirements-from-Pipfile.lock.txt"
            requirements.write_text("".join(f"{line}\n" for line in plan.requirements), encoding="utf-8")
            result = uv.install_requirements(
                context, ["-r", str(requirements), "--require-hashes", "--no-deps"], env)
        if not result.ok:
            error = self.install_failed(result, f"uv pip install --require-hashes --no-deps -r <{LOCKFILE}'s releases>")
            raise errors.with_uv_installer_hint(error, LOCKFILE, "Pipenv ('pipenv install --deploy')")

    def locked_files(self, build: Build) -> LockedFiles:
        """Each package's "hashes" (of all its release's files, not saying
        which is which) and "version": "==X", in the sections installed."""
        lock = read_lock(build.app_dir)
        found: LockedFiles = {}
        for section in _PACKAGE_SECTIONS if build.install_test else ("default",):
            for name, spec in lock.get(section, {}).items():
                version, hashes = spec.get("version"), spec.get("hashes")
                pinned = version.lstrip("=") if isinstance(version, str) and version.startswith("==") else None
                found.setdefault(site_packages.normalized_name(name), []).extend(
                    LockedFile(each, pinned) for each in (hashes if isinstance(hashes, list) else [])
                    if isinstance(each, str))
        return found


def _uv_install_plan(build: Build) -> tuple[Optional[LockInstall], Optional[str]]:
    """How uv installs Pipfile.lock; or None, and why Pipenv does when the
    app didn't ask for it."""
    if pip.requested_installer(build) == pip.PIP:
        return None, None
    plan = pipenv_uv.plan(build, read_lock(build.app_dir))
    return (plan, None) if isinstance(plan, LockInstall) else (None, f"Installing with Pipenv: {plan}.")


def python_version_from_lock(build_dir: Path) -> Optional[str]:
    """Pipfile.lock's Python version: python_full_version, else python_version."""
    requires = read_lock(build_dir)["_meta"].get("requires", {})
    value = requires.get("python_full_version") or requires.get("python_version")
    if value is None:
        return None
    if not isinstance(value, str) or not python_version.is_valid_version(value):
        raise errors.pipfile_lock_invalid_version(str(value))
    return value


def read_lock(build_dir: Path) -> dict[str, Any]:
    """Pipfile.lock, checked to have the shape Pipenv (and the buildpack)
    reads, so a damaged one fails here, naming the file, and not inside
    Pipenv with a traceback."""
    return app_files.parse_once(build_dir / LOCKFILE, _read_lock)


def _read_lock(path: Path) -> dict[str, Any]:
    data = _parse_json(app_files.read_text(path))
    problem = _lock_shape_problem(data)
    if problem:
        raise errors.pipfile_lock_invalid_shape(problem)
    return data


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise errors.pipfile_lock_invalid_json(str(error)) from None


# The tables of a lockfile Pipenv writes, and what each must be.
_OBJECT, _LIST = "an object", "a list"
_META_KEYS = {"hash": _OBJECT, "requires": _OBJECT, "sources": _LIST}
_PACKAGE_SECTIONS = ("default", "develop")


def _lock_shape_problem(data: Any) -> Optional[str]:
    """What makes `data` not a Pipfile.lock, completing "it has ...", or None."""
    if not isinstance(data, dict):
        return f"{_json_kind(data)} at the top, where an object of sections belongs"
    meta = data.get("_meta")
    if not isinstance(meta, dict):
        return "no \"_meta\" object" if meta is None else f"\"_meta\" as {_json_kind(meta)}, not an object"
    for key, expected in _META_KEYS.items():
        if key in meta and not _is(meta[key], expected):
            return f"\"_meta.{key}\" as {_json_kind(meta[key])}, not {expected}"
    for section in _PACKAGE_SECTIONS:
        packages = data.get(section, {})
        if not isinstance(packages, dict):
            return f"\"{section}\" as {_json_kind(packages)}, not an object of packages"
        for name, spec in packages.items():
            if not isinstance(spec, dict):
                return f"the package \"{name[:50]}\" in \"{section}\" as {_json_kind(spec)}, not an object"
    return None


def _is(value: Any, expected: str) -> bool:
    return isinstance(value, dict) if expected == _OBJECT else isinstance(value, list)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return _LIST if isinstance(value, list) else _OBJECT


def _reinstall_reason(build_dir: Path) -> Optional[str]:
    for name, spec in read_lock(build_dir).get("default", {}).items():
        if {"path", "editable", "file"} & spec.keys():
            return f"Pipfile.lock installs {name} from a local path"
    return None
