#!/usr/bin/env python3
"""`make bench`: how long builds take, herokuish-style in the stack environment.

For each app: a build with an empty cache, a rebuild with nothing changed
(the cache skips the install), and, for requirements.txt apps, a rebuild
after a dependency change (`six==1.17.0` appended to requirements.txt).
requirements.txt apps are built with each installer: the default (uv) and
pip forced (the config var PYTHON_INSTALLER=pip). Pipenv, Poetry and uv apps
have one variant and no "changed" build (their lockfiles can't be changed
without their tool and the index).

Each sequence runs REPEAT times (default 3), each in a fresh stack with an
empty cache. The repeats are the outer loop and the installer variants
alternate within each repeat (uv first, then pip; the next repeat pip
first), so that the machine's noise falls on both alike. Each build starts
after a sync(2), so that no build pays for the writes of the one before.

Three figures per build:

- build: the wall time of the whole herokuish-style build (source copied
  in, detect, compile, report, release, build moved to /app);
- compile: the wall time of the bin/compile command alone (including the
  few milliseconds of entering the stack's namespaces and chroot);
- peak RSS: the maxrss that wait4() returns for the compile command, the
  largest resident set of any single process in its tree (the kernel folds
  each waited-for descendant's maxrss into its parent's). uv's worker
  threads share one process, so for uv that is the installer's whole
  footprint, the figure that says whether a build fits a small builder;
  pip's build subprocesses (PEP 517 builds) count one at a time, not
  summed.

The table shows medians and ranges (min-max) of the times, and the largest
peak RSS of the runs; it ends with the ratios the project's targets are
stated in. It is also written as Markdown to BENCH_OUT (default
/tmp/python-buildpack-bench.md), to paste into the README. Network and disk
make the numbers vary: compare runs made on the same machine, in one run.

Pipenv and Poetry apps are also built, in the same runs, by the buildpack
as it was at BASELINE (a commit; default fccbe3b, the last before uv
installed Pipenv and Poetry), the figures their targets are stated against.
BASELINE= (empty) leaves that out.

    make bench [APPS="flask_app uv_app"] [REPEAT=3] [BENCH_OUT=/tmp/bench.md] [BASELINE=fccbe3b]
"""

from __future__ import annotations

import datetime
import glob
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent / "integration"))

import stack_env  # noqa: E402
from runtimes import MirrorServer, package_archives  # noqa: E402
from stack_env import REPO, HerokuishBuild, Result, make_rootfs, make_stack, stack_name  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEFAULT_APPS = "flask_app django_app pipenv_app poetry_app uv_app minimal_app"
DEFAULT_OUT = "/tmp/python-buildpack-bench.md"
ADDED_REQUIREMENT = "six==1.17.0"
EMPTY, UNCHANGED, CHANGED = "empty cache", "unchanged", "requirements changed"
SCENARIOS = (EMPTY, UNCHANGED, CHANGED)
# The installer variants of a requirements.txt app: (label, config vars).
PIP_VARIANTS = (("uv", {}), ("pip forced", {"PYTHON_INSTALLER": "pip"}))
# What the compile output says each installer ran (a check that the config
# var took effect: a benchmark of the wrong installer is worse than none).
INSTALL_LINE = {"uv": "Installing dependencies using 'uv pip install", "pip forced": "Installing dependencies using 'pip install",
                "pipenv": "Installing dependencies from Pipfile.lock using 'uv pip install'",
                "pipenv forced": "Installing dependencies using 'pipenv install --deploy'"}
OTHER_MANAGERS = (("Pipfile.lock", "pipenv"), ("poetry.lock", "poetry"), ("uv.lock", "uv sync"))
# Pipenv apps are also built with Pipenv's own install (PYTHON_INSTALLER=pip).
PIPENV_FORCED = ("pipenv forced", {"PYTHON_INSTALLER": "pip"})
# The apps also built by the BASELINE buildpack, and that variant's label.
BASELINE_APPS = ("pipenv_app", "poetry_app")
DEFAULT_BASELINE = "fccbe3b"
BASELINE_LABEL = "at baseline"
# The buildpack checkout each variant builds with (the baseline's is added by main()).
SOURCES: dict[str, Path] = {}


# --- The compile command, timed and measured --------------------------------

