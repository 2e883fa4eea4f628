"""Running the buildpack like herokuish does, inside the stack environment.

Two kinds of stack environment:

- `ChrootStack` (this machine, CI: no Docker engine): the Debian stand-in
  rootfs of test/stack/make-rootfs. Every command runs in new mount and PID
  namespaces (unshare), chrooted, as the unprivileged herokuish user, with
  its own /tmp and /app bound from the test's directory, /proc mounted and
  /dev bound. The namespaces die with the command, so nothing leaks.
- `NativeStack` (inside heroku/heroku:NN-build via Dockerfile.test): the
  same, run directly in the container's own /tmp and /app.

`HerokuishBuild` follows herokuish's `/build`: the app's source in /app,
copied to the build dir, detect, compile, release, the build moved into
/app; and its `/start`: .profile.d sourced under `set -eo pipefail`, the
Procfile command run without a shell, with PORT set.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

import requests

BUILD_UID = 32767
REPO = Path(__file__).resolve().parents[2]
BUILDPACK_PARTS = ("bin", "lib", "vendor", "requirements")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The proxy CA bundle and its variables, so pip inside can reach the index.
PASSED_THROUGH = (
    "SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "http_proxy", "https_proxy",
    "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
)
HOST_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/ssl/certs/ca-certificates.crt")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class ChrootStack:
    kind = "Debian stand-in rootfs (chroot)"
    tmp_dir = "/tmp"  # the build's scratch space, as seen inside

    def __init__(self, rootfs: Path, workdir: Path):
        self.rootfs = rootfs
        self.tmp = workdir / "tmp"
        self.app = workdir / "app"
        for path in (self.tmp, self.app):
            path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.tmp, 0o1777)
        os.chown(self.app, BUILD_UID, BUILD_UID)
        # Host directories bound over paths inside, in every command: a test's
        # own file system (a small tmpfs) as the cache. {inside: host path}
        self.extra_mounts: dict[str, Path] = {}

    def host_path(self, inside: str) -> Path:
        """The host path of a path under /tmp or /app inside the stack."""
        for prefix, host in (("/tmp", self.tmp), ("/app", self.app)):
            if inside == prefix or inside.startswith(prefix + "/"):
                return host / inside[len(prefix) + 1:]
        raise ValueError(inside)

    def command(self, args: Sequence[str], env: Mapping[str, str], user: bool = True) -> list[str]:
        extra = "".join(f'mount --bind {host} "$r{inside}"\n' for inside, host in self.extra_mounts.items())
        mounts = f"""
set -e
r="$1"; shift
mount --rbind /dev "$r/dev"
mount -t proc proc "$r/proc"
mount --bind {self.tmp} "$r/tmp"
mount --bind {self.app} "$r/app"
{extra}for f in {' '.join(HOST_FILES)}; do
  if [ -e "$f" ] && [ -e "$r$f" ]; then mount --bind "$f" "$r$f"; fi
