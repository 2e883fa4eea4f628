"""Runtime mirrors and settings as an attacker, a broken network or a full
disk make them: every build ends in exit status 1 with one clear error (or
succeeds), never a traceback, a hang or a printed secret, and the next
build with the same cache is correct.

Each case runs the real bin/compile in the stack environment, against a
mirror on a loopback address that misbehaves as told (HostileMirror), with
small CURL_* values so that every fault ends within seconds.
"""

from __future__ import annotations

import base64
import http.server
import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Optional

import pytest

from python_buildpack.report import REPORT_PATH
from stack_env import BUILD_UID, stack_kind
from test_builds import failed, no_secrets, ok

SECRET = "hunter2-S3cr3t"
CREDENTIALS = f"deploy:{SECRET}"
# What a server sees and could echo back: as secret as the password itself.
BASIC = base64.b64encode(CREDENTIALS.encode()).decode()

# A behaviour answers one request: behaviour(mirror, handler, file_name).
Behaviour = Callable[["HostileMirror", http.server.BaseHTTPRequestHandler, str], None]


class HostileMirror:
    """The test runtimes (archives and SHA256SUMS) under /python on `host`,
    served as the routes say: "SHA256SUMS" and "archive" each map to
    behaviours, one per request, the last repeating; the default serves the
    file."""

    def __init__(self, directory: Path, host: str = "127.0.0.1"):
        self.directory = directory
        self.host = host
        self.routes: dict[str, list[Behaviour]] = {}
        self.requests: list[str] = []
        self.authorizations: list[Optional[str]] = []
        self.trickling = threading.Event()  # set once a trickle has begun
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                mirror.requests.append(name)
                mirror.authorizations.append(self.headers.get("Authorization"))
                script = mirror.routes.get("archive" if name.endswith(".tar.zst") else name, [serve])
                behaviour = script.pop(0) if len(script) > 1 else script[0]
                try:
                    behaviour(mirror, self, name)
                except OSError:  # the build hung up, as it should when it gives up
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, credentials: str = "") -> str:
        at = f"{credentials}@" if credentials else ""
        return f"http://{at}{self.host}:{self.server.server_address[1]}/python"

    def file(self, name: str) -> Optional[bytes]:
        path = self.directory / name
        return path.read_bytes() if path.is_file() else None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _send(handler, status: int, body: bytes, length: Optional[int] = None, content_type: str = "") -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    if content_type:
        handler.send_header("Content-Type", content_type)
    handler.end_headers()
    handler.wfile.write(body)


def serve(mirror: HostileMirror, handler, name: str) -> None:
    data = mirror.file(name)
    _send(handler, 200 if data is not None else 404, data if data is not None else b"Not Found")


def status(code: int) -> Behaviour:
    return lambda mirror, handler, name: _send(handler, code, b"nope")


LOGIN_PAGE = b"""<!DOCTYPE html>
<html><head><title>Guest Wi-Fi</title></head>
<body><form action="/login">Sign in to continue</form></body></html>
"""


def html(mirror: HostileMirror, handler, name: str) -> None:
    _send(handler, 200, LOGIN_PAGE, content_type="text/html")


def trickle(interval: float = 0.2) -> Behaviour:
    """The real file, a byte every `interval` seconds: never silent long
    enough for a stall time-out."""

    def behaviour(mirror: HostileMirror, handler, name: str) -> None:
        data = mirror.file(name) or b""
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        mirror.trickling.set()
        for index in range(len(data)):
            handler.wfile.write(data[index:index + 1])
            handler.wfile.flush()
            time.sleep(interval)

    return behaviour


def stall(mirror: HostileMirror, handler, name: str) -> None:
    """Headers, then silence."""
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(mirror.file(name) or b"x")))
    handler.end_headers()
    handler.wfile.flush()
    time.sleep(20)
    handler.close_connection = True