@dataclass
class CompileMeasure:
    seconds: float
    maxrss_kb: int


_last_compile: Optional[CompileMeasure] = None
_original_run = stack_env.run


def _is_compile(args) -> bool:
    return len(args) > 2 and args[0] == "bash" and args[1] == "-c" and "/bin/compile " in args[2]


def _measured_run(stack, args, env, user: bool = True, timeout: float = 600) -> Result:
    """stack_env.run, but for bin/compile also its wall time and peak RSS.

    HerokuishBuild.build calls the module's `run`; this replaces it there.
    The child is reaped with os.wait4, whose rusage covers the command and
    every descendant it (transitively) waited for, and no other build.
    """
    global _last_compile
    if not _is_compile(args):
        return _original_run(stack, args, env, user, timeout)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        process = subprocess.Popen(stack.command(args, env, user), stdout=out, stderr=err)
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        elapsed = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        result = Result(process.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"))
    _last_compile = CompileMeasure(elapsed, usage.ru_maxrss)  # kilobytes on Linux
    return result


stack_env.run = _measured_run


# --- Builds -------------------------------------------------------------------

@dataclass
class Sample:
    build: float
    compile: float
    maxrss_mb: float
    # bin/report's `steps` (seconds by step), where the build's time went.
    steps: dict = field(default_factory=dict)

    def slowest_steps(self, count: int = 3) -> str:
        slowest = sorted(self.steps.items(), key=lambda item: -item[1])[:count]
        return " ".join(f"{name} {seconds:.2f}" for name, seconds in slowest if seconds >= 0.05)


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    def median(self, what: str) -> float:
        return statistics.median(getattr(s, what) for s in self.samples)

    def range(self, what: str) -> tuple[float, float]:
        values = [getattr(s, what) for s in self.samples]
        return min(values), max(values)

    def peak_mb(self) -> float:
        return max(s.maxrss_mb for s in self.samples)


def timed_build(builder: HerokuishBuild, source: Path, what: str, expect: Optional[str]) -> Sample:
    global _last_compile
    _last_compile = None
    # Each build starts on a settled disk: what the previous build (or the
    # removal of the last sequence's trees) left to write falls on no one.
    os.sync()
    start = time.monotonic()
    outcome = builder.build(source)
    elapsed = time.monotonic() - start
    if not outcome.ok:
        failed = outcome.compile if outcome.compile is not None and outcome.compile.returncode else (
            outcome.release or outcome.compile or outcome.detect)
        raise SystemExit(f"{what}: the build failed:\n{failed.output}")
    if expect and expect not in outcome.compile.output:
        raise SystemExit(f"{what}: the compile output doesn't say {expect!r}: the installer wasn't the one "
                         f"asked for:\n{outcome.compile.output}")
    assert _last_compile is not None, "bin/compile wasn't run through the measuring hook"
    steps = (outcome.report or {}).get("steps")
    return Sample(elapsed, _last_compile.seconds, _last_compile.maxrss_kb / 1024,
                  steps if isinstance(steps, dict) else {})


def installed(builder: HerokuishBuild, pattern: str) -> bool:
    """Whether the built slug (now in /app) holds a file matching `pattern`."""
    return bool(glob.glob(str(builder.stack.host_path("/app") / pattern)))


def variants(app: str) -> list[tuple[str, dict]]:
    if (FIXTURES / app / "requirements.txt").exists():
        return list(PIP_VARIANTS)
    baseline = [(BASELINE_LABEL, {})] if app in BASELINE_APPS and BASELINE_LABEL in SOURCES else []
    for file_name, label in OTHER_MANAGERS:
        if (FIXTURES / app / file_name).exists():
            return [(label, {}), *([PIPENV_FORCED] if label == "pipenv" else []), *baseline]
    return [("default", {})]


def export_baseline(revision: str, directory: Path) -> Path:
    """The buildpack's files as they were at `revision`."""
    directory.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, *stack_env.BUILDPACK_PARTS],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        raise SystemExit(f"BASELINE={revision}: git archive failed: {archive.stderr.decode(errors='replace')}")
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive.stdout, check=True)
    return directory


