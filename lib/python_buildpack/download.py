"""HTTP(S) and file:// downloads with timeouts, retries and backoff.

Timeouts follow curl's variables, which Heroku, herokuish and dokku set:
CURL_CONNECT_TIMEOUT (seconds to connect, and the longest the server may
send nothing) and CURL_TIMEOUT (seconds for the whole download: each try,
and all tries together, as curl's --max-time and --retry-max-time).

Nothing here puts text from the server or a URL into a cause: a hostile or
broken server could echo the request's Authorization header back in its
reason phrase or status line, and a malformed URL holds the password.
"""

from __future__ import annotations

import base64
import http
import http.client
import math
import re
import socket
import ssl
import stat
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, TypeVar

from . import errors, output
from .config_vars import BuildConfig

T = TypeVar("T")

_CHUNK = 256 * 1024
_USER_AGENT = "python-buildpack (+https://devcenter.heroku.com/articles/buildpack-api)"
_NOT_FOUND = (403, 404, 410)
_AUTHENTICATION = (401, 407)
# The longest either CURL_* setting may ask for: longer than any build may run.
MAX_SECONDS = 3600.0
_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?|\.[0-9]+")


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0  # to connect; also the longest the server may send nothing
    total: float = 300.0  # a whole download, retries included
    retries: int = 3
    backoff: float = 1.0

    @classmethod
    def from_config(cls, config: BuildConfig) -> "Timeouts":
        return cls(
            connect=timeout_setting(config, "CURL_CONNECT_TIMEOUT", cls.connect),
            total=timeout_setting(config, "CURL_TIMEOUT", cls.total),
        )


def timeout_setting(config: BuildConfig, name: str, default: float) -> float:
    """A CURL_* setting in seconds: a plain decimal number greater than 0.

    Anything else (`inf`, `nan`, `abc`, `-1`, `0`, `10s`) gets a warning and
    the default, as curl itself would refuse it; more than MAX_SECONDS gets
    a warning and MAX_SECONDS (a socket can't wait for ever, nor a build).
    """
    value = config.get(name)
    if value is None:
        return default
    text = value.strip()
    seconds = float(text) if _SECONDS.fullmatch(text) else math.nan
    if not seconds > 0:  # also catches nan
        output.warning(errors.timeout_setting_invalid_warning(name, default))
        return default
    if seconds > MAX_SECONDS:
        output.warning(errors.timeout_setting_capped_warning(name, MAX_SECONDS))
        return MAX_SECONDS
    return seconds


class DownloadError(Exception):
    """The transfer failed; `cause` says why in a few words (never the URL).

    `transient`: a retry may succeed (connection problems, 5xx, 429).
    """

    def __init__(self, url: str, cause: str, transient: bool = True):
        super().__init__(cause)
        self.url = url
        self.cause = cause
        self.transient = transient


class NotFound(DownloadError):
    """The server says the file doesn't exist (404, 410, or S3's 403: S3
    answers 403, not 404, for a missing key when the requester may not list
    the bucket; AWS S3 API reference, GetObject, "Permissions")."""

    def __init__(self, url: str, cause: str):
        super().__init__(url, cause, transient=False)


class AuthenticationFailed(DownloadError):
    """401 (the mirror wants other credentials) or 407 (the proxy does)."""

    def __init__(self, url: str, code: int, cause: str):
        super().__init__(url, cause, transient=False)
        self.code = code


class TooLarge(DownloadError):
    """A file meant to be small is larger than the limit: not what we asked for."""

    def __init__(self, url: str, limit: int):
        super().__init__(url, f"larger than {limit // 1024} KB", transient=False)
        self.limit = limit


