"""The pinned version of each tool the buildpack installs: requirements/<tool>.txt.

The pins are requirement files so that Dependabot-style tools can bump them.
"""

from __future__ import annotations

from pathlib import Path

REQUIREMENTS_DIR = Path(__file__).resolve().parents[2] / "requirements"


def pinned_version(tool: str, requirements_dir: Path = REQUIREMENTS_DIR) -> str:
    """The version pinned in requirements/<tool>.txt (`tool==X.Y.Z`)."""
    for line in (requirements_dir / f"{tool}.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith(f"{tool}=="):
            return line.split("==", 1)[1].strip()
    raise ValueError(f"requirements/{tool}.txt has no '{tool}==' pin")
