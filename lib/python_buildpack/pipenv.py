"""Pipenv: `pipenv install --deploy` from Pipfile.lock into the app's Python.

Pipenv lives in its own virtual environment in .heroku/python/pipenv, so it
is cached with the Python install and ships in the slug: `pipenv run` works
in a Procfile. No pip is installed into the app's Python.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Optional

from . import bundled_pip, errors, output, python_version
from .commands import run_streamed
from .package_manager import (
    Dependencies, InstallContext, PackageManager, ToolEnvironment, file_fingerprint, installed_version,
)

class Pipenv(PackageManager):
    name = "pipenv"
    label = "Pipenv"
    file_name = "Pipfile.lock"
    outdated_markers = ("is out of date",)
    lock_command = "pipenv lock"

    def dependencies(self, build_dir: Path) -> Dependencies:
        return Dependencies(file_fingerprint(build_dir / "Pipfile.lock"), _reinstall_reason(build_dir))

    def install_tool(self, context: InstallContext) -> None:
        root = context.location.install_dir / "pipenv"
        if (root / "bin" / "pipenv").exists() and installed_version(root / "venv", "pipenv") == self.version:
            output.step(f"Using cached Pipenv {self.version}")
            bundled_pip.write_launcher(root / "bin" / "pipenv", "../venv/bin/pipenv")
            return
        output.step(f"Installing Pipenv {self.version}")
        shutil.rmtree(root, ignore_errors=True)
        venv = context.location.home / "pipenv" / "venv"
        result = bundled_pip.install_in_venv(
            context.location, venv, f"pipenv=={self.version}", context.env,
            bundled_pip.pip_settings(context.config), context.cache.pip_dir,
        )
        if not result.ok:
            shutil.rmtree(root, ignore_errors=True)
            raise errors.tool_install_failed("Pipenv", self.version)
        bundled_pip.write_launcher(root / "bin" / "pipenv", "../venv/bin/pipenv")

    def environment(self, context: InstallContext) -> ToolEnvironment:
        settings = {"PIPENV_SYSTEM": "1", "PIPENV_VERBOSITY": "-1"}
        return ToolEnvironment(
            path=(str(context.location.home / "pipenv" / "bin"),),
            build={**settings, "VIRTUAL_ENV": str(context.location.home)},
            runtime_path=("$HOME/.heroku/python/pipenv/bin",),
            runtime={**settings, "VIRTUAL_ENV": "$HOME/.heroku/python"},
        )

    def install_dependencies(self, context: InstallContext) -> None:
        command = ["pipenv", "install", "--deploy", *(["--dev"] if context.install_test else [])]
        shown = " ".join(command)
        output.step(f"Installing dependencies using '{shown}'")
        env = {
            **context.env,
            **bundled_pip.pip_settings(context.config),
            "PIPENV_NOSPIN": "1",
            "PIP_SRC": str(context.location.home / "src"),
        }
        result = run_streamed(command, env, cwd=context.build_dir)
        if not result.ok:
            raise self.install_failed(result, shown)


def python_version_from_lock(build_dir: Path) -> Optional[str]:
    """Pipfile.lock's Python version: python_full_version, else python_version."""
    try:
        data = json.loads((build_dir / "Pipfile.lock").read_text(encoding="utf-8"))
    except ValueError as error:  # includes UnicodeDecodeError
        raise errors.pipfile_lock_invalid_json(str(error)) from None
    meta = data.get("_meta") if isinstance(data, dict) else None
    requires = meta.get("requires") if isinstance(meta, dict) else None
    if not isinstance(requires, dict):
        return None
    value = requires.get("python_full_version") or requires.get("python_version")
    if value is None:
        return None
    if not isinstance(value, str) or not python_version.is_valid_version(value):
        raise errors.pipfile_lock_invalid_version(str(value))
    return value


def _reinstall_reason(build_dir: Path) -> Optional[str]:
    try:
        data = json.loads((build_dir / "Pipfile.lock").read_text(encoding="utf-8"))
        packages = {**data.get("default", {})}
    except (OSError, ValueError, AttributeError):
        return None
    for name, spec in packages.items():
        if isinstance(spec, dict) and ({"path", "editable", "file"} & spec.keys()):
            return f"Pipfile.lock installs {name} from a local path"
    return None