def bench_sequence(app: str, variant: str, config: dict, rootfs, mirror, work: Path,
                   results: dict, log) -> None:
    """Empty cache, unchanged and (requirements.txt apps) changed, in one fresh stack."""
    directory = work / f"{app}-{variant.replace(' ', '-')}"
    shutil.rmtree(directory, ignore_errors=True)
    builder = HerokuishBuild(make_stack(rootfs, directory / "stack"), stack_name(),
                             config={"PYTHON_RUNTIME_BASE_URL": mirror.url(), **config},
                             buildpack_source=SOURCES.get(variant, REPO))
    source = directory / "source"
    shutil.copytree(FIXTURES / app, source, symlinks=True)
    pip_app = (source / "requirements.txt").exists()
    # The install line is printed when something is installed: minimal_app's
    # requirements.txt is empty, and an unchanged rebuild skips the install.
    has_requirements = pip_app and bool((source / "requirements.txt").read_text().strip())
    for scenario in SCENARIOS:
        if scenario == CHANGED:
            if not pip_app:
                break
            with open(source / "requirements.txt", "a") as requirements:
                requirements.write(f"{ADDED_REQUIREMENT}\n")
            has_requirements = True
        expect = INSTALL_LINE.get(variant) if (has_requirements or not pip_app) and scenario != UNCHANGED else None
        sample = timed_build(builder, source, f"{app} ({variant}, {scenario})", expect)
        if scenario == CHANGED and not installed(builder, ".heroku/python/lib/python3*/site-packages/six.py"):
            raise SystemExit(f"{app} ({variant}): after the requirements change, six isn't in the slug")
        results.setdefault((app, variant, scenario), Series()).samples.append(sample)
        log(f"  {app:<12} {variant:<11} {scenario:<21} build {sample.build:6.2f} s  "
            f"compile {sample.compile:6.2f} s  peak RSS {sample.maxrss_mb:6.1f} MB  {sample.slowest_steps()}")
    shutil.rmtree(directory, ignore_errors=True)


# --- Report -------------------------------------------------------------------

def fmt_times(series: Series, what: str) -> str:
    low, high = series.range(what)
    return f"{series.median(what):.2f} ({low:.2f}-{high:.2f})"


def table_rows(apps: list[str], results: dict) -> list[tuple[str, ...]]:
    rows = []
    for app in apps:
        for variant, _config in variants(app):
            for scenario in SCENARIOS:
                series = results.get((app, variant, scenario))
                if series is None:
                    continue
                rows.append((app, variant, scenario, fmt_times(series, "build"), fmt_times(series, "compile"),
                             f"{series.peak_mb():.0f}"))
    return rows


HEADER = ("app", "installer", "build", "whole build s", "bin/compile s", "peak RSS MB")


