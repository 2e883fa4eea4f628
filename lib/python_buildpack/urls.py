"""URLs as the build log may show them, and checks of a runtime mirror's URL.

`shown` is the one function that turns a URL into text for the log or an
error: it must hide credentials whatever the URL's shape, including the
malformed URLs users really write (an unencoded '@', '/', '#' or '?' in a
password, no scheme, a newline), since those are the ones that end up in
error messages. It never raises.
"""

from __future__ import annotations

import base64
import re
from typing import Optional
from urllib.parse import SplitResult, unquote, urlsplit

MASK = "****"
# A scheme followed by '//': what comes next is the authority, whatever it holds.
_SCHEME_AND_SLASHES = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# A known scheme without '//' (https:user:pass@host). Unknown ones aren't
# taken as schemes: in 'token:x@host' the 'token:' is a credential.
_KNOWN_SCHEME = re.compile(r"^(?:https?|file):", re.IGNORECASE)
_LONGEST = 300


def shown(url: str) -> str:
    """`url` without its credentials: everything between the scheme and the
    last '@' (wherever it is) becomes ****, and so does a query or fragment,
    which may carry tokens. Control characters are escaped, so a value can't
    forge lines of the build log."""
    start = _authority_start(url)
    at = url.rfind("@")
    if at >= start:
        url = url[:start] + MASK + url[at:]
    query = re.search(r"[?#]", url)
    if query:
        url = url[:query.start() + 1] + MASK
    if len(url) > _LONGEST:
        url = url[:_LONGEST] + "..."
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in url)


def without_credentials(text: str, url: str) -> str:
    """`text` (something a server sent) with `url`'s credentials hidden, in
    every form a server could echo them: as written, decoded, and as the
    Basic auth token it was sent."""
    for secret in _credential_forms(url):
        text = text.replace(secret, MASK)
    return text


def _credential_forms(url: str) -> list[str]:
    userinfo, at, _ = urlsplit(url).netloc.rpartition("@")
    if not at or not userinfo:
        return []
    user, _, password = userinfo.partition(":")
    decoded = f"{unquote(user)}:{unquote(password)}"
    forms = [userinfo, decoded, base64.b64encode(decoded.encode()).decode()]
    # A password shorter than this would hide harmless text, and isn't one.
    forms += [part for part in (password, unquote(password)) if len(part) >= 4]
    return sorted(set(forms), key=len, reverse=True)


def _authority_start(url: str) -> int:
    match = _SCHEME_AND_SLASHES.match(url) or _KNOWN_SCHEME.match(url)
    return match.end() if match else 0


def base_url_problem(value: str) -> Optional[str]:
    """Why `value` can't be a runtime mirror's base URL, or None.

    The problem never quotes a part of the value: with an unencoded
    character in a password, any part may be a piece of the password.
    """
    if any(not ch.isprintable() or ch.isspace() for ch in value):
        return "it contains spaces, line breaks or other control characters"
    if not value.isascii():
        return ("it contains non-ASCII characters: percent-encode them (a host name in its "
                "xn-- form)")
    scheme = value.split(":", 1)[0].lower() if _SCHEME_AND_SLASHES.match(value) else ""
    if scheme not in ("http", "https", "file"):
        return "it must start with https://, http:// or file://"
    try:
        parts = urlsplit(value)
    except ValueError:  # a malformed [IPv6] host, say
        return "it isn't a valid URL (check the brackets around an IPv6 address)"
    if "?" in value or "#" in value:
        return ("it has a '?' or '#': a base URL has no query or fragment, and in a user name "
                "or password these characters must be percent-encoded (%3F, %23)")
    if "@" in parts.path:
        return ("it has an '@' after a '/': in a user name or password, a '/' must be "
                "percent-encoded (%2F), as must '?', '#' and '@' (%3F, %23, %40)")
    if scheme == "file":
        return _file_url_problem(parts)
    return _http_url_problem(parts)


def _file_url_problem(parts: SplitResult) -> Optional[str]:
    if parts.netloc not in ("", "localhost"):
        return "a file:// URL names a directory on this machine: file:///path/to/mirror (three slashes)"
    if not parts.path.startswith("/"):
        return "a file:// URL needs an absolute path: file:///path/to/mirror"
    return None


def _http_url_problem(parts: SplitResult) -> Optional[str]:
    host_and_port = parts.netloc.rpartition("@")[2]
    if not parts.hostname or host_and_port.startswith(":"):
        return "it has no host name"
    try:
        port = parts.port
    except ValueError:
        return ("its port isn't a number from 1 to 65535 (a ':' in a user name or password "
                "needn't be encoded, but '/', '?', '#' and '@' must be)")
    if port == 0:
        return "its port isn't a number from 1 to 65535"
    if parts.netloc.startswith("@"):
        return "it has an empty user name and password before '@'"
    return None
