from __future__ import annotations

import base64
import os
import socket
import time

import pytest

from http_server import (
    ScriptedServer, echo_authorization, redirect, stall, trickle, trickled_headers, truncated,
)
from python_buildpack import download
from python_buildpack.config_vars import BuildConfig

FAST = download.Timeouts(connect=5, total=30, retries=2, backoff=0.01)


@pytest.fixture
def server():
    scripted = ScriptedServer()
    yield scripted
    scripted.close()


def collect(chunks):
    return b"".join(chunks)


def test_downloads(server):
    server.route("/f", (200, b"hello" * 100000))
    assert download.fetch(server.url("/f"), collect, FAST) == b"hello" * 100000


@pytest.mark.parametrize("status", [403, 404, 410])
def test_not_found_is_not_retried(server, status):
    server.route("/f", (status, b"no"))
    with pytest.raises(download.NotFound) as error:
        download.fetch(server.url("/f"), collect, FAST)
    assert f"HTTP {status}" in error.value.cause
    assert server.requests == ["/f"]


def test_server_errors_are_retried(server, capsys):
    server.route("/f", (503, b"busy"), (500, b"oops"), (200, b"ok"))
    assert download.fetch(server.url("/f"), collect, FAST) == b"ok"
    assert len(server.requests) == 3
    assert "retrying" in capsys.readouterr().out


def test_gives_up_after_the_retries(server):
    server.route("/f", (502, b"bad gateway"))
    with pytest.raises(download.DownloadError) as error:
        download.fetch(server.url("/f"), collect, FAST)
    assert error.value.cause == "HTTP 502 Bad Gateway"
    assert len(server.requests) == 3


def test_client_errors_are_not_retried(server):
    server.route("/f", (400, b"bad"))
    with pytest.raises(download.DownloadError) as error:
        download.fetch(server.url("/f"), collect, FAST)
    assert not isinstance(error.value, download.NotFound)
    assert len(server.requests) == 1


def test_a_truncated_transfer_is_retried_from_the_start(server):
    server.route("/f", truncated(b"partial"), (200, b"complete"))
    seen = []

    def consume(chunks):
        data = collect(chunks)
        seen.append(data)
        return data

    assert download.fetch(server.url("/f"), consume, FAST) == b"complete"


def test_connection_refused():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(download.DownloadError) as error:
        download.fetch(f"http://127.0.0.1:{port}/f", collect, FAST)
    assert error.value.cause == "connection refused"


def test_a_server_that_never_answers_is_a_stall_not_a_connect_timeout():
    # The kernel accepts the connection; nobody ever answers.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        timeouts = download.Timeouts(connect=0.3, total=5, retries=0)
        with pytest.raises(download.DownloadError) as error:
            download.fetch(f"http://127.0.0.1:{port}/f", collect, timeouts)
    assert error.value.cause == "the download stalled: no data arrived for 0.3s (CURL_CONNECT_TIMEOUT)"


def test_a_body_that_stops_is_a_stall(server):
    server.route("/f", stall(3))
    with pytest.raises(download.DownloadError) as error:
        download.fetch(server.url("/f"), collect, download.Timeouts(connect=0.3, total=10, retries=0))
    assert "stalled: no data arrived for 0.3s" in error.value.cause and error.value.transient


def test_a_connect_timeout_is_named_as_such(server, monkeypatch):
    def slow_connect(*args, **kwargs):
        raise socket.timeout("timed out")

    monkeypatch.setattr(socket, "create_connection", slow_connect)
    with pytest.raises(download.DownloadError) as error:
        download.fetch(server.url("/f"), collect, download.Timeouts(connect=2, total=10, retries=0))
    assert error.value.cause == "couldn't connect within 2s (CURL_CONNECT_TIMEOUT)"


def test_a_name_lookup_is_bounded_by_the_connect_timeout(server, monkeypatch):
    # getaddrinfo takes no timeout: a dead DNS server's retries take tens of seconds.
    real_lookup = socket.getaddrinfo

    def slow_lookup(host, *args, **kwargs):
        if host == "slow.example":
            time.sleep(3)
        return real_lookup("127.0.0.1" if host.endswith(".example") else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_lookup)
    port = server.url("/f").split(":")[2].split("/")[0]
    started = time.monotonic()
    with pytest.raises(download.DownloadError) as error:
        download.fetch(f"http://slow.example:{port}/f", collect, download.Timeouts(connect=0.3, total=10, retries=0))
    assert time.monotonic() - started < 1.5
    assert error.value.cause == "couldn't look the host's name up within 0.3s (CURL_CONNECT_TIMEOUT)"
    # A lookup in time connects to what it found.
    server.route("/f", (200, b"found"))
    assert download.fetch(f"http://fast.example:{port}/f", collect, FAST) == b"found"


