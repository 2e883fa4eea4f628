"""Credentials never reach the build log, whatever shape the URL has."""

from __future__ import annotations

import pytest

from python_buildpack import errors, runtime_mirror
from python_buildpack.errors import BuildError
from python_buildpack.urls import base_url_problem, shown

SECRET = "S3cr3tT0ken"

# URLs users really write, each holding SECRET as (part of) a credential.
HOSTILE_SHAPES = [
    f"https://deploy:{SECRET}@mirror.example.com/python",
    f"https://{SECRET}@mirror.example.com/python",
    f"https://:{SECRET}@mirror.example.com/python",
    f"https://deploy:{SECRET}@mirror.example.com:8443/python",
    f"https://deploy:{SECRET}@mirror.example.com:port/python",        # non-numeric port
    f"https://deploy:{SECRET}@mirror.example.com:99999/python",       # port out of range
    f"https://deploy:ab/{SECRET}@mirror.example.com/python",          # unencoded '/'
    f"https://deploy:ab#{SECRET}@mirror.example.com/python",          # unencoded '#'
    f"https://deploy:ab?{SECRET}@mirror.example.com/python",          # unencoded '?'
    f"https://deploy:ab@{SECRET}@mirror.example.com/python",          # unencoded '@'
    f"https://deploy:{SECRET}:x@mirror.example.com/python",           # a ':' in the password
    f"https://deploy:{SECRET} @mirror.example.com/python",            # a space
    f"https://deploy:{SECRET}\n@mirror.example.com/python",           # a line break
    f"ftp://deploy:{SECRET}@mirror.example.com/python",               # another scheme
    f"s3://deploy:{SECRET}@bucket/python",
    f"deploy:{SECRET}@mirror.example.com/python",                     # no scheme
    f"{SECRET}:x@mirror.example.com/python",                          # no scheme, token first
    f"{SECRET}@mirror.example.com/python",
    f"https:deploy:{SECRET}@mirror.example.com/python",               # no '//'
    f"https:/deploy:{SECRET}@mirror.example.com/python",
    f"HTTPS://deploy:{SECRET}@mirror.example.com/python",
    f"https://deploy:{SECRET}@[::1/python",                           # broken IPv6 host
    f"https://deploy:{SECRET}@mirror.example.com/python?token={SECRET}",
    f"https://mirror.example.com/python?token={SECRET}",
    f"https://mirror.example.com/python#{SECRET}",
    f"file://deploy:{SECRET}@/srv/python",
    f"https://deploy:{SECRET}@",
]
# Shapes that work as they are: an unencoded '@' or ':' in the password is
# unambiguous (the last '@' ends the credentials), and schemes have no case.
WORKING = {
    f"https://deploy:ab@{SECRET}@mirror.example.com/python",
    f"https://deploy:{SECRET}:x@mirror.example.com/python",
    f"HTTPS://deploy:{SECRET}@mirror.example.com/python",
}


@pytest.mark.parametrize("url", HOSTILE_SHAPES)
def test_shown_hides_the_secret_whatever_the_shape(url):
    assert SECRET not in shown(url)


@pytest.mark.parametrize("url, expected", [
    ("https://user:token@mirror.example.com:8443/python", "https://****@mirror.example.com:8443/python"),
    ("https://token@mirror.example.com/python", "https://****@mirror.example.com/python"),
    ("https://user:p/a#s?s@mirror.example.com/python", "https://****@mirror.example.com/python"),
    ("user:token@mirror.example.com/python", "****@mirror.example.com/python"),
    ("https:user:token@mirror.example.com", "https:****@mirror.example.com"),
    ("https://mirror.example.com/python?X-Amz-Signature=abc", "https://mirror.example.com/python?****"),
    ("https://mirror.example.com/python", "https://mirror.example.com/python"),
    ("http://[::1]:8000/python", "http://[::1]:8000/python"),
    ("file:///srv/python", "file:///srv/python"),
    ("https://a.example.com/x\nhttps://b.example.com/y", "https://a.example.com/x\\nhttps://b.example.com/y"),
    ("mirror.example.com", "mirror.example.com"),
])
def test_shown_keeps_what_helps(url, expected):
    assert shown(url) == expected


def test_shown_shortens_a_huge_value():
    assert len(shown("https://mirror.example.com/" + "x" * 100_000)) < 400


@pytest.mark.parametrize("url", [url for url in HOSTILE_SHAPES[4:] if url not in WORKING])
def test_a_malformed_base_url_fails_with_the_secret_hidden(url):
    with pytest.raises(BuildError) as error:
        runtime_mirror.mirror_from(url)
    assert error.value.id == "runtime-mirror::invalid-url"
    assert SECRET not in str(error.value)


@pytest.mark.parametrize("url", HOSTILE_SHAPES[:4] + sorted(WORKING) + [
    "http://127.0.0.1:8000", "http://[::1]:8000/python", "https://u:p%2Fq%23r%3Fs%40t@mirror.example.com/x",
    "file:///srv/python", "file://localhost/srv/python",
])
def test_well_formed_base_urls_are_accepted(url):
    assert base_url_problem(url) is None


@pytest.mark.parametrize("url, problem", [
    ("mirror.example.com/python", "it must start with https://, http:// or file://"),
    ("https://", "it has no host name"),
    ("https://user:pass@:443/x", "it has no host name"),
    ("https://mirror.example.com:port/python", "its port isn't a number from 1 to 65535"),
    ("https://mirror.example.com:0/python", "its port isn't a number from 1 to 65535"),
    ("https://user:a/b@mirror.example.com/python", "a '/' must be percent-encoded (%2F)"),
    ("https://user:a#b@mirror.example.com/python", "must be percent-encoded (%3F, %23)"),
    ("https://mirror.example.com/python?x=1", "a base URL has no query or fragment"),
    ("https://mirror.example.com/pyth on", "spaces"),
    ("https://mïrror.example.com/python", "non-ASCII"),
    ("file://server/share/python", "three slashes"),
    ("file:relative/python", "it must start with"),
    ("https://[::1/python", "IPv6"),
])
def test_why_a_base_url_is_refused(url, problem):
    assert problem in base_url_problem(url)


def test_error_messages_show_urls_through_shown():
    url = f"https://deploy:ab/{SECRET}@mirror.example.com/p.tar.zst"
    for error in [
        errors.runtime_download_failed(url, "HTTP 500"),
        errors.runtime_checksum_mismatch(url, "a" * 64, "b" * 64),
        errors.runtime_archive_invalid(url, "is broken"),
        errors.runtime_mirror_authentication_failed(url, 401, True),
        errors.runtime_mirror_served_html(url, "the archive"),
        errors.runtime_base_url_not_a_directory(url, "is a file"),
        errors.runtime_manifest_invalid(url, 1, "x"),
        errors.python_version_not_on_mirror("3.12", "3.12.1", ".python-version", url, None),
    ]:
        assert SECRET not in str(error) and SECRET not in error.detail, error.id
    assert SECRET not in errors.mirror_unreachable_warning(url, "HTTP 500", "3.12.1")
