"""Django: `manage.py collectstatic --noinput` after the dependencies.

It runs when Django is installed and the app has a manage.py (in the root or
up to two directories down), with the app's config vars; DISABLE_COLLECTSTATIC
turns it off. Apps without the staticfiles app are skipped, not failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

from . import errors, output
from .commands import run_streamed
from .config_vars import BuildConfig
from .package_manager import has_module
from .runtime_env import PythonLocation


def find_manage_py(build_dir: Path) -> Optional[Path]:
    """The shallowest manage.py, at most two directories down."""
    found = [p for depth in ("", "*/", "*/*/") for p in sorted(build_dir.glob(f"{depth}manage.py")) if p.is_file()]
    return found[0] if found else None


def collectstatic(location: PythonLocation, build_dir: Path, config: BuildConfig, env: Mapping[str, str]) -> None:
    if not has_module(location.install_dir, "django"):
        return
    disabled = config.get("DISABLE_COLLECTSTATIC")
    if disabled and disabled != "0":
        output.step("Skipping Django collectstatic since DISABLE_COLLECTSTATIC is set")
        return
    manage_py = find_manage_py(build_dir)
    if manage_py is None:
        output.step("Skipping Django collectstatic since no manage.py file was found")
        return
    shown = f"python {manage_py.relative_to(build_dir)} collectstatic --noinput"
    output.step(f"$ {shown}")
    result = run_streamed(
        [str(location.python), str(manage_py.relative_to(build_dir)), "collectstatic", "--noinput", "--traceback"],
        {"PYTHONPATH": ".", **env},
        cwd=build_dir,
    )
    if result.ok:
        return
    if result.mentions("Unknown command: 'collectstatic'"):
        output.info("The app doesn't use Django's staticfiles app: nothing to collect.")
        return
    raise errors.collectstatic_failed(shown)
