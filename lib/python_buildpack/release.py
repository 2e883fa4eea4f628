"""bin/release: the release metadata, as YAML on stdout.

When the app has no Procfile and its web process can be inferred safely
(web_process.py), it is offered as a default process type, which Heroku
uses and herokuish/dokku write into a Procfile. Otherwise the document is
empty. A Procfile always wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from . import errors, output, web_process


def inferred(build_dir: Path) -> Optional[web_process.Inference]:
    """What web_process infers; None when the app has a Procfile."""
    if (build_dir / "Procfile").exists():
        return None
    return web_process.infer(build_dir, build_dir / ".heroku" / "python")


def release_yaml(build_dir: Path) -> str:
    inference = inferred(build_dir)
    if inference is None or inference.process is None:
        return ""
    return f"---\ndefault_process_types:\n  web: {inference.process.command}\n"


def note_process_types(build_dir: Path) -> None:
    """Say in the build log how the app will be started, when no Procfile does."""
    inference = inferred(build_dir)
    if inference is None:
        return
    if inference.process:
        output.step(f"No Procfile: the web process defaults to '{inference.process.command}'")
        output.info(f"Inferred from {inference.process.reason}. A Procfile replaces it.")
    else:
        output.notice(errors.procfile_needed_notice(inference.hints))


def release(build_dir: Path) -> int:
    print(release_yaml(build_dir), end="")
    return 0
