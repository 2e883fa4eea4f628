from __future__ import annotations

import hashlib
import signal
import time

import pytest

from archives import fake_tar, python_archive
from http_server import ScriptedServer, trickle
from python_buildpack.python_version import RequestedVersion
from python_buildpack import archive, python_runtime
from python_buildpack.download import Timeouts
from python_buildpack.errors import BuildError
from python_buildpack.runtime_mirror import archive_name, mirror_from, parse_manifest
from python_buildpack.stack import Stack

STACK = Stack("heroku-24", "amd64")
FAST = Timeouts(connect=2, total=10, retries=0)
NAME = archive_name("3.12.1", STACK)


@pytest.fixture
def mirror_dir(tmp_path):
    directory = tmp_path / "mirror"
    directory.mkdir()
    (directory / NAME).write_bytes(python_archive())
    return directory


def install(tmp_path, mirror_dir, manifest=None, version="3.12.1", base_url=None, timeouts=FAST):
    python_dir = tmp_path / "build" / ".heroku" / "python"
    python_dir.parent.mkdir(parents=True, exist_ok=True)
    choice = python_runtime.PythonChoice(
        RequestedVersion(version, ".python-version"), version, mirror_from(base_url or mirror_dir.as_uri()), manifest)
    python_runtime.install(python_dir, choice, STACK, timeouts)
    return python_dir


@pytest.fixture
def server():
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


def manifest_for(mirror_dir, sha=None):
    sha = sha or hashlib.sha256((mirror_dir / NAME).read_bytes()).hexdigest()
    return parse_manifest(f"{sha}  {NAME}\n", "SHA256SUMS")


def test_installs_and_adds_bin_python(tmp_path, mirror_dir):
    python_dir = install(tmp_path, mirror_dir, manifest_for(mirror_dir))
    assert (python_dir / "bin" / "python3").is_file()
    assert (python_dir / "bin" / "python").resolve() == (python_dir / "bin" / "python3").resolve()
    assert [p.name for p in python_dir.parent.iterdir()] == ["python"]


def test_checksum_mismatch_installs_nothing(tmp_path, mirror_dir):
    with pytest.raises(BuildError) as error:
        install(tmp_path, mirror_dir, manifest_for(mirror_dir, sha="0" * 64))
    assert error.value.id == "runtime-mirror::checksum-mismatch"
    assert list((tmp_path / "build" / ".heroku").iterdir()) == []


def test_missing_version_lists_what_the_mirror_has(tmp_path, mirror_dir):
    with pytest.raises(BuildError) as error:
        install(tmp_path, mirror_dir, manifest_for(mirror_dir), version="3.12.9")
    assert (error.value.id, error.value.detail) == ("python-version::unknown-patch", "3.12.9")
    assert "Versions it has: 3.12.1" in error.value.body
    assert list((tmp_path / "build" / ".heroku").iterdir()) == []


def test_missing_version_without_manifest(tmp_path, mirror_dir):
    with pytest.raises(BuildError) as error:
        install(tmp_path, mirror_dir, version="3.12.9")
    assert error.value.id == "python-version::unknown-patch"
    assert "publishes no SHA256SUMS manifest, so its versions can't be listed" in error.value.body


def test_archive_without_python(tmp_path, mirror_dir):
    from archives import member, tar_zst

    (mirror_dir / NAME).write_bytes(tar_zst(member("README", data=b"hi")))
    with pytest.raises(BuildError) as error:
        install(tmp_path, mirror_dir)
    assert error.value.id == "runtime-mirror::invalid-archive" and "has no bin/python3" in error.value.body
    assert list((tmp_path / "build" / ".heroku").iterdir()) == []


def test_corrupt_archive(tmp_path, mirror_dir):
    (mirror_dir / NAME).write_bytes(b"\x00not an archive" * 100)
    with pytest.raises(BuildError) as error:
        install(tmp_path, mirror_dir)
    assert error.value.id == "runtime-mirror::invalid-archive" and "isn't a valid zstd archive" in error.value.body
    assert list((tmp_path / "build" / ".heroku").iterdir()) == []


def test_a_web_page_instead_of_the_archive(tmp_path, mirror_dir):
    (mirror_dir / NAME).write_bytes(b"<!DOCTYPE html>\n<html><body>Sign in to continue</body></html>\n" * 50)
    with pytest.raises(BuildError) as error:
        install(tmp_path, mirror_dir)
    assert (error.value.id, error.value.detail) == ("runtime-mirror::served-html", "the Python runtime archive")
    assert "Instead of the Python runtime archive" in error.value.body and "captive portal" in error.value.body
    assert list((tmp_path / "build" / ".heroku").iterdir()) == []


def test_a_full_disk_is_named_as_such(tmp_path, mirror_dir, monkeypatch):
    # A tar that starts writing, then finds the disk full (GNU tar's words).
    fake_tar(tmp_path, monkeypatch, "for a; do case $a in --directory=*) mkdir \"${a#*=}/bin\";; esac; done\n"
                                    "echo 'tar: bin/python3: Cannot write: No space left on device' >&2\nexit 2\n")
    with pytest.raises(BuildError) as error:
        install(tmp_path, mirror_dir)
    assert error.value.id == "install-python::disk-full"
    assert str(tmp_path / "build" / ".heroku") in error.value.body and "MB in all" in error.value.body
    assert "Rebuild the archive" not in error.value.body
    assert list((tmp_path / "build" / ".heroku").iterdir()) == []


