"""The environment variables the buildpack sets, defined once each.

Each variable says where it applies and how:

- BUILD: the build's own commands (the package manager, hooks, collectstatic);
- LATER: later buildpacks of the same build, through the `export` file;
- RUNTIME: the app at run time, through `.profile.d/python.sh`.

and, in each, whether its directory is put first on a search path
(PREPEND), it always has this value (FORCED: the build or the app would
break otherwise), or it has this value unless already set (DEFAULT: the
user's choice wins). The three renderings below are generated from the
table, so they can't drift apart.

A value may name `{home}`, the app's Python: /app/.heroku/python during the
build (see python_location.py), `${HOME}/.heroku/python` at run time.
`{app}` is the app's directory at run time: `${HOME}`, or its PYTHON_APP_DIR
subdirectory (app_dir.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

from .app_dir import ROOT
from .python_location import PythonLocation, clean_env

BUILD, LATER, RUNTIME = "build", "later buildpacks", "run time"
PREPEND, FORCED, DEFAULT = "prepend", "forced", "default"
EVERYWHERE = (BUILD, LATER, RUNTIME)

PROFILE_DIR = Path(__file__).resolve().parents[2] / "vendor" / "profile.d"
# Run-time defaults installed as they are: worker count and gunicorn settings.
PROFILE_DEFAULTS = ("WEB_CONCURRENCY.sh", "python.gunicorn.sh")
# At run time the app is in $HOME (/app on Heroku and herokuish).
_RUNTIME_HOME = "${HOME}/.heroku/python"
_RUNTIME_APP = "${HOME}"


@dataclass(frozen=True)
class Variable:
    name: str
    value: str
    # Scope -> PREPEND, FORCED or DEFAULT.
    how: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def everywhere(cls, name: str, value: str, how: str) -> "Variable":
        return cls(name, value, {scope: how for scope in EVERYWHERE})

    @classmethod
    def in_build(cls, name: str, value: str, how: str = FORCED) -> "Variable":
        """For the build and later buildpacks, not at run time (a tool kept out of the slug)."""
        return cls(name, value, {BUILD: how, LATER: how})


PYTHON_ENVIRONMENT: tuple[Variable, ...] = (
    Variable.everywhere("PATH", "{home}/bin", PREPEND),
    # The runtimes are shared builds (--enable-shared), and Heroku's archives
    # carry no rpath: python finds libpython only through LD_LIBRARY_PATH,
    # and so do C extensions linked against it.
    Variable.everywhere("LD_LIBRARY_PATH", "{home}/lib", PREPEND),
    Variable.everywhere("LIBRARY_PATH", "{home}/lib", PREPEND),
    # For packages that compile C code against Python's headers and libraries.
    Variable.in_build("C_INCLUDE_PATH", "{home}/include", PREPEND),
    Variable.in_build("CPLUS_INCLUDE_PATH", "{home}/include", PREPEND),
    Variable.in_build("PKG_CONFIG_PATH", "{home}/lib/pkgconfig", PREPEND),
    # Always the app's Python, whatever the environment said before: a stale
    # PYTHONHOME (a config var copied from another app) stops python from
    # starting. The build itself runs without one (python_location.clean_env);
    # tools with venvs of their own unset it (bundled_pip.write_launcher).
    Variable("PYTHONHOME", "{home}", {LATER: FORCED, RUNTIME: FORCED}),
    # Logs appear as they are written, not when a buffer fills.
    Variable.everywhere("PYTHONUNBUFFERED", "1", FORCED),
    # A UTF-8 locale every image has. The build's tools need one whatever the
    # build system set; the app keeps the user's.
    Variable("LANG", "C.UTF-8", {BUILD: FORCED, LATER: DEFAULT, RUNTIME: DEFAULT}),
    # The app's own modules import from its directory, as in development,
    # whatever directory a command starts in. A PYTHONPATH config var
    # replaces it: the user has taken charge of the path.
    Variable("PYTHONPATH", "{app}", {RUNTIME: DEFAULT}),
    # pip would otherwise ask the index for a newer pip on every run.
    Variable.everywhere("PIP_DISABLE_PIP_VERSION_CHECK", "1", FORCED),
)


def _render(template: str, home: str, app: str, escape=lambda text: text) -> str:
    """`template` with {home} and {app} filled in; `escape` quotes the rest."""
    out = []
    for index, part in enumerate(template.split("{home}")):
        if index:
            out.append(home)
        out.append(app.join(escape(piece) for piece in part.split("{app}")))
    return "".join(out)


def _scoped(scope: str, variables: Sequence[Variable]) -> list[tuple[Variable, str]]:
    return [(variable, variable.how[scope]) for variable in variables if scope in variable.how]


def build_env(location: PythonLocation, base: Mapping[str, str], extra: Sequence[Variable] = ()) -> dict[str, str]:
    """The environment of the build's own commands: `base` (the build
    system's) cleaned, then the table, then `extra` (the package manager's)."""
    env = clean_env(base)
    env["PATH"] = env.get("PATH") or os.defpath
    home = str(location.home)
    for variable, how in _scoped(BUILD, (*PYTHON_ENVIRONMENT, *extra)):
        value = _render(variable.value, home, home)
        if how == PREPEND:
            current = [part for part in env.get(variable.name, "").split(":") if part and part != value]
            env[variable.name] = ":".join([value, *current])
        elif how == FORCED or not env.get(variable.name):
            env[variable.name] = value
    return env


def _double_quoted(text: str) -> str:
    """`text` escaped for use inside a double-quoted shell string."""
    for special in ("\\", '"', "$", "`"):
        text = text.replace(special, "\\" + special)
    return text


def _shell_lines(scope: str, variables: Sequence[Variable], home: str, app: str) -> str:
    lines = []
    for variable, how in _scoped(scope, variables):
        name, value = variable.name, _render(variable.value, home, app, _double_quoted)
        if how == PREPEND:
            lines.append(
                f'case ":${{{name}:-}}:" in\n'
                f'*":{value}:"*) ;;\n'
                f'*) export {name}="{value}${{{name}:+:${{{name}}}}}" ;;\n'
                "esac\n"
            )
        elif how == FORCED:
            lines.append(f'export {name}="{value}"\n')
        else:
            lines.append(f'export {name}="${{{name}:-{value}}}"\n')
    return "".join(lines)


def export_script(location: PythonLocation, extra: Sequence[Variable] = ()) -> str:
    """The `export` file: sourced before later buildpacks run (by
    heroku-buildpack-multi in its `set -e` shell, so no line may fail)."""
    home = _double_quoted(str(location.home))
    return (
        "# Written by the Python buildpack: the app's Python for later buildpacks.\n"
        + _shell_lines(LATER, (*PYTHON_ENVIRONMENT, *extra), home, home)
    )


# Installed scripts start with #!/app/.heroku/python/bin/python. When the app
# runs from another directory (HOME isn't /app: a subdirectory buildpack, a
# one-off container), /app/.heroku/python is made to point at it.
_APP_LINK = """
if [ "${HOME}" != "/app" ] && [ ! -e /app/.heroku/python ]; then
	{ mkdir -p /app/.heroku && ln -nsf "${HOME}/.heroku/python" /app/.heroku/python; } 2>/dev/null || true
