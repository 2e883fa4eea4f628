"""Checks of the app's source before anything is installed."""

from __future__ import annotations

from pathlib import Path

from . import errors


def no_existing_python_dir(build_dir: Path) -> None:
    python_dir = build_dir / ".heroku" / "python"
    if not (python_dir.exists() or python_dir.is_symlink()):
        return
    entries = sorted(str(p.relative_to(build_dir)) for p in python_dir.glob("*"))[:10]
    listing = "\n".join(f"    {entry}" for entry in entries) or "    .heroku/python"
    raise errors.existing_python_dir(listing)