def fetch(
    url: str,
    consume: Callable[[Iterator[bytes]], T],
    timeouts: Timeouts,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Stream `url` into `consume`, retrying transient failures.

    `consume` gets an iterator of chunks and must start afresh on each call:
    a retry replays the whole download. All tries share one deadline,
    CURL_TIMEOUT from now: no retry starts that its backoff would push past it.
    """
    deadline = time.monotonic() + timeouts.total
    attempts = timeouts.retries + 1
    for attempt in range(1, attempts + 1):
        try:
            return _fetch_once(url, consume, timeouts, deadline)
        except DownloadError as error:
            if not error.transient or attempt == attempts:
                raise
            delay = timeouts.backoff * 2 ** (attempt - 1)
            if time.monotonic() + delay >= deadline:
                raise DownloadError(
                    url, f"{error.cause}; no time was left to retry within {timeouts.total:g}s (CURL_TIMEOUT)",
                    transient=False) from None
            output.info(f"Download failed ({error.cause}); retrying in {delay:g}s ({attempt}/{attempts - 1})")
            sleep(delay)
    raise AssertionError("unreachable")


def fetch_text(url: str, timeouts: Timeouts, limit: int = 1024 * 1024) -> Optional[str]:
    """A small text file, or None when the server says it doesn't exist.

    More than `limit` bytes is an error (TooLarge), so an endless answer
    can't fill the memory.
    """

    def collect(chunks: Iterator[bytes]) -> bytes:
        data = bytearray()
        for chunk in chunks:
            data += chunk
            if len(data) > limit:
                raise TooLarge(url, limit)
        return bytes(data)

    try:
        data = fetch(url, collect, timeouts)
    except NotFound:
        return None
    return data.decode("utf-8", errors="replace")


_HTML_START = re.compile(
    rb"\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|title|meta|script|div|p|h1)[\s>/]",
    re.IGNORECASE | re.DOTALL,
)


def looks_like_html(data: bytes) -> bool:
    """Whether `data` starts like a web page: a login page, a captive
    portal's or a web server's directory listing served instead of a file."""
    return bool(_HTML_START.match(data[:4096].removeprefix(b"\xef\xbb\xbf")))


# --- one try ----------------------------------------------------------------------

class _Attempt:
    """One try of a download, which must end by `deadline`.

    A watchdog shuts the connection's socket down at the deadline. That wakes
    a read blocked in any phase (a trickle of headers, a body arriving a few
    bytes a second, which per-read timeouts never catch) and a reader in
    another thread (the archive is fed to zstd from one); `stop()` does the
    same when the try ends early, on an error or on SIGTERM.
    """

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def out_of_time(self) -> bool:
        return self.expired or self.remaining() <= 0

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            late = self.expired
        if late:
            _shut(sock)

    def stop(self) -> None:
        self._timer.cancel()
        self._shut_all()

    def _expire(self) -> None:
        self.expired = True
        self._shut_all()

    def _shut_all(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown even for a TLS socket: SSLSocket.shutdown
    # also tears down its TLS state under a reader in another thread (Lib/ssl.py
    # sets _sslobj to None first: "Read on closed or unwrapped SSL socket").
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _ConnectTimeout(OSError):
    """Connecting (TCP and TLS) took longer than CURL_CONNECT_TIMEOUT."""


def _watched(base: type, attempt: _Attempt) -> type:
    """An http.client connection class whose socket `attempt` watches, and
    whose connect time-outs are told apart from a server that stalls."""

    class Connection(base):  # type: ignore[misc, valid-type]
        def connect(self) -> None:
            try:
                super().connect()
            except (socket.timeout, TimeoutError):
                raise _ConnectTimeout("connect timed out") from None
            attempt.watch(self.sock)

    return Connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, attempt: _Attempt):
        super().__init__()
        self.attempt = attempt

    def http_open(self, req):
        return self.do_open(_watched(http.client.HTTPConnection, self.attempt), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, attempt: _Attempt):
        super().__init__()
        self.attempt = attempt

    def https_open(self, req):
        return self.do_open(_watched(http.client.HTTPSConnection, self.attempt), req, context=self._context)


class _RedirectRefused(Exception):
    """A redirect to something other than a plain http(s) URL."""


class _CredentialsStayHome(urllib.request.HTTPRedirectHandler):
    """Follows redirects like curl: the Basic credentials from
    PYTHON_RUNTIME_BASE_URL go only to the same scheme, host and port, never
    to another host (a CDN, or a server an attacker names); and only to
    http(s) URLs without credentials of their own."""

    def http_error_302(self, req, fp, code, msg, headers):
        # Checked before urllib's own check, whose error would be a 3xx.
        location = headers.get("location") or headers.get("uri")
        if location and not _plain_http(req.full_url, location):
            fp.close()
            raise _RedirectRefused()
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        # Python 3.10 (heroku-22's) refuses 308, which for a GET is a 307;
        # urllib follows it from 3.11 (python/cpython#84501, bpo-40321).
        new = super().redirect_request(req, fp, 307 if code == 308 else code, msg, headers, newurl)
        if new is not None and not _same_origin(req.full_url, new.full_url):
            new.remove_header("Authorization")
        return new


def _plain_http(base: str, location: str) -> bool:
    try:
        target = urllib.parse.urlsplit(urllib.parse.urljoin(base, location))
        return target.scheme.lower() in ("http", "https") and "@" not in target.netloc
    except ValueError:
        return False


def _origin(url: str) -> tuple[str, str, Optional[int]]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


def _same_origin(first: str, second: str) -> bool:
    try:
        return _origin(first) == _origin(second)
    except ValueError:
        return False


def _request(url: str) -> urllib.request.Request:
    """A GET request; credentials in the URL become a Basic auth header."""
    headers = {"User-Agent": _USER_AGENT}
    parts = urllib.parse.urlsplit(url)
    userinfo, at, host_and_port = parts.netloc.rpartition("@")
    if at:
        user, _, password = userinfo.partition(":")
        credentials = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        url = urllib.parse.urlunsplit(parts._replace(netloc=host_and_port))
    return urllib.request.Request(url, headers=headers)


def _fetch_once(url: str, consume: Callable[[Iterator[bytes]], T], timeouts: Timeouts, deadline: float) -> T:
    if urllib.parse.urlsplit(url).scheme.lower() == "file":
        return _fetch_file(url, consume, timeouts, deadline)
    attempt = _Attempt(deadline)
    response = None
    try:
        response = _open(url, attempt, timeouts)
        return consume(_chunks(url, response, attempt, timeouts))
    finally:
        # Shut the socket down before closing the response: closing waits
        # for a read in progress in another thread, which the shutdown ends.
        attempt.stop()
        if response is not None:
            response.close()


def _open(url: str, attempt: _Attempt, timeouts: Timeouts):
    opener = urllib.request.build_opener(_HTTPHandler(attempt), _HTTPSHandler(attempt), _CredentialsStayHome())
    # The socket's timeout bounds connecting and each wait for data; the
    # watchdog bounds the whole try.
    timeout = max(min(timeouts.connect, attempt.remaining()), 0.001)
    try:
        return opener.open(_request(url), timeout=timeout)
    except urllib.error.HTTPError as error:
        error.close()
        raise _http_error(url, error.code) from None
    except urllib.error.URLError as error:
        raise _failure(url, error.reason, attempt, timeouts) from None
    except _RedirectRefused:
        raise DownloadError(url, "the server redirected to a URL that isn't plain http(s)", transient=False) from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise _failure(url, error, attempt, timeouts) from None


def _chunks(url: str, response, attempt: _Attempt, timeouts: Timeouts) -> Iterator[bytes]:
    expected = response.headers.get("Content-Length")
    received = 0
    while True:
        if attempt.out_of_time():
            raise _out_of_time(url, timeouts)
        try:
            # read1: at most one read from the socket, so a trickle of data
            # can't keep one call busy past the deadline.
            chunk = response.read1(_CHUNK)
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise _failure(url, error, attempt, timeouts) from None
        if not chunk:
            if attempt.out_of_time():
                raise _out_of_time(url, timeouts)
            if expected and expected.isdigit() and received < int(expected):
                raise DownloadError(url, "the connection closed before the download was complete")
            return
        received += len(chunk)
        yield chunk


def _fetch_file(url: str, consume: Callable[[Iterator[bytes]], T], timeouts: Timeouts, deadline: float) -> T:
    """A file:// URL: no retry helps with a local file, so every failure is final."""
    path = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path))
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            # Never open a FIFO or device: it could block for ever.
            raise DownloadError(url, "not a regular file", transient=False)
        stream = path.open("rb")
    except FileNotFoundError:
        raise NotFound(url, "no such file") from None
    except NotADirectoryError:
        raise DownloadError(url, "a part of the path isn't a directory", transient=False) from None
    except OSError as error:
        raise DownloadError(url, error.strerror or type(error).__name__, transient=False) from None
    with stream:
        return consume(_file_chunks(url, stream, timeouts, deadline))


