"""The environment the app's Python runs in: during the build, in later
buildpacks (the `export` file) and at run time (`.profile.d/python.sh`).

Python and the scripts pip installs name `/app/.heroku/python` (where the
slug runs). During the build that path is a symlink to the build's copy, as
on Heroku, so the paths baked into installed files stay valid after the
build directory is moved to /app.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from .config_vars import tool_setting

APP_DIR = Path("/app")
APP_PYTHON_HOME = APP_DIR / ".heroku" / "python"
PROFILE_DIR = Path(__file__).resolve().parents[2] / "vendor" / "profile.d"
PROFILE_SCRIPT = PROFILE_DIR / "python.sh"
# Run-time defaults installed as they are: worker count and gunicorn settings.
PROFILE_DEFAULTS = ("WEB_CONCURRENCY.sh", "python.gunicorn.sh")

# Settings of the buildpack's own interpreter or the app's that must not
# steer the build's Python: dokku passes every config var to the build.
_DROPPED_PREFIXES = ("PYTHON",)


@dataclass(frozen=True)
class PythonLocation:
    """Where Python is installed, and the path the build runs it through."""

    install_dir: Path
    home: Path
    link_problem: Optional[str] = None

    @property
    def bin(self) -> Path:
        return self.home / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"


def link_app_dir(build_dir: Path, app_dir: Path = APP_DIR) -> PythonLocation:
    """Point /app/.heroku/python at the build's install dir, if possible."""
    install_dir = build_dir / ".heroku" / "python"
    app_home = app_dir / ".heroku" / "python"
    if os.path.realpath(build_dir) == os.path.realpath(app_dir):
        return PythonLocation(install_dir, app_home)
    try:
        if app_home.exists() and not app_home.is_symlink():
            raise OSError(f"{app_home} already exists and isn't a link")
        app_home.parent.mkdir(parents=True, exist_ok=True)
        temporary = app_home.with_name(f".python-link-{os.getpid()}")
        if temporary.is_symlink():
            temporary.unlink()
        temporary.symlink_to(install_dir)
        temporary.replace(app_home)
    except OSError as error:
        problem = f"{error.filename or app_home}: {error.strerror}" if error.strerror else str(error)
        return PythonLocation(install_dir, install_dir, link_problem=problem)
    return PythonLocation(install_dir, app_home)


def _prepended(directory: Path, current: Optional[str]) -> str:
    parts = [str(directory)] + [p for p in (current or "").split(":") if p and p != str(directory)]
    return ":".join(parts)


def clean_env(base: Mapping[str, str]) -> dict[str, str]:
    """The build environment without settings that would steer a Python, or
    send the install outside the slug (config_vars.TOOL_SETTINGS)."""
    return {k: v for k, v in base.items() if not k.startswith(_DROPPED_PREFIXES) and tool_setting(k) is None}


def build_env(location: PythonLocation, base: Mapping[str, str]) -> dict[str, str]:
    """The environment for running the app's Python and pip during the build."""
    env = clean_env(base)
    home = location.home
    env["PATH"] = _prepended(home / "bin", base.get("PATH") or os.defpath)
    for name, directory in (
        ("LD_LIBRARY_PATH", home / "lib"),
        ("LIBRARY_PATH", home / "lib"),
        ("C_INCLUDE_PATH", home / "include"),
        ("CPLUS_INCLUDE_PATH", home / "include"),
        ("PKG_CONFIG_PATH", home / "lib" / "pkgconfig"),
    ):
        env[name] = _prepended(directory, base.get(name))
    env["PYTHONUNBUFFERED"] = "1"
    env["LANG"] = "C.UTF-8"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def write_profile_script(
    build_dir: Path, path: Sequence[str] = (), variables: Optional[Mapping[str, str]] = None,
    extra: str = "",
) -> Path:
    """Install `.profile.d/python.sh`, sourced when the app starts.

    `path` and `variables` are the package manager's additions; their
    values may name $HOME. `extra` is more shell code (editable installs).
    """
    target = build_dir / ".profile.d" / "python.sh"
    target.parent.mkdir(parents=True, exist_ok=True)
    additions = _settings_script(path, variables, quote=lambda value: value)  # $HOME must expand
    script = PROFILE_SCRIPT.read_text(encoding="utf-8")
    if additions:
        script += "\n# The package manager's settings.\n" + additions
    script += extra
    target.write_text(script, encoding="utf-8")
    for name in PROFILE_DEFAULTS:
        (target.parent / name).write_bytes((PROFILE_DIR / name).read_bytes())
    return target


