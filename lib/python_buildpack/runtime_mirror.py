"""Where Python runtime archives come from, and the mirror manifest.

A runtime mirror is a directory served over http(s) (or file://) holding
archives named `python-<X.Y.Z>-ubuntu-<NN.04>-<arch>.tar.zst`, the names of
Heroku's runtime bucket. PYTHON_RUNTIME_BASE_URL points the buildpack at it.

A mirror may publish a manifest, `SHA256SUMS`, in `sha256sum` format:

    <64 hex digits><two spaces><archive file name>

one archive a line; blank lines and `#` comments are ignored. When it does,
a major version resolves to the newest patch the mirror lists for the stack
and architecture, and every download is checked against its sha256.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlsplit

from . import errors
from .stack import Stack
from .urls import base_url_problem, without_credentials

DEFAULT_BASE_URL = "https://heroku-buildpack-python.s3.dualstack.us-east-1.amazonaws.com"
MANIFEST_NAME = "SHA256SUMS"

_ARCHIVE_NAME = re.compile(
    r"^python-(?P<version>\d+\.\d+\.\d+)-ubuntu-(?P<ubuntu>\d+\.\d+)-(?P<arch>[a-z0-9_]+)\.tar\.zst$"
)
_MANIFEST_LINE = re.compile(r"^(?P<sha>[0-9a-fA-F]{64}) [ *](?P<name>\S.*)$")


def archive_name(version: str, stack: Stack) -> str:
    return f"python-{version}-ubuntu-{stack.ubuntu_version}-{stack.arch}.tar.zst"


@dataclass(frozen=True)
class Mirror:
    base_url: str
    is_default: bool

    @property
    def local_directory(self) -> Optional[Path]:
        """The directory of a file:// mirror, None for http(s)."""
        parts = urlsplit(self.base_url)
        return Path(unquote(parts.path) or "/") if parts.scheme.lower() == "file" else None

    def url_for(self, file_name: str) -> str:
        return f"{self.base_url}/{file_name}"


def mirror_from(value: Optional[str]) -> Mirror:
    """PYTHON_RUNTIME_BASE_URL's mirror, checked before any use: a malformed
    URL fails here, with its credentials hidden, rather than somewhere in
    the download with a message that may quote a piece of the password."""
    if not value or not value.strip():
        return Mirror(DEFAULT_BASE_URL, is_default=True)
    value = value.strip()
    problem = base_url_problem(value)
    if problem:
        raise errors.runtime_base_url_invalid(value, problem)
    return Mirror(value.rstrip("/"), is_default=False)


@dataclass(frozen=True)
class Manifest:
    """A mirror's SHA256SUMS: archive file name -> sha256."""

    checksums: dict[str, str]

    def versions_for(self, stack: Stack) -> list[str]:
        found = []
        for name in self.checksums:
            match = _ARCHIVE_NAME.match(name)
            if match and match["ubuntu"] == stack.ubuntu_version and match["arch"] == stack.arch:
                found.append(match["version"])
        return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))

    def sha256_for(self, file_name: str) -> Optional[str]:
        return self.checksums.get(file_name)


def parse_manifest(text: str, url: str) -> Manifest:
    checksums: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _MANIFEST_LINE.match(line)
        if not match:
            # The line is the server's: it could hold escape sequences, or
            # the credentials the mirror was sent.
            printable = "".join(ch if ch.isprintable() else "\ufffd" for ch in line)
            raise errors.runtime_manifest_invalid(url, number, without_credentials(printable, url))
        name = match["name"].strip().lstrip("./")
        checksums[name] = match["sha"].lower()
    return Manifest(checksums)


def format_manifest(checksums: dict[str, str]) -> str:
    return "".join(f"{sha}  {name}\n" for name, sha in sorted(checksums.items()))