def _file_chunks(url: str, stream, timeouts: Timeouts, deadline: float) -> Iterator[bytes]:
    while True:
        if time.monotonic() > deadline:
            raise _out_of_time(url, timeouts)
        try:
            chunk = stream.read(_CHUNK)
        except OSError as error:
            raise DownloadError(url, error.strerror or type(error).__name__, transient=False) from None
        if not chunk:
            return
        yield chunk


def _http_error(url: str, code: int) -> DownloadError:
    # The standard phrase, never the server's own reason text (see above).
    try:
        cause = f"HTTP {code} {http.HTTPStatus(code).phrase}"
    except ValueError:
        cause = f"HTTP {code}"
    if code in _NOT_FOUND:
        return NotFound(url, cause)
    if code in _AUTHENTICATION:
        return AuthenticationFailed(url, code, cause)
    if 300 <= code < 400:
        return DownloadError(url, f"a redirect that can't be followed: a loop, or no target ({cause})",
                             transient=False)
    return DownloadError(url, cause, transient=code == 429 or code >= 500)


def _out_of_time(url: str, timeouts: Timeouts) -> DownloadError:
    return DownloadError(
        url, f"the download didn't finish within {timeouts.total:g}s (CURL_TIMEOUT, for all tries together)",
        transient=False)


def _failure(url: str, error: object, attempt: _Attempt, timeouts: Timeouts) -> DownloadError:
    if attempt.out_of_time():
        return _out_of_time(url, timeouts)
    if isinstance(error, _ConnectTimeout):
        return DownloadError(url, f"couldn't connect within {timeouts.connect:g}s (CURL_CONNECT_TIMEOUT)")
    if isinstance(error, (socket.timeout, TimeoutError)):
        return DownloadError(
            url, f"the download stalled: no data arrived for {timeouts.connect:g}s (CURL_CONNECT_TIMEOUT)")
    return DownloadError(url, _describe(error))


def _describe(error: object) -> str:
    """A few words on a failure, from its type (never the server's text)."""
    if isinstance(error, http.client.IncompleteRead):
        return "the connection closed before the download was complete"
    if isinstance(error, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(error, http.client.HTTPException):
        return "the server's answer isn't valid HTTP"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return f"unable to resolve the host name ({error.strerror})"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the server's TLS certificate couldn't be verified ({error.verify_message})"
    if isinstance(error, ssl.SSLError):
        return f"the TLS connection failed ({error.reason or 'SSL error'})"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    if isinstance(error, ValueError):
        return "the URL isn't valid"
    return type(error).__name__