def _shell_prepend(name: str, directory: str) -> str:
    return (
        f'case ":${{{name}:-}}:" in\n'
        f'*":{directory}:"*) ;;\n'
        f'*) export {name}="{directory}${{{name}:+:${{{name}}}}}" ;;\n'
        "esac\n"
    )


def _settings_script(
    path: Sequence[str], variables: Optional[Mapping[str, str]], quote: Callable[[str], str]
) -> str:
    """Shell lines putting `path` first on PATH and exporting `variables`."""
    lines = [_shell_prepend("PATH", quote(directory)) for directory in path]
    lines += [f'export {name}="{quote(value)}"\n' for name, value in (variables or {}).items()]
    return "".join(lines)


def _double_quoted(text: str) -> str:
    """`text` escaped for use inside a double-quoted shell string."""
    for special in ("\\", '"', "$", "`"):
        text = text.replace(special, "\\" + special)
    return text


def export_script(
    location: PythonLocation, path: Sequence[str] = (), variables: Optional[Mapping[str, str]] = None
) -> str:
    """The `export` file: sourced (under `set -e`) before later buildpacks run.

    `path` and `variables` are the package manager's additions (its tool).
    """
    home = _double_quoted(str(location.home))
    script = (
        "# Written by the Python buildpack: the app's Python for later buildpacks.\n"
        + _shell_prepend("PATH", f"{home}/bin")
        + _shell_prepend("LD_LIBRARY_PATH", f"{home}/lib")
        + _shell_prepend("LIBRARY_PATH", f"{home}/lib")
        # The app's Python whatever the environment said before (a stale
        # config var); the tools' launchers drop it for their own venvs.
        + f'export PYTHONHOME="{home}"\n'
        + "export PYTHONUNBUFFERED=1\n"
        + 'export LANG="${LANG:-C.UTF-8}"\n'
        + "export PIP_DISABLE_PIP_VERSION_CHECK=1\n"
    )
    return script + _settings_script(path, variables, quote=_double_quoted)


def write_export(
    buildpack_dir: Path, location: PythonLocation, path: Sequence[str] = (),
    variables: Optional[Mapping[str, str]] = None,
) -> Optional[str]:
    """Write the export file; return the problem if it can't be written."""
    target = buildpack_dir / "export"
    try:
        target.write_text(export_script(location, path, variables), encoding="utf-8")
    except OSError as error:
        return error.strerror or str(error)
    return None


def rewrite_script_paths(location: PythonLocation) -> None:
    """Make `#!` lines of installed scripts name /app/.heroku/python.

    Needed only when Python had to run from the build directory itself.
    """
    old = str(location.install_dir).encode()
    new = str(APP_PYTHON_HOME).encode()
    scripts = [*(location.install_dir / "bin").iterdir(), *location.install_dir.glob("pipenv/venv/bin/*")]
    for config in location.install_dir.glob("pipenv/venv/pyvenv.cfg"):
        config.write_bytes(config.read_bytes().replace(old, new))
    for script in scripts:
        if script.is_symlink() or not script.is_file():
            continue
        with open(script, "rb") as handle:
            head = handle.read(2)
            if head != b"#!":
                continue
            content = head + handle.read()
        first, newline, rest = content.partition(b"\n")
        if old in first:
            script.write_bytes(first.replace(old, new) + newline + rest)
