"""Django: `manage.py collectstatic --noinput` after the dependencies.

It runs when Django is installed and the app has a manage.py (in the root or
up to two directories down), with the app's config vars; DISABLE_COLLECTSTATIC
turns it off (as does the deprecated .heroku/collectstatic_disabled file, with
a warning). Apps without the staticfiles app are skipped, not failed. With
DEBUG_COLLECTSTATIC=1, a failure also lists the names of the variables it ran
with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

from . import errors, output
from .commands import run_streamed
from .config_vars import BuildConfig
from .site_packages import has_module
from .python_location import PythonLocation

# Older buildpacks' way to turn collectstatic off; DISABLE_COLLECTSTATIC replaces it.
DISABLED_FILE = ".heroku/collectstatic_disabled"


def find_manage_py(build_dir: Path) -> Optional[Path]:
    """The shallowest manage.py, at most two directories down."""
    found = [p for depth in ("", "*/", "*/*/") for p in sorted(build_dir.glob(f"{depth}manage.py")) if p.is_file()]
    return found[0] if found else None


def collectstatic(location: PythonLocation, build_dir: Path, config: BuildConfig, env: Mapping[str, str]) -> None:
    if not has_module(location.install_dir, "django"):
        return
    disabled = config.get("DISABLE_COLLECTSTATIC")
    disabled_by_file = (build_dir / DISABLED_FILE).exists()
    if disabled_by_file:
        output.warning(errors.collectstatic_disabled_file_warning(DISABLED_FILE))
    if disabled and disabled != "0":
        output.step("Skipping Django collectstatic since DISABLE_COLLECTSTATIC is set")
        return
    if disabled_by_file:
        output.step(f"Skipping Django collectstatic since the file '{DISABLED_FILE}' exists")
        return
    manage_py = find_manage_py(build_dir)
    if manage_py is None:
        output.step("Skipping Django collectstatic since no manage.py file was found")
        return
    shown = f"python {manage_py.relative_to(build_dir)} collectstatic --noinput"
    output.step(f"$ {shown}")
    # python puts manage.py's own directory first on sys.path, not the cwd: a
    # manage.py in a subdirectory still imports the app's top-level packages.
    command_env = {"PYTHONPATH": ".", **env}
    result = run_streamed(
        [str(location.python), str(manage_py.relative_to(build_dir)), "collectstatic", "--noinput", "--traceback"],
        command_env,
        cwd=build_dir,
    )
    if result.ok:
        return
    # Django's management utility says so (and exits 1) when no installed app
    # provides the command: django.contrib.staticfiles isn't in INSTALLED_APPS.
    if result.mentions("Unknown command: 'collectstatic'"):
        output.info("The app doesn't use Django's staticfiles app: nothing to collect.")
        return
    if config.get("DEBUG_COLLECTSTATIC") == "1":
        show_environment_names(command_env)
    raise errors.collectstatic_failed(shown)


def show_environment_names(env: Mapping[str, str]) -> None:
    """The names of the variables collectstatic ran with, sorted.

    Names only: the values are the app's config vars, secrets among them,
    and build logs are often shared.
    """
    output.step("Collectstatic environment variables (DEBUG_COLLECTSTATIC=1; names only, values hidden):")
    output.info("\n".join(sorted(env)))
