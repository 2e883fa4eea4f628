"""bin/release: the release metadata, as YAML on stdout.

Process types come from the app's Procfile; this buildpack adds nothing
yet, so it prints an empty document, which every builder accepts.
"""

from __future__ import annotations

from pathlib import Path


def release(build_dir: Path) -> int:
    return 0
