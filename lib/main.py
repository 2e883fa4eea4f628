"""Runs the buildpack's Python code; see bin/ and lib/launch.sh."""

import os
import sys

LIB_DIR = os.path.dirname(os.path.abspath(__file__))
# The libraries the buildpack imports (packaging, tomli), pinned in
# vendor/requirements.txt. They go first on sys.path, before the build
# image's own dist-packages (which `python3 -I` still has): an image may ship
# another packaging, or none (heroku-22).
VENDOR_DIR = os.path.join(os.path.dirname(LIB_DIR), "vendor", "python")
VENDORED = ("packaging", "tomli")


def _use_vendored_libraries() -> None:
    sys.path[:0] = [VENDOR_DIR, LIB_DIR]
    # A .pth file in the image's site-packages may have imported the image's
    # copy before this script ran (site runs a .pth line that starts with
    # "import": CPython docs, site module): forget it, so the next import
    # finds ours.
    for name in list(sys.modules):
        if name.split(".")[0] in VENDORED:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if not os.path.abspath(origin).startswith(VENDOR_DIR + os.sep):
                del sys.modules[name]


_use_vendored_libraries()

from python_buildpack.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
