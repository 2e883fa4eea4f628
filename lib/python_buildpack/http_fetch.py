"""One try of an HTTP(S) download, for download.py: urllib with a
watchdog on the whole try, curl's redirect rules for credentials, and
failures described from their type, never from the server's text.

Kept apart so that a build that downloads nothing never loads ssl and
http.client (download.py imports it on the first download).
"""

from __future__ import annotations

import base64
import http
import http.client
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable, Iterator, Optional, TypeVar

from .download import CHUNK_SIZE, AuthenticationFailed, DownloadError, NotFound, Timeouts, out_of_time

T = TypeVar("T")

_USER_AGENT = "python-buildpack (+https://devcenter.heroku.com/articles/buildpack-api)"
_NOT_FOUND = (403, 404, 410)
_AUTHENTICATION = (401, 407)


def fetch_once(url: str, consume: Callable[[Iterator[bytes]], T], timeouts: Timeouts, deadline: float) -> T:
    """One try of an http(s) download (download.fetch retries)."""
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


# --- the try's connection ----------------------------------------------------------------------

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


class _LookupTimeout(_ConnectTimeout):
    """Looking the host's name up took longer than CURL_CONNECT_TIMEOUT."""


def _connect_within(address: tuple[str, int], timeout: float, source_address=None) -> socket.socket:
    """socket.create_connection, with the name lookup bounded too: the
    resolver's own retries (getaddrinfo takes no timeout) could hold a build
    for tens of seconds on a dead DNS server. The lookup runs in a thread the
    build leaves behind if it takes too long."""
    host, port = address
    found: dict[str, object] = {}

    def look_up() -> None:
        try:
            found["addresses"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except OSError as error:
            found["error"] = error

    lookup = threading.Thread(target=look_up, daemon=True)
    lookup.start()
    lookup.join(timeout)
    if lookup.is_alive():
        raise _LookupTimeout("name lookup timed out")
    if "error" in found:
        raise found["error"]  # type: ignore[misc]
    error: Optional[OSError] = None
    for _family, _type, _proto, _name, sockaddr in found["addresses"]:  # type: ignore[union-attr]
        try:
            return socket.create_connection((sockaddr[0], sockaddr[1]), timeout, source_address)
        except OSError as failure:
            error = failure
    raise error or OSError("the host name has no addresses")


def _watched(base: type, attempt: _Attempt) -> type:
    """An http.client connection class whose socket `attempt` watches, and
    whose connect time-outs are told apart from a server that stalls."""

    class Connection(base):  # type: ignore[misc, valid-type]
        def connect(self) -> None:
            self._create_connection = _connect_within  # http.client's own hook
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
            raise out_of_time(url, timeouts)
        try:
            # read1: at most one read from the socket, so a trickle of data
            # can't keep one call busy past the deadline.
            chunk = response.read1(CHUNK_SIZE)
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise _failure(url, error, attempt, timeouts) from None
        if not chunk:
            if attempt.out_of_time():
                raise out_of_time(url, timeouts)
            if expected and expected.isdigit() and received < int(expected):
                raise DownloadError(url, "the connection closed before the download was complete")
            return
        received += len(chunk)
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


def _failure(url: str, error: object, attempt: _Attempt, timeouts: Timeouts) -> DownloadError:
    if attempt.out_of_time():
        return out_of_time(url, timeouts)
    if isinstance(error, _LookupTimeout):
        return DownloadError(
            url, f"couldn't look the host's name up within {timeouts.connect:g}s (CURL_CONNECT_TIMEOUT)")
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