done
exec chroot {'--userspec=%d:%d' % (BUILD_UID, BUILD_UID) if user else ''} "$r" "$@"
"""
        env_args = [f"{k}={v}" for k, v in env.items()]
        return [
            "unshare", "--mount", "--pid", "--fork", "--kill-child", "--propagation", "private",
            "bash", "-c", mounts, "stack", str(self.rootfs),
            "/usr/bin/env", "-i", *env_args, *args,
        ]


class NativeStack:
    """Runs directly in a stack container: one test at a time (one /app)."""

    kind = "this container (heroku/heroku build image)"

    def __init__(self, workdir: Path):
        self.tmp = workdir / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        os.chmod(self.tmp, 0o1777)
        self.tmp_dir = str(self.tmp)
        self.app = Path("/app")
        for child in list(self.app.glob("*")) + list(self.app.glob(".*")):
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        os.chown(self.app, BUILD_UID, BUILD_UID)

    def host_path(self, inside: str) -> Path:
        if inside == "/app" or inside.startswith("/app/") or inside.startswith(self.tmp_dir):
            return Path(inside)
        raise ValueError(inside)

    def command(self, args: Sequence[str], env: Mapping[str, str], user: bool = True) -> list[str]:
        drop = ["setpriv", f"--reuid={BUILD_UID}", f"--regid={BUILD_UID}", "--clear-groups"] if user else []
        return [*drop, "/usr/bin/env", "-i", *[f"{k}={v}" for k, v in env.items()], *args]


def stack_name() -> str:
    """The stack the suite builds for (TEST_STACK, default heroku-24)."""
    return os.environ.get("TEST_STACK", "heroku-24")


def stack_kind() -> str:
    """`chroot` (the Debian stand-in, default) or `native` (a stack container)."""
    return os.environ.get("TEST_STACK_ENV", "chroot")


def make_rootfs(verbose: bool = False, stack: Optional[str] = None) -> Optional[Path]:
    """The stack's stand-in rootfs (made once per machine), or None in a container.

    `verbose` lets make-rootfs's progress lines through (the first time
    takes minutes); otherwise they are kept for the error message.
    """
    if stack_kind() == "native":
        return None
    stack = stack or stack_name()
    result = subprocess.run([str(REPO / "test" / "stack" / "make-rootfs"), stack],
                            stdout=subprocess.PIPE, stderr=None if verbose else subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"Unable to make the {stack} stand-in rootfs:\n{result.stderr or ''}")
    return Path(result.stdout.strip().splitlines()[-1])


def make_stack(rootfs: Optional[Path], workdir: Path):
    return NativeStack(workdir) if rootfs is None else ChrootStack(rootfs, workdir)


def run(stack, args: Sequence[str], env: Mapping[str, str], user: bool = True, timeout: float = 600) -> Result:
    completed = subprocess.run(
        stack.command(args, env, user), capture_output=True, text=True, timeout=timeout
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def chown_tree(path: Path) -> None:
    subprocess.run(["chown", "-R", f"{BUILD_UID}:{BUILD_UID}", str(path)], check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class BuildOutcome:
    detect: Result
    compile: Optional[Result] = None
    release: Optional[Result] = None
    later_buildpack: Optional[Result] = None
    build_dir: str = ""
    # bin/report, run after compile as Heroku's build system does, and its JSON.
    report_result: Optional[Result] = None
    report: Optional[dict] = None

    @property
    def ok(self) -> bool:
        return all(r is not None and r.returncode == 0 for r in (self.detect, self.compile, self.release))


@dataclass
class HerokuishBuild:
    """Builds of one app in one stack environment, sharing one cache."""

    stack: object
    stack_name: str
    config: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    builds: int = 0
    # herokuish makes /app the build user's; some builders leave it root's.
    app_writable: bool = True
    # The buildpack's checkout (the benchmark builds an older commit's too).
    buildpack_source: Path = REPO

    def base_env(self) -> dict[str, str]:
        env = {
            "HOME": "/app",
            "PATH": SYSTEM_PATH,
            "STACK": self.stack_name,
            "USER": "herokuishuser",
            "CURL_CONNECT_TIMEOUT": "30",
            "CURL_TIMEOUT": "180",
            "NO_COLOR": "1",
        }
        env.update({k: os.environ[k] for k in PASSED_THROUGH if k in os.environ})
        env.update(self.env)
        return env

    def install_buildpack(self) -> str:
        inside = f"{self.stack.tmp_dir}/buildpack"
        target = self.stack.host_path(inside)
        if not target.exists():
            target.mkdir()
            for part in BUILDPACK_PARTS:
                if (self.buildpack_source / part).exists():
                    shutil.copytree(self.buildpack_source / part, target / part,
                                    ignore=shutil.ignore_patterns("__pycache__"))
            chown_tree(target)
        return inside

    def write_env_dir(self) -> str:
        inside = f"{self.stack.tmp_dir}/env"
        env_dir = self.stack.host_path(inside)
        shutil.rmtree(env_dir, ignore_errors=True)
        env_dir.mkdir()
        for name, value in self.config.items():
            (env_dir / name).write_text(value)
        chown_tree(env_dir)
        return inside

    def build(self, source: Path, later_buildpack: Optional[str] = None, compile_script: str = "compile") -> BuildOutcome:
        """One herokuish build of `source`; on success the slug is in /app.

        `later_buildpack` is a bash script run after compile in the build
        dir, the way a next buildpack runs: after sourcing this one's export
        file under `set -e` (as heroku-buildpack-multi does).
        """
        self.builds += 1
        buildpack = self.install_buildpack()
        env_dir = self.write_env_dir()
        build_dir = f"{self.stack.tmp_dir}/build_{self.builds}"
        cache_dir = f"{self.stack.tmp_dir}/cache"
        self.stack.host_path(cache_dir).mkdir(exist_ok=True)
        chown_tree(self.stack.host_path(cache_dir))
        # herokuish: /app holds the source; it is copied to the build dir.
        app = self.stack.host_path("/app")
        _empty(app)
        shutil.copytree(source, app, dirs_exist_ok=True, symlinks=True)
        host_build = self.stack.host_path(build_dir)
        shutil.copytree(app, host_build, symlinks=True)
        if self.app_writable:
            chown_tree(app)
        else:
            os.chown(app, 0, 0)
            os.chmod(app, 0o755)
        chown_tree(host_build)
        # A buildpack dir reused between builds keeps no stale export file.
        self.stack.host_path(f"{buildpack}/export").unlink(missing_ok=True)

        env = self.base_env()
        outcome = BuildOutcome(detect=run(self.stack, [f"{buildpack}/bin/detect", build_dir], env),
                               build_dir=build_dir)
        if outcome.detect.returncode != 0:
            return outcome
        outcome.compile = run(
            self.stack, ["bash", "-c", f'cd {build_dir} && exec {buildpack}/bin/{compile_script} "$@"', "compile",
                         build_dir, cache_dir, env_dir], env,
        )
        outcome.report_result = run(self.stack, [f"{buildpack}/bin/report", build_dir, cache_dir, env_dir], env)
        assert outcome.report_result.returncode == 0, outcome.report_result.output
        outcome.report = json.loads(outcome.report_result.stdout)
        if outcome.compile.returncode != 0:
            return outcome
        if later_buildpack is not None:
            script = f"set -e; source {buildpack}/export; cd {build_dir}; {later_buildpack}"
            outcome.later_buildpack = run(self.stack, ["bash", "-c", script], env)
        outcome.release = run(self.stack, [f"{buildpack}/bin/release", build_dir, cache_dir], env)
        if outcome.release.returncode != 0:
            return outcome
        (host_build / ".release").write_text(outcome.release.stdout)
        _write_default_process_types(host_build, outcome.release.stdout)
        # herokuish: rm -rf /app/* (dotglob), mv /tmp/build/* /app.
        _empty(app)
        for child in host_build.iterdir():
            shutil.move(str(child), str(app / child.name))
        return outcome

    def test(self, source: Path) -> tuple[BuildOutcome, Optional[Result]]:
        """herokuish `buildpack test`: test-compile, then bin/test in /app."""
        outcome = self.build(source, compile_script="test-compile")
        if not outcome.ok:
            return outcome, None
        return outcome, self.run_in_app(f"{self.stack.tmp_dir}/buildpack/bin/test /app {self.stack.tmp_dir}/env")

    def run_in_app(self, script: str, extra_env: Optional[Mapping[str, str]] = None) -> Result:
        """A bash script in /app with .profile.d sourced, as at dyno start."""
        env = {**self.base_env(), **(extra_env or {})}
        return run(self.stack, ["bash", "-c", _PROFILE + script], env)

    def fetch(self, path: str = "/", process_type: str = "web") -> requests.Response:
        """Start the process as herokuish would, GET `path` from it, stop it."""
        process = self.start(process_type)
        try:
            return process.get(path)
        finally:
            process.stop()

    def start(self, process_type: str = "web") -> "RunningProcess":
        port = free_port()
        env = {**self.base_env(), "PORT": str(port), "DYNO": f"{process_type}.1"}
        command = self.stack.command(["bash", "-c", _PROFILE + _START, "start", process_type], env)
        log = self.stack.host_path(f"{self.stack.tmp_dir}/{process_type}.log")
        handle = open(log, "w")
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        return RunningProcess(process, port, log, handle)


# herokuish's `procfile exec`: profile scripts sourced under set -eo pipefail.
_PROFILE = """
set -eo pipefail
cd /app
for file in /app/.profile.d/*.sh; do
  [ -e "$file" ] && source "$file"
done
hash -r
"""
# herokuish's `procfile start`: no shell, just variable expansion.
_START = """
command=$(sed -n "s/^$1:[[:space:]]*//p" /app/Procfile | head -n 1)
[ -n "$command" ] || { echo "Proc entrypoint $1 does not exist" >&2; exit 1; }
exec $(eval echo "$command")
"""


@dataclass
class RunningProcess:
    process: subprocess.Popen
    port: int
    log: Path
    handle: object

    def get(self, path: str = "/", timeout: float = 60) -> requests.Response:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"the process exited ({self.process.returncode}):\n{self.log.read_text()}")
            try:
                return requests.get(f"http://127.0.0.1:{self.port}{path}", timeout=10)
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"nothing answered on port {self.port}:\n{self.log.read_text()}")
                time.sleep(0.2)

    def stop(self) -> None:
        # The process may be PID 1 of its namespace, which ignores SIGTERM.
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.handle.close()


def _write_default_process_types(build: Path, release: str) -> None:
    """herokuish: without a Procfile, release's default_process_types become one."""
    if (build / "Procfile").exists():
        return
    lines = release.splitlines()
    if "default_process_types:" not in lines:
        return
    types = []
    for line in lines[lines.index("default_process_types:") + 1:]:
        if not line.startswith("  "):
            break
        types.append(line.strip())
    (build / "Procfile").write_text("".join(f"{entry}\n" for entry in types))


def _empty(directory: Path) -> None:
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
