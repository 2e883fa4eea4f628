#!/usr/bin/env python3
"""`make run`: build a sample app herokuish-style in the stack environment,
twice with one cache, boot its web process and print the page it serves.

    make run [FIXTURE=test/fixtures/django_app] [STACK=heroku-24]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "integration"))

from runtimes import MirrorServer, package_archives  # noqa: E402
from stack_env import HerokuishBuild, make_rootfs, make_stack, stack_kind, stack_name  # noqa: E402


def show(title: str, result) -> None:
    print(f"\n===== {title} (exit status {result.returncode})")
    print(result.stdout, end="")
    if result.stderr:
        print(result.stderr, end="")


def main(argv: list[str]) -> int:
    fixture = Path(argv[0] if argv else "test/fixtures/flask_app").resolve()
    print(f"Stack {stack_name()} in {stack_kind()}; app {fixture}")
    print("Preparing the stack environment and runtime archives (slow only the first time)...")
    rootfs = make_rootfs()
    archives = package_archives(stack_name())
    with tempfile.TemporaryDirectory(prefix="python-buildpack-run-") as work:
        mirror = MirrorServer(archives, Path(work) / "mirrors")
        print(f"Runtime mirror: {mirror.url()} ({', '.join(sorted(archives.versions.values()))})")
        builder = HerokuishBuild(
            make_stack(rootfs, Path(work) / "stack"), stack_name(),
            config={"PYTHON_RUNTIME_BASE_URL": mirror.url()},
        )
        for number in (1, 2):
            outcome = builder.build(fixture)
            show(f"build {number}: bin/detect", outcome.detect)
            for name in ("compile", "release"):
                result = getattr(outcome, name)
                if result is not None:
                    show(f"build {number}: bin/{name}", result)
            if not outcome.ok:
                print(f"\nBuild {number} failed.")
                return 1
        response = builder.fetch("/")
        print(f"\n===== GET / on the web process: HTTP {response.status_code}")
        print(response.text)
        mirror.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
