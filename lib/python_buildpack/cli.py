"""Entry point for bin/detect, bin/compile and bin/release."""

from __future__ import annotations

import json
import os
import signal
import traceback
from pathlib import Path
from typing import Callable, Sequence

from . import errors, output

BUILDPACK_DIR = Path(__file__).resolve().parents[2]


def _directory(what: str, value: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise errors.not_a_directory(what, value)
    return path.resolve()


def run_detect(args: Sequence[str]) -> int:
    from .detect import detect

    if len(args) != 1:
        raise errors.usage("detect", "BUILD_DIR")
    return detect(_directory("build directory", args[0]))


def run_compile(args: Sequence[str], command: str = "compile") -> int:
    from .build import BuildDirs
    from .compile import run

    if len(args) != 3:
        raise errors.usage(command, "BUILD_DIR CACHE_DIR ENV_DIR")
    build = _directory("build directory", args[0])
    cache = Path(args[1])
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise errors.not_a_directory("cache directory", args[1]) from None
    # Absolute before the chdir below: a relative ENV_DIR would then name
    # another directory, and the app's config vars would be silently lost;
    # a relative CACHE_DIR would name one inside the app.
    cache = cache.resolve()
    env = Path(args[2]).absolute()
    os.chdir(build)
    run(BuildDirs(build, cache, env, BUILDPACK_DIR), install_test=command == "test-compile")
    return 0


def run_test_compile(args: Sequence[str]) -> int:
    return run_compile(args, "test-compile")


def run_tests(args: Sequence[str]) -> int:
    from .app_dir import recorded
    from .app_tests import run_app_tests

    if len(args) not in (1, 2):
        raise errors.usage("test", "BUILD_DIR [ENV_DIR]")
    return run_app_tests(recorded(_directory("build directory", args[0]), os.environ).path)


def run_release(args: Sequence[str]) -> int:
    from .release import release

    # Heroku passes BUILD_DIR; herokuish also passes CACHE_DIR.
    if len(args) not in (1, 2):
        raise errors.usage("release", "BUILD_DIR")
    return release(_directory("build directory", args[0]))


def run_report(args: Sequence[str]) -> int:
    """bin/report BUILD_DIR [CACHE_DIR [ENV_DIR]]: the last build's report as
    JSON on stdout. It never fails: the build system runs it after every
    build, and a report must not turn a build into a failure."""
    from . import report

    build = Path(args[0]) if args else Path(".")
    cache = Path(args[1]) if len(args) > 1 else None
    data = report.read(build, cache) or {"buildpack_version": report.BUILDPACK_VERSION, "status": "no-build-data"}
    print(json.dumps(data, indent=2))
    return 0


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "detect": run_detect,
    "compile": run_compile,
    "release": run_release,
    "test-compile": run_test_compile,
    "test": run_tests,
    "report": run_report,
}


def _terminate(signum, _frame):
    # On SIGTERM (`docker stop`, a build system ending a build) Python's default
    # ends the process without running `finally` blocks (signal docs: only SIGINT
    # becomes KeyboardInterrupt): raised instead, half-made installs are cleaned up.
    raise KeyboardInterrupt


def main(argv: Sequence[str]) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    if not argv or argv[0] not in COMMANDS:
        output.error(str(errors.usage("<detect|compile|release|test-compile|test|report>", "ARGS...")))
        return 1
    try:
        return COMMANDS[argv[0]](argv[1:])
    except errors.BuildError as error:
        output.error(str(error))
        return 1
    except KeyboardInterrupt:
        output.error(errors.interrupted())
        return 1
    except Exception as error:  # noqa: BLE001 - last line of defence
        if os.environ.get("PYTHON_BUILDPACK_DEBUG") == "1":
            traceback.print_exc()
        frame = traceback.extract_tb(error.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        output.error(errors.internal_error(f"{type(error).__name__}: {error} (at {where})"))
        return 1
