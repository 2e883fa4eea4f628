#!/usr/bin/env python3
"""`make bench`: how long builds take, herokuish-style in the stack environment.

For each app: a build with an empty cache, a rebuild with nothing changed
(the cache skips the install), and a rebuild after a dependency change.
Each is run REPEAT times (default 3) in a fresh stack; the table shows the
median and the range of a whole herokuish-style build's wall time (source
copied in, detect, compile, release, build moved to /app). Network and disk make the
numbers vary: compare runs made on the same machine.

    make bench [APPS="flask_app uv_app"] [REPEAT=3]
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "integration"))

from runtimes import MirrorServer, package_archives  # noqa: E402
from stack_env import HerokuishBuild, make_rootfs, make_stack, stack_name  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
def timed_build(builder: HerokuishBuild, source: Path) -> float:
    start = time.monotonic()
    outcome = builder.build(source)
    elapsed = time.monotonic() - start
    if not outcome.ok:
        raise SystemExit(f"build of {source.name} failed:\n{outcome.compile.output if outcome.compile else outcome.detect.output}")
    return elapsed


def bench_app(app: str, repeat: int, rootfs, mirror, work: Path) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"empty cache": [], "unchanged": [], "requirements.txt changed": []}
    for run in range(repeat):
        builder = HerokuishBuild(make_stack(rootfs, work / f"{app}-{run}"), stack_name(),
                                 config={"PYTHON_RUNTIME_BASE_URL": mirror.url()})
        source = work / f"{app}-{run}-source"
        shutil.copytree(FIXTURES / app, source)
        results["empty cache"].append(timed_build(builder, source))
        results["unchanged"].append(timed_build(builder, source))
        if (source / "requirements.txt").exists():
            with open(source / "requirements.txt", "a") as requirements:
                requirements.write("six==1.17.0\n")
            results["requirements.txt changed"].append(timed_build(builder, source))
    return {k: v for k, v in results.items() if v}


def main() -> int:
    apps = os.environ.get("APPS", "minimal_app flask_app django_app uv_app poetry_app pipenv_app").split()
    repeat = int(os.environ.get("REPEAT", "3"))
    rootfs = make_rootfs()
    archives = package_archives(stack_name())
    print(f"Seconds per herokuish-style build (copy, detect, compile, release, move), "
          f"{repeat} runs each, stack {stack_name()}")
    print(f"{'app':<14} {'build':<26} {'median':>7} {'min':>7} {'max':>7}")
    with tempfile.TemporaryDirectory(prefix="python-buildpack-bench-") as work:
        mirror = MirrorServer(archives, Path(work) / "mirrors")
        for app in apps:
            for name, times in bench_app(app, repeat, rootfs, mirror, Path(work)).items():
                print(f"{app:<14} {name:<26} {statistics.median(times):7.2f} {min(times):7.2f} {max(times):7.2f}",
                      flush=True)
        mirror.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
