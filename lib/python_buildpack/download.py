"""HTTP(S) and file:// downloads with timeouts, retries and backoff.

Timeouts follow curl's variables, which Heroku, herokuish and dokku set:
CURL_CONNECT_TIMEOUT (seconds to connect, and the longest a read may stall)
and CURL_TIMEOUT (seconds for the whole transfer).
"""

from __future__ import annotations

import base64
import http.client
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, TypeVar

from . import output
from .config_vars import BuildConfig

T = TypeVar("T")

_CHUNK = 256 * 1024
_USER_AGENT = "python-buildpack (+https://devcenter.heroku.com/articles/buildpack-api)"
_NOT_FOUND = (403, 404, 410)


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    total: float = 300.0
    retries: int = 3
    backoff: float = 1.0

    @classmethod
    def from_config(cls, config: BuildConfig) -> "Timeouts":
        return cls(
            connect=config.seconds("CURL_CONNECT_TIMEOUT", cls.connect),
            total=config.seconds("CURL_TIMEOUT", cls.total),
        )


class DownloadError(Exception):
    """The transfer failed; `cause` says why in a few words."""

    def __init__(self, url: str, cause: str, transient: bool = True):
        super().__init__(cause)
        self.url = url
        self.cause = cause
        self.transient = transient


class NotFound(DownloadError):
    """The server says the file doesn't exist (404, 410, or S3's 403)."""

    def __init__(self, url: str, cause: str):
        super().__init__(url, cause, transient=False)


def fetch(
    url: str,
    consume: Callable[[Iterator[bytes]], T],
    timeouts: Timeouts,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Stream `url` into `consume`, retrying transient failures.

    `consume` gets an iterator of chunks and must start afresh on each call:
    a retry replays the whole download.
    """
    attempts = timeouts.retries + 1
    for attempt in range(1, attempts + 1):
        try:
            return _fetch_once(url, consume, timeouts)
        except DownloadError as error:
            if not error.transient or attempt == attempts:
                raise
            delay = timeouts.backoff * 2 ** (attempt - 1)
            output.info(f"Download failed ({error.cause}); retrying in {delay:g}s ({attempt}/{attempts - 1})")
            sleep(delay)
    raise AssertionError("unreachable")


def fetch_text(url: str, timeouts: Timeouts) -> Optional[str]:
    """A small text file, or None when the server says it doesn't exist."""
    try:
        data = fetch(url, lambda chunks: b"".join(chunks), timeouts)
    except NotFound:
        return None
    return data.decode("utf-8", errors="replace")


def shown(url: str) -> str:
    """The URL as the build log may show it: without a password or token."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"****@{host}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _request(url: str) -> urllib.request.Request:
    """A GET request; credentials in the URL become a Basic auth header."""
    headers = {"User-Agent": _USER_AGENT}
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return urllib.request.Request(url, headers=headers)


def _fetch_once(url: str, consume: Callable[[Iterator[bytes]], T], timeouts: Timeouts) -> T:
    deadline = time.monotonic() + timeouts.total
    request = _request(url)
    try:
        response = urllib.request.urlopen(request, timeout=min(timeouts.connect, timeouts.total))
    except urllib.error.HTTPError as error:
        error.close()
        raise _http_error(url, error.code, error.reason) from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, FileNotFoundError):
            raise NotFound(url, "no such file") from None
        raise DownloadError(url, _describe(reason)) from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise DownloadError(url, _describe(error)) from None
    with response:
        return consume(_chunks(url, response, deadline, timeouts.total))


def _chunks(url: str, response, deadline: float, total: float) -> Iterator[bytes]:
    expected = response.headers.get("Content-Length")
    received = 0
    while True:
        if time.monotonic() > deadline:
            raise DownloadError(url, f"the download took longer than {total:g}s (CURL_TIMEOUT)")
        try:
            chunk = response.read(_CHUNK)
        except (OSError, http.client.HTTPException) as error:
            raise DownloadError(url, _describe(error)) from None
        if not chunk:
            if expected and expected.isdigit() and received < int(expected):
                raise DownloadError(url, _describe(http.client.IncompleteRead(b"")))
            return
        received += len(chunk)
        yield chunk


def _http_error(url: str, code: int, reason: object) -> DownloadError:
    cause = f"HTTP {code} {reason}".strip()
    if code in _NOT_FOUND:
        return NotFound(url, cause)
    transient = code == 429 or code >= 500
    return DownloadError(url, cause, transient=transient)


def _describe(error: object) -> str:
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timed out (CURL_CONNECT_TIMEOUT)"
    if isinstance(error, http.client.IncompleteRead):
        return "the connection closed before the download was complete"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"unable to resolve the host name ({error.strerror})"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
