from __future__ import annotations

import socket

import pytest

from http_server import ScriptedServer, truncated
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


def test_a_stalled_server_times_out():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        timeouts = download.Timeouts(connect=0.3, total=5, retries=0)
        with pytest.raises(download.DownloadError, match="timed out"):
            download.fetch(f"http://127.0.0.1:{port}/f", collect, timeouts)


def test_file_urls(tmp_path):
    (tmp_path / "f").write_bytes(b"local")
    assert download.fetch((tmp_path / "f").as_uri(), collect, FAST) == b"local"
    with pytest.raises(download.NotFound):
        download.fetch((tmp_path / "missing").as_uri(), collect, FAST)


def test_fetch_text(server):
    server.route("/SHA256SUMS", (200, b"abc\n"))
    assert download.fetch_text(server.url("/SHA256SUMS"), FAST) == "abc\n"
    assert download.fetch_text(server.url("/missing"), FAST) is None


def test_timeouts_from_curl_variables(tmp_path):
    (tmp_path / "CURL_TIMEOUT").write_text("90\n")
    config = BuildConfig(tmp_path, {"CURL_CONNECT_TIMEOUT": "7", "CURL_TIMEOUT": "600"})
    assert download.Timeouts.from_config(config) == download.Timeouts(connect=7, total=90)
    assert download.Timeouts.from_config(BuildConfig(None, {"CURL_TIMEOUT": "soon"})).total == 300


def test_credentials_in_the_url_become_basic_auth(server):
    server.route("/f", (200, b"secret archive"))
    url = server.url("/f").replace("http://", "http://deploy:p%40ss@")
    assert download.fetch(url, collect, FAST) == b"secret archive"
    assert server.headers[0]["Authorization"] == "Basic ZGVwbG95OnBAc3M="  # deploy:p@ss


@pytest.mark.parametrize("url, expected", [
    ("https://user:token@mirror.example.com:8443/python", "https://****@mirror.example.com:8443/python"),
    ("https://token@mirror.example.com/python", "https://****@mirror.example.com/python"),
    ("https://mirror.example.com/python", "https://mirror.example.com/python"),
    ("file:///srv/python", "file:///srv/python"),
])
def test_urls_are_shown_without_credentials(url, expected):
    assert download.shown(url) == expected


def test_error_messages_hide_credentials():
    from python_buildpack import errors

    error = errors.runtime_download_failed("https://user:s3cret@mirror.example.com/p.tar.zst", "HTTP 500")
    assert "s3cret" not in str(error) and "https://****@mirror.example.com/p.tar.zst" in str(error)
