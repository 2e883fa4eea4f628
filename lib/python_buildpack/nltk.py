"""NLTK: download the corpora listed in nltk.txt when the app installs nltk.

Corpora go to .heroku/python/nltk_data (NLTK_DATA at run time). The config
var NLTK_DOWNLOAD_URL points NLTK's downloader at another data index (a
mirror), as it does for nltk itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from . import app_files, errors, output
from .commands import run_streamed
from .site_packages import has_module
from .python_location import PythonLocation

# Downloads each package, stopping at the first that fails; NLTK's own
# command line exits 0 even when a package isn't found (the __main__ of
# nltk/downloader.py only breaks out of its loop).
_DOWNLOAD = """\
import os, sys
from nltk.downloader import Downloader
target, names = sys.argv[1], sys.argv[2:]
downloader = Downloader(server_index_url=os.environ.get("NLTK_DOWNLOAD_URL") or None)
for name in names:
    if not downloader.download(name, download_dir=target, quiet=False, halt_on_error=True):
        sys.exit(f"Unable to download the NLTK package '{name}'.")
"""


def read_nltk_txt(path: Path) -> list[str]:
    text = app_files.read_app_file(path, path.name).decode("utf-8", errors="replace")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [name for line in lines for name in line.split() if name]


def download_corpora(location: PythonLocation, build_dir: Path, env: Mapping[str, str]) -> bool:
    """Download nltk.txt's corpora; True if NLTK_DATA should be set."""
    if not has_module(location.install_dir, "nltk"):
        return False
    nltk_txt = build_dir / "nltk.txt"
    if not nltk_txt.is_file():
        output.step("Skipping NLTK corpora: the app installs nltk but has no nltk.txt")
        return False
    names = read_nltk_txt(nltk_txt)
    if not names:
        return False
    output.step(f"Downloading NLTK packages: {' '.join(names)}")
    # The real build path, not /app: NLTK 3.9.3's zip-slip check compares a
    # realpath with an abspath, so through a symlink it blocks every file
    # ("Zip Slip blocked": nltk/nltk#3509).
    target = location.install_dir / "nltk_data"
    result = run_streamed([str(location.python), "-c", _DOWNLOAD, str(target), *names], env, cwd=build_dir)
    if not result.ok:
        raise errors.nltk_download_failed(names)
    return True
