"""Runs the buildpack's Python code; see bin/ and lib/launch.sh."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from python_buildpack.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