@pytest.mark.parametrize("response", [trickle(b"x" * 100_000), trickled_headers()], ids=["body", "headers"])
def test_a_trickle_is_bounded_by_curl_timeout(server, response):
    # A byte every 50 ms never trips the 1 s stall time-out: CURL_TIMEOUT must.
    server.route("/f", response)
    started = time.monotonic()
    with pytest.raises(download.DownloadError) as error:
        download.fetch(server.url("/f"), collect, download.Timeouts(connect=1, total=1.5, retries=3, backoff=0.01))
    assert time.monotonic() - started < 3
    assert error.value.cause == "the download didn't finish within 1.5s (CURL_TIMEOUT, for all tries together)"
    assert not error.value.transient and len(server.requests) == 1


def test_retries_share_one_deadline(server, capsys):
    server.route("/f", (503, b"busy"))
    started = time.monotonic()
    with pytest.raises(download.DownloadError) as error:
        download.fetch(server.url("/f"), collect, download.Timeouts(connect=1, total=1.2, retries=5, backoff=0.4))
    # Tries at 0 and 0.4 s; the next, at 1.2 s, would be too late.
    assert time.monotonic() - started < 1.2
    assert len(server.requests) == 2
    assert error.value.cause == "HTTP 503 Service Unavailable; no time was left to retry within 1.2s (CURL_TIMEOUT)"


def test_file_urls(tmp_path):
    (tmp_path / "f").write_bytes(b"local")
    assert download.fetch((tmp_path / "f").as_uri(), collect, FAST) == b"local"
    with pytest.raises(download.NotFound):
        download.fetch((tmp_path / "missing").as_uri(), collect, FAST)


def test_local_files_that_cant_be_read_fail_at_once(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    os.mkfifo(tmp_path / "fifo")
    sleeps = []
    for path, cause in [(tmp_path / "file" / "SHA256SUMS", "a part of the path isn't a directory"),
                        (tmp_path, "not a regular file"), (tmp_path / "fifo", "not a regular file")]:
        with pytest.raises(download.DownloadError) as error:
            download.fetch(path.as_uri(), collect, FAST, sleep=sleeps.append)
        assert error.value.cause == cause and not error.value.transient
    assert sleeps == []


def test_fetch_text(server):
    server.route("/SHA256SUMS", (200, b"abc\n"))
    assert download.fetch_text(server.url("/SHA256SUMS"), FAST) == "abc\n"
    assert download.fetch_text(server.url("/missing"), FAST) is None


def test_fetch_text_refuses_an_endless_answer(server):
    server.route("/SHA256SUMS", (200, b"0" * 300_000))
    with pytest.raises(download.TooLarge):
        download.fetch_text(server.url("/SHA256SUMS"), FAST, limit=100_000)
    assert len(server.requests) == 1


def test_timeouts_from_curl_variables(tmp_path, capsys):
    (tmp_path / "CURL_TIMEOUT").write_text("90\n")
    config = BuildConfig(tmp_path, {"CURL_CONNECT_TIMEOUT": "7", "CURL_TIMEOUT": "600"})
    assert download.Timeouts.from_config(config) == download.Timeouts(connect=7, total=90)
    assert download.Timeouts.from_config(BuildConfig(None, {"CURL_CONNECT_TIMEOUT": " 2.5 "})).connect == 2.5
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "abc", "-1", "0", "0.0", "1e3", "10s", "0x10", "١٢"])
def test_unusable_curl_timeouts_warn_and_use_the_default(value, capsys):
    config = BuildConfig(None, {"CURL_TIMEOUT": value, "CURL_CONNECT_TIMEOUT": value})
    assert download.Timeouts.from_config(config) == download.Timeouts()
    err = capsys.readouterr().err
    assert "Warning: CURL_TIMEOUT isn't a usable number of seconds." in err
    assert "The build uses the default, 300 seconds." in err
    assert "Warning: CURL_CONNECT_TIMEOUT isn't a usable number of seconds." in err


def test_huge_curl_timeouts_are_capped(capsys):
    config = BuildConfig(None, {"CURL_TIMEOUT": "9" * 400, "CURL_CONNECT_TIMEOUT": "4000"})
    assert download.Timeouts.from_config(config) == download.Timeouts(connect=3600, total=3600)
    assert capsys.readouterr().err.count("is more than 3600 seconds.") == 2


def test_credentials_in_the_url_become_basic_auth(server):
    server.route("/f", (200, b"secret archive"))
    url = server.url("/f").replace("http://", "http://deploy:p%40ss@")
    assert download.fetch(url, collect, FAST) == b"secret archive"
    assert server.headers[0]["Authorization"] == "Basic ZGVwbG95OnBAc3M="  # deploy:p@ss


