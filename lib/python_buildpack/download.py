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

import math
import re
import stat
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, TypeVar

from . import errors, output
from .config_vars import BuildConfig

T = TypeVar("T")

CHUNK_SIZE = 256 * 1024
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


def _fetch_once(url: str, consume: Callable[[Iterator[bytes]], T], timeouts: Timeouts, deadline: float) -> T:
    if urllib.parse.urlsplit(url).scheme.lower() == "file":
        return _fetch_file(url, consume, timeouts, deadline)
    # Imported on the first download: a build that downloads nothing (the
    # cache had it all) needn't load ssl and http.client.
    from . import http_fetch

    return http_fetch.fetch_once(url, consume, timeouts, deadline)


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
            raise out_of_time(url, timeouts)
        try:
            chunk = stream.read(CHUNK_SIZE)
        except OSError as error:
            raise DownloadError(url, error.strerror or type(error).__name__, transient=False) from None
        if not chunk:
            return
        yield chunk


def out_of_time(url: str, timeouts: Timeouts) -> DownloadError:
    """A try, or all of them, ran past CURL_TIMEOUT."""
    return DownloadError(
        url, f"the download didn't finish within {timeouts.total:g}s (CURL_TIMEOUT, for all tries together)",
        transient=False)