def plain_table(rows) -> str:
    widths = [max(len(str(r[i])) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    lines = []
    for row in [HEADER, *rows]:
        lines.append("  ".join(str(cell).ljust(w) if i < 3 else str(cell).rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def markdown_table(rows) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * 3) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def target_lines(apps: list[str], results: dict) -> list[str]:
    """The ratios and figures the project's targets are stated in, from the medians."""
    lines = []

    def median(app, variant, scenario, what) -> Optional[float]:
        series = results.get((app, variant, scenario))
        return series.median(what) if series else None

    def mark(met: bool) -> str:
        return "met" if met else "NOT met"

    for app in ("flask_app", "django_app"):
        if app not in apps:
            continue
        for what, label in (("compile", "bin/compile"), ("build", "whole build")):
            pip_empty = median(app, "pip forced", EMPTY, what)
            for scenario, target in ((EMPTY, 0.5), (CHANGED, 0.3)):
                uv = median(app, "uv", scenario, what)
                if uv is None or not pip_empty:
                    continue
                ratio = uv / pip_empty
                lines.append(f"{app}, {label}: uv {scenario} / pip-forced empty cache = "
                             f"{uv:.2f} / {pip_empty:.2f} = {ratio:.2f} (target <= {target}): {mark(ratio <= target)}")
    if "flask_app" in apps:
        uv = median("flask_app", "uv", UNCHANGED, "compile")
        if uv is not None:
            lines.append(f"flask_app, bin/compile: uv unchanged rebuild = {uv:.2f} s (target < 0.5 s): {mark(uv < 0.5)}")
            whole = median("flask_app", "uv", UNCHANGED, "build")
            lines.append(f"  (the whole herokuish-style unchanged rebuild: {whole:.2f} s)")
    for app, variant in (("pipenv_app", "pipenv"), ("poetry_app", "poetry")):
        for what, label in (("compile", "bin/compile"), ("build", "whole build")):
            now, before = median(app, variant, EMPTY, what), median(app, BASELINE_LABEL, EMPTY, what)
            if now is None or not before:
                continue
            ratio = now / before
            lines.append(f"{app}, {label}: empty cache / the baseline's = {now:.2f} / {before:.2f} = "
                         f"{ratio:.2f} (target <= 0.6): {mark(ratio <= 0.6)}")
    return lines


def describe_source() -> str:
    def git(*args) -> str:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--", "bin", "lib", "vendor", "requirements")
    return f"{git('rev-parse', '--short', 'HEAD')}{' with uncommitted changes to the buildpack' if dirty else ''}"


def main() -> int:
    apps = os.environ.get("APPS", DEFAULT_APPS).split()
    repeat = int(os.environ.get("REPEAT", "3"))
    out = Path(os.environ.get("BENCH_OUT", DEFAULT_OUT))
    baseline = os.environ.get("BASELINE", DEFAULT_BASELINE).strip()
    unknown = [app for app in apps if not (FIXTURES / app).is_dir()]
    if unknown:
        raise SystemExit(f"no fixture app {', '.join(unknown)} in {FIXTURES}")
    rootfs = make_rootfs()
    archives = package_archives(stack_name())
    started = datetime.datetime.now().astimezone()
    context = (f"stack {stack_name()} ({stack_env.stack_kind()}), {repeat} runs each, {os.cpu_count()} CPUs, "
               f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the start, "
               f"buildpack {describe_source()}{f' (baseline {baseline})' if baseline else ''}, "
               f"{started:%Y-%m-%d %H:%M %Z}, host Python {platform.python_version()}")
    print(f"Build times and peak memory, {context}", flush=True)

    def log(line: str) -> None:
        print(line, flush=True)

    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="python-buildpack-bench-") as work:
        if baseline:
            SOURCES[BASELINE_LABEL] = export_baseline(baseline, Path(work) / "baseline")
        mirror = MirrorServer(archives, Path(work) / "mirrors")
        try:
            for run in range(repeat):
                log(f"Run {run + 1} of {repeat}")
                for app in apps:
                    app_variants = variants(app)
                    if run % 2:
                        app_variants.reverse()
                    for variant, config in app_variants:
                        bench_sequence(app, variant, config, rootfs, mirror, Path(work), results, log)
        finally:
            mirror.close()

    rows = table_rows(apps, results)
    targets = target_lines(apps, results)
    elapsed = datetime.datetime.now().astimezone() - started
    print()
    print("Median (min-max) seconds; peak RSS: the largest of the runs, the biggest single process of bin/compile's tree.")
    print(plain_table(rows))
    print()
    print("Targets (from this run's medians):")
    for line in targets:
        print(f"  {line}")
    markdown = "\n".join([
        f"Build times: {context}; the benchmark took {elapsed.total_seconds() / 60:.0f} minutes.",
        "",
        "Each time: the median of the runs, the range in brackets. *whole build*: a herokuish-style build "
        "(source copied in, detect, compile, release, build moved to /app); *bin/compile*: the compile step "
        "alone. *empty cache*: the first build; *unchanged*: a rebuild with nothing changed; *requirements "
        f"changed*: a rebuild after `{ADDED_REQUIREMENT}` was appended to requirements.txt. *pip forced*: "
        "`PYTHON_INSTALLER=pip`; *pipenv*: Pipfile.lock installed by uv (the default), *pipenv forced*: by "
        "`pipenv install --deploy` (`PYTHON_INSTALLER=pip`). *peak RSS*: the largest, over the runs, of the "
        "biggest single process in "
        "bin/compile's process tree (wait4's maxrss; uv's threads are one process).",
        "",
        markdown_table(rows),
        "",
        "Targets (from the medians above):",
        "",
        *[f"- {line.strip()}" for line in targets],
        "",
    ])
    out.write_text(markdown)
    print(f"\nMarkdown table written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