def with_credentials(url: str, credentials: str = "deploy:s3cret") -> str:
    return url.replace("http://", f"http://{credentials}@")


BASIC = "Basic " + base64.b64encode(b"deploy:s3cret").decode()


@pytest.fixture
def other_host():
    # Another loopback address is another host, as far as credentials go.
    scripted = ScriptedServer("127.0.0.2")
    yield scripted
    scripted.close()


def test_credentials_follow_a_redirect_on_the_same_host(server):
    server.route("/f", redirect("/elsewhere/f"))
    server.route("/elsewhere/f", (200, b"ok"))
    assert download.fetch(with_credentials(server.url("/f")), collect, FAST) == b"ok"
    assert [h.get("Authorization") for h in server.headers] == [BASIC, BASIC]


def test_credentials_never_follow_a_redirect_to_another_host(server, other_host):
    other_host.route("/f", (200, b"from the CDN"))
    server.route("/f", redirect(other_host.url("/f")))
    assert download.fetch(with_credentials(server.url("/f")), collect, FAST) == b"from the CDN"
    assert server.headers[0]["Authorization"] == BASIC
    assert "Authorization" not in other_host.headers[0]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_every_kind_of_redirect_is_followed(server, status):
    server.route("/f", redirect("/g", status=status))
    server.route("/g", (200, b"ok"))
    assert download.fetch(server.url("/f"), collect, FAST) == b"ok"


def test_credentials_never_follow_a_redirect_to_another_port(server):
    port_b = ScriptedServer()
    try:
        port_b.route("/f", (200, b"ok"))
        server.route("/f", redirect(port_b.url("/f"), status=301))
        assert download.fetch(with_credentials(server.url("/f")), collect, FAST) == b"ok"
        assert "Authorization" not in port_b.headers[0]
    finally:
        port_b.close()


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/f", "http://u:p@127.0.0.2/f"])
def test_redirects_to_other_kinds_of_url_are_refused(server, location):
    server.route("/f", redirect(location))
    with pytest.raises(download.DownloadError) as error:
        download.fetch(server.url("/f"), collect, FAST)
    assert error.value.cause == "the server redirected to a URL that isn't plain http(s)"
    assert not error.value.transient and len(server.requests) == 1


def test_a_redirect_loop_is_not_retried(server):
    server.route("/f", redirect("/f"))
    with pytest.raises(download.DownloadError) as error:
        download.fetch(server.url("/f"), collect, FAST)
    assert error.value.cause == "a redirect that can't be followed: a loop, or no target (HTTP 302 Found)"
    assert not error.value.transient


@pytest.mark.parametrize("status", [401, 407])
def test_authentication_failures_are_not_retried(server, status):
    server.route("/f", (status, b"who are you?"))
    with pytest.raises(download.AuthenticationFailed) as error:
        download.fetch(with_credentials(server.url("/f")), collect, FAST)
    assert error.value.code == status and not error.value.transient
    assert len(server.requests) == 1


@pytest.mark.parametrize("raw", [False, True], ids=["reason phrase", "status line"])
def test_what_the_server_sends_back_is_never_in_the_cause(server, raw):
    server.route("/f", echo_authorization(raw=raw))
    with pytest.raises(download.DownloadError) as error:
        download.fetch(with_credentials(server.url("/f")), collect, FAST)
    assert "Basic" not in error.value.cause and BASIC.split()[1] not in error.value.cause
    assert error.value.cause == ("the server's answer isn't valid HTTP" if raw else "HTTP 500 Internal Server Error")


@pytest.mark.parametrize("data, html", [
    (b"<!DOCTYPE html><html><body>Sign in</body></html>", True),
    (b"\xef\xbb\xbf\n  <HTML lang=en>", True),
    (b"<!-- portal -->\n<head><title>Wi-Fi</title>", True),
    (b"<?xml version='1.0'?>\n<html xmlns='http://www.w3.org/1999/xhtml'>", True),
    (b"\x28\xb5\x2f\xfd" + b"<html>", False),
    (b"a" * 64 + b"  python-3.12.1-ubuntu-24.04-amd64.tar.zst\n", False),
    (b"<htmlish", False),
])
def test_looks_like_html(data, html):
    assert download.looks_like_html(data) is html


def test_error_messages_hide_credentials():
    from python_buildpack import errors

    error = errors.runtime_download_failed("https://user:s3cret@mirror.example.com/p.tar.zst", "HTTP 500")
    assert "s3cret" not in str(error) and "https://****@mirror.example.com/p.tar.zst" in str(error)