def truncated(mirror: HostileMirror, handler, name: str) -> None:
    data = mirror.file(name) or b""
    _send(handler, 200, data[: len(data) // 2], length=len(data))
    handler.close_connection = True


def echo_authorization(code: int) -> Behaviour:
    """Sends the credentials it got back, in the reason phrase and the body."""

    def behaviour(mirror: HostileMirror, handler, name: str) -> None:
        secret = handler.headers.get("Authorization", "")
        handler.send_response(code, secret)
        handler.send_header("Content-Length", str(len(secret)))
        handler.end_headers()
        handler.wfile.write(secret.encode())

    return behaviour


def redirect_to(other: HostileMirror) -> Behaviour:
    def behaviour(mirror: HostileMirror, handler, name: str) -> None:
        handler.send_response(302)
        handler.send_header("Location", f"{other.url()}/{name}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return behaviour


@pytest.fixture
def hostile(runtime_archives):
    mirror = HostileMirror(runtime_archives.directory)
    yield mirror
    mirror.close()


@pytest.fixture
def attacker(herokuish, hostile):
    """herokuish, pointed at the hostile mirror with credentials, and with
    time-outs small enough for faults to end in seconds."""
    herokuish.config.update({
        "PYTHON_RUNTIME_BASE_URL": hostile.url(CREDENTIALS),
        "CURL_CONNECT_TIMEOUT": "2",
        "CURL_TIMEOUT": "6",
    })
    return herokuish


def cause(result) -> str:
    return next(line for line in result.stderr.splitlines() if "Cause:" in line).split("Cause: ", 1)[1]


def leftovers(stack, build_dir: str) -> list[str]:
    """Partial installs left in the build dir or the cache."""
    found = []
    for inside in (f"{build_dir}/.heroku", f"{stack.tmp_dir}/cache"):
        root = stack.host_path(inside)
        if root.is_dir():
            found += [str(path) for path in root.rglob(".python-partial-*")]
    return found


def next_build_is_correct(herokuish, fixture_app, mirror) -> None:
    """A normal build with the same cache succeeds, and its Python runs."""
    herokuish.config = {"PYTHON_RUNTIME_BASE_URL": mirror.url()}
    herokuish.stack = getattr(herokuish.stack, "stack", herokuish.stack)
    outcome = herokuish.build(fixture_app("minimal_app"))
    ok(outcome)
    assert leftovers(herokuish.stack, outcome.build_dir) == []
    result = herokuish.run_in_app("python -c 'import ssl, sqlite3, sys; print(sys.version_info[:2])'")
    assert (result.returncode, result.stdout) == (0, "(3, 12)\n"), result.output


# --- settings ----------------------------------------------------------------------

def test_a_malformed_mirror_url_fails_without_showing_the_password(herokuish, fixture_app, mirror):
    # One shape end to end: test_urls.py has each malformed shape, its reason
    # and the secret hidden in the error.
    herokuish.config["PYTHON_RUNTIME_BASE_URL"] = f"https://deploy:ab/{SECRET}@mirror.example.com/python"
    outcome = herokuish.build(fixture_app("minimal_app"))
    result = failed(outcome, "runtime-mirror::invalid-url")
    assert "a '/' must be percent-encoded (%2F)" in result.stderr
    no_secrets(outcome, SECRET, BASIC)
    next_build_is_correct(herokuish, fixture_app, mirror)


def test_unusable_curl_timeouts_warn_and_the_build_goes_on(herokuish, fixture_app, mirror):
    herokuish.env.update({"CURL_TIMEOUT": "inf", "CURL_CONNECT_TIMEOUT": "-3"})
    herokuish.config["CURL_CONNECT_TIMEOUT"] = "nan"
    result = ok(herokuish.build(fixture_app("minimal_app")))
    assert "Warning: CURL_TIMEOUT isn't a usable number of seconds." in result.stderr
    assert "Warning: CURL_CONNECT_TIMEOUT isn't a usable number of seconds." in result.stderr


# --- credentials -------------------------------------------------------------------

def test_credentials_stay_with_the_mirror_when_it_redirects_elsewhere(herokuish, fixture_app, runtime_archives):
    # The mirror wants credentials and sends the files from another host (a
    # CDN, or wherever an attacker who controls the redirect likes).
    elsewhere = HostileMirror(runtime_archives.directory, host="127.0.0.2")
    mirror = HostileMirror(runtime_archives.directory)
    try:
        mirror.routes = {"SHA256SUMS": [redirect_to(elsewhere)], "archive": [redirect_to(elsewhere)]}
        herokuish.config["PYTHON_RUNTIME_BASE_URL"] = mirror.url(CREDENTIALS)
        outcome = herokuish.build(fixture_app("minimal_app"))
        ok(outcome)
        no_secrets(outcome, SECRET, BASIC)
        assert mirror.authorizations == [f"Basic {BASIC}"] * 2
        assert elsewhere.requests == ["SHA256SUMS", mirror.requests[1]]
        assert elsewhere.authorizations == [None, None]
    finally:
        mirror.close()
        elsewhere.close()
    result = herokuish.run_in_app("python -c 'print(6 * 7)'")
    assert result.stdout == "42\n", result.output


def test_refused_credentials_are_said_to_be_the_problem(attacker, hostile, fixture_app, mirror):
    hostile.routes = {"SHA256SUMS": [status(401)]}
    outcome = attacker.build(fixture_app("minimal_app"))
    result = failed(outcome, "runtime-mirror::auth-failed")
    assert "Check the credentials in PYTHON_RUNTIME_BASE_URL" in result.stderr
    assert "temporary" not in result.stderr and hostile.requests == ["SHA256SUMS"]
    no_secrets(outcome, SECRET, BASIC)
    next_build_is_correct(attacker, fixture_app, mirror)


@pytest.mark.parametrize("code, error_id", [
    (500, "runtime-mirror::download-failed"),
    (200, "runtime-mirror::manifest-invalid"),
])
def test_a_mirror_that_echoes_the_credentials_back(attacker, hostile, fixture_app, code, error_id):
    hostile.routes = {"SHA256SUMS": [echo_authorization(code)]}
    attacker.config["CURL_TIMEOUT"] = "2"
    outcome = attacker.build(fixture_app("minimal_app"))
    result = failed(outcome, error_id)
    if code == 500:
        assert cause(result).startswith("HTTP 500 Internal Server Error")
    no_secrets(outcome, SECRET, BASIC)


# --- what the mirror sends ---------------------------------------------------------

def test_a_web_page_instead_of_the_runtime_archive(attacker, hostile, fixture_app):
    # A login page for the archive (test_python_runtime.py has the manifest's too).
    hostile.routes = {"SHA256SUMS": [status(404)], "archive": [html]}
    outcome = attacker.build(fixture_app("minimal_app"))
    result = failed(outcome, "runtime-mirror::served-html")
    assert outcome.report["error"]["detail"] == "the Python runtime archive" and "captive portal" in result.stderr
    assert not attacker.stack.host_path(f"{outcome.build_dir}/.heroku/python").exists()
    no_secrets(outcome, SECRET, BASIC)


# --- faults: slow, flaky and stalling mirrors, a killed build, a full disk ---------

def test_a_trickling_download_ends_at_curl_timeout(attacker, hostile, fixture_app, mirror):
    hostile.routes = {"archive": [trickle()]}
    attacker.config["CURL_TIMEOUT"] = "3"
    started = time.monotonic()
    outcome = attacker.build(fixture_app("minimal_app"))
    assert time.monotonic() - started < 20
    result = failed(outcome, "runtime-mirror::download-failed")
    assert cause(result) == "the download didn't finish within 3s (CURL_TIMEOUT, for all tries together)"
    assert [name for name in hostile.requests if name.endswith(".tar.zst")] == [hostile.requests[-1]]
    assert leftovers(attacker.stack, outcome.build_dir) == []
    no_secrets(outcome, SECRET, BASIC)
    next_build_is_correct(attacker, fixture_app, mirror)


def test_a_stalling_mirror_is_reported_as_a_stall(attacker, hostile, fixture_app):
    hostile.routes = {"archive": [stall]}
    attacker.config.update({"CURL_CONNECT_TIMEOUT": "1", "CURL_TIMEOUT": "4"})
    outcome = attacker.build(fixture_app("minimal_app"))
    result = failed(outcome, "runtime-mirror::download-failed")
    assert cause(result) == ("the download stalled: no data arrived for 1s (CURL_CONNECT_TIMEOUT); "
                             "no time was left to retry within 4s (CURL_TIMEOUT)")
    assert "retrying in 1s (1/3)" in result.stdout
    no_secrets(outcome, SECRET, BASIC)


def test_a_flaky_mirror_is_retried_until_it_works(attacker, hostile, fixture_app):
    hostile.routes = {"archive": [status(503), truncated, serve]}
    attacker.config["CURL_TIMEOUT"] = "30"
    outcome = attacker.build(fixture_app("minimal_app"))
    result = ok(outcome)
    assert "Download failed (HTTP 503 Service Unavailable); retrying in 1s (1/3)" in result.stdout
    assert ("Download failed (the connection closed before the download was complete); retrying in 2s (2/3)"
            in result.stdout)
    no_secrets(outcome, SECRET, BASIC)
    assert leftovers(attacker.stack, outcome.build_dir) == []


def _compile_process(marker: str) -> Optional[int]:
    """The host PID of the buildpack's Python whose environment has `marker`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() not in (entry / "environ").read_bytes():
                continue
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(arg.endswith(b"main.py") for arg in command) and b"compile" in command:
            return int(entry.name)
    return None


def test_sigterm_during_the_download_stops_the_build_at_once(attacker, hostile, fixture_app, mirror):
    hostile.routes = {"archive": [trickle()]}
    attacker.config["CURL_TIMEOUT"] = "60"
    marker = f"HOSTILE_MIRROR_TEST={uuid.uuid4()}"
    attacker.env[marker.split("=")[0]] = marker.split("=")[1]
    outcomes, finished = [], []

    def build() -> None:
        outcomes.append(attacker.build(fixture_app("minimal_app")))
        finished.append(time.monotonic())

    builder = threading.Thread(target=build, daemon=True)
    builder.start()
    assert hostile.trickling.wait(60), "the download never started"
    pid = _compile_process(marker)
    assert pid is not None, "bin/compile's process wasn't found"
    os.kill(pid, signal.SIGTERM)
    killed = time.monotonic()
    builder.join(30)
    assert finished, "the build didn't stop"
    assert finished[0] - killed < 3
    outcome = outcomes[0]
    failed(outcome, "build::interrupted")
    heroku_dir = attacker.stack.host_path(f"{outcome.build_dir}/.heroku")
    assert not (heroku_dir / "python").exists() and leftovers(attacker.stack, outcome.build_dir) == []
    no_secrets(outcome, SECRET, BASIC)
    del attacker.env[marker.split("=")[0]]
    next_build_is_correct(attacker, fixture_app, mirror)


class TmpfsForCompile:
    """The stack, with a small tmpfs mounted at `inside` while bin/compile
    runs (mounted as root in the command's own mount namespace, which
    ends with it; compile itself runs as the build user). The build report
    compile writes there is copied out onto the directory under it, where
    bin/report finds it."""

    def __init__(self, stack, inside: str, size: str):
        self.stack, self.inside, self.size = stack, inside, size

    def __getattr__(self, name):
        return getattr(self.stack, name)

    def command(self, args, env, user: bool = True):
        if not (user and args[0] == "bash" and "/bin/compile" in args[2]):
            return self.stack.command(args, env, user)
        uid = BUILD_UID
        report = f"{self.inside}/{REPORT_PATH.name}"
        script = (f"mkdir -p {self.inside} && mount -t tmpfs -o size={self.size},uid={uid},gid={uid} tmpfs "
                  f"{self.inside} || exit 1\n"
                  f'setpriv --reuid={uid} --regid={uid} --clear-groups "$@"\nstatus=$?\n'
                  f"saved=$(mktemp) && cp {report} $saved 2>/dev/null; umount {self.inside}\n"
                  f"[ -s $saved ] && cp $saved {report} && chown {uid}:{uid} {report}; rm -f $saved\n"
                  "exit $status\n")
        return self.stack.command(["bash", "-c", script, "compile-with-tmpfs", *args], env, user=False)


def test_a_full_disk_while_unpacking_python(attacker, hostile, fixture_app, stack, mirror):
    if stack_kind() == "native":
        pytest.skip("mounting a tmpfs needs the stand-in's own mount namespace")
    attacker.config["PYTHON_RUNTIME_BASE_URL"] = hostile.url()  # serves the files, quietly
    build_dir = f"{stack.tmp_dir}/build_{attacker.builds + 1}"
    attacker.stack = TmpfsForCompile(stack, f"{build_dir}/.heroku", "8m")
    outcome = attacker.build(fixture_app("minimal_app"))
    result = failed(outcome, "install-python::disk-full")
    assert f"    {build_dir}/.heroku\n" in result.stderr and "8 MB in all" in result.stderr
    assert "Rebuild the archive" not in result.stderr
    next_build_is_correct(attacker, fixture_app, mirror)