fi
"""


def profile_script(extra: Sequence[Variable] = (), more: str = "", app_path: str = ROOT) -> str:
    """`.profile.d/python.sh`: sourced when the app starts.

    Heroku, herokuish and dokku source it after the app's config vars are
    set, as whichever user runs the app, herokuish under `set -eo pipefail`:
    it never exits, prints or fails, and sourcing it twice changes nothing.
    `more`: shell code for what the build found (editable installs);
    `app_path`: the app's directory in the slug (PYTHON_APP_DIR).
    """
    app = _RUNTIME_APP if app_path == ROOT else f"{_RUNTIME_APP}/{_double_quoted(app_path)}"
    return (
        "# shellcheck shell=bash\n"
        "# The app's Python at run time, written by the Python buildpack.\n"
        + _shell_lines(RUNTIME, (*PYTHON_ENVIRONMENT, *extra), _RUNTIME_HOME, app)
        + _APP_LINK
        + more
    )


def write_profile_scripts(
    build_dir: Path, extra: Sequence[Variable] = (), more: str = "", app_path: str = ROOT,
) -> Path:
    """Install python.sh and the run-time defaults into BUILD_DIR/.profile.d."""
    target = build_dir / ".profile.d" / "python.sh"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(profile_script(extra, more, app_path), encoding="utf-8")
    for name in PROFILE_DEFAULTS:
        (target.parent / name).write_bytes((PROFILE_DIR / name).read_bytes())
    return target


def write_export(buildpack_dir: Path, location: PythonLocation, extra: Sequence[Variable] = ()) -> Optional[str]:
    """Write the export file; return the problem if it can't be written."""
    try:
        (buildpack_dir / "export").write_text(export_script(location, extra), encoding="utf-8")
    except OSError as error:
        return error.strerror or str(error)
    return None