def test_sigterm_during_a_trickling_download_stops_at_once_and_leaves_nothing(tmp_path, mirror_dir, server):
    # bin/compile turns SIGTERM into KeyboardInterrupt (cli.py); here SIGALRM does.
    server.route(f"/{NAME}", trickle(python_archive() * 20, interval=0.01))

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            install(tmp_path, mirror_dir, base_url=server.url(""), timeouts=Timeouts(connect=5, total=60))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 3
    assert list((tmp_path / "build" / ".heroku").iterdir()) == []


def test_check_available_uses_the_manifest(mirror_dir):
    mirror = mirror_from(mirror_dir.as_uri())
    python_runtime.check_available(RequestedVersion("3.12.1", ".python-version"), "3.12.1", STACK, mirror, manifest_for(mirror_dir))
    python_runtime.check_available(RequestedVersion("3.12.9", ".python-version"), "3.12.9", STACK, mirror, None)
    with pytest.raises(BuildError) as error:
        python_runtime.check_available(RequestedVersion("3.12", ".python-version"), "3.12.9", STACK, mirror, manifest_for(mirror_dir))
    assert (error.value.id, error.value.detail) == ("python-version::unknown-patch", "3.12.9")


def test_fetch_manifest(tmp_path, mirror_dir, capsys):
    mirror = mirror_from(mirror_dir.as_uri())
    assert python_runtime.fetch_manifest(mirror, FAST) is None
    assert "has no SHA256SUMS" in capsys.readouterr().out
    (mirror_dir / "SHA256SUMS").write_text(f"{'a' * 64}  {NAME}\n")
    assert python_runtime.fetch_manifest(mirror, FAST).versions_for(STACK) == ["3.12.1"]
    assert python_runtime.fetch_manifest(mirror_from(None), FAST) is None


@pytest.mark.parametrize("make, problem", [
    (lambda path: path.write_bytes(python_archive()), "is a file, not a directory"),
    (lambda path: None, "doesn't exist"),
])
def test_a_file_mirror_must_be_a_directory(tmp_path, make, problem):
    path = tmp_path / NAME
    make(path)
    with pytest.raises(BuildError) as error:
        python_runtime.fetch_manifest(mirror_from(path.as_uri()), FAST)
    assert error.value.id == "runtime-mirror::not-a-directory"
    assert problem in error.value.body


def test_a_web_page_instead_of_the_manifest(server):
    server.route("/python/SHA256SUMS", (200, b"\n<html><head><title>Wi-Fi login</title></head></html>"))
    with pytest.raises(BuildError) as error:
        python_runtime.fetch_manifest(mirror_from(server.url("/python")), FAST)
    assert (error.value.id, error.value.detail) == ("runtime-mirror::served-html", "the SHA256SUMS manifest")
    assert "Instead of the SHA256SUMS manifest" in error.value.body


def test_an_endless_manifest(server):
    server.route("/python/SHA256SUMS", (200, b"#" * (python_runtime.MANIFEST_LIMIT + 1)))
    with pytest.raises(BuildError) as error:
        python_runtime.fetch_manifest(mirror_from(server.url("/python")), FAST)
    assert error.value.id == "runtime-mirror::manifest-too-large"


@pytest.mark.parametrize("credentials, says", [
    ("deploy:s3cret@", "refused the user name and password (or token) in PYTHON_RUNTIME_BASE_URL"),
    ("", "requires a user name and password (or token), and the URL has none"),
])
def test_a_401_is_about_credentials_and_not_retried(server, credentials, says):
    server.route("/python/SHA256SUMS", (401, b"no"))
    url = server.url("/python").replace("http://", f"http://{credentials}")
    with pytest.raises(BuildError) as error:
        python_runtime.fetch_manifest(mirror_from(url), Timeouts(connect=2, total=10, retries=3, backoff=0.01))
    assert (error.value.id, error.value.detail) == ("runtime-mirror::auth-failed", "HTTP 401")
    assert says in error.value.body and "s3cret" not in str(error.value)
    assert "temporary" not in error.value.body and len(server.requests) == 1


def test_a_407_is_about_the_proxy(server):
    server.route("/python/SHA256SUMS", (407, b"no"))
    with pytest.raises(BuildError) as error:
        python_runtime.fetch_manifest(mirror_from(server.url("/python")), FAST)
    assert (error.value.id, error.value.detail) == ("runtime-mirror::proxy-auth-failed", "HTTP 407")


def test_a_final_failure_does_not_say_temporary(server):
    server.route("/python/SHA256SUMS", (400, b"bad"))
    with pytest.raises(BuildError) as error:
        python_runtime.fetch_manifest(mirror_from(server.url("/python")), FAST)
    assert (error.value.id, error.value.detail) == ("runtime-mirror::download-failed", "HTTP 400 Bad Request")
    assert "Retrying won't help" in error.value.body and "temporary" not in error.value.body


def test_unreachable_mirror_manifest():
    mirror = mirror_from("http://127.0.0.1:9/python")
    with pytest.raises(BuildError) as error:
        python_runtime.fetch_manifest(mirror, FAST)
    assert error.value.id == "runtime-mirror::download-failed"
    assert "http://127.0.0.1:9/python/SHA256SUMS" in error.value.body
