from __future__ import annotations

import pytest

from python_buildpack import runtime_mirror as rm
from python_buildpack.errors import BuildError
from python_buildpack.stack import Stack

HEROKU_24 = Stack("heroku-24", "amd64")
SHA_A, SHA_B = "a" * 64, "B" * 64


def test_archive_name():
    assert rm.archive_name("3.12.4", HEROKU_24) == "python-3.12.4-ubuntu-24.04-amd64.tar.zst"
    assert rm.archive_name("3.13.0", Stack("heroku-22", "arm64")) == "python-3.13.0-ubuntu-22.04-arm64.tar.zst"


def test_default_mirror():
    mirror = rm.mirror_from(None)
    assert mirror.is_default
    assert mirror.url_for("x") == f"{rm.DEFAULT_BASE_URL}/x"


@pytest.mark.parametrize("value, base", [
    ("https://mirror.example.com/python/", "https://mirror.example.com/python"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("file:///srv/python", "file:///srv/python"),
])
def test_custom_mirror(value, base):
    mirror = rm.mirror_from(value)
    assert not mirror.is_default and mirror.base_url == base


@pytest.mark.parametrize("value", ["mirror.example.com", "ftp://x/y", "https://", "s3://bucket",
                                   "https://a.example.com/x\nhttps://b.example.com/y", "https://a b/"])
def test_invalid_mirror(value):
    with pytest.raises(BuildError) as error:
        rm.mirror_from(value)
    assert error.value.id == "runtime-mirror::invalid-url"


def test_manifest_parsing_and_versions():
    text = f"""# runtimes
{SHA_A}  python-3.12.1-ubuntu-24.04-amd64.tar.zst
{SHA_B} *python-3.12.10-ubuntu-24.04-amd64.tar.zst

{SHA_A}  python-3.12.11-ubuntu-24.04-arm64.tar.zst
{SHA_A}  python-3.13.0-ubuntu-22.04-amd64.tar.zst
{SHA_A}  README.txt
"""
    manifest = rm.parse_manifest(text, "http://m/SHA256SUMS")
    assert manifest.versions_for(HEROKU_24) == ["3.12.1", "3.12.10"]
    assert manifest.sha256_for("python-3.12.10-ubuntu-24.04-amd64.tar.zst") == "b" * 64
    assert manifest.sha256_for("python-3.9.0-ubuntu-24.04-amd64.tar.zst") is None


@pytest.mark.parametrize("line", ["abc  python-3.12.1-ubuntu-24.04-amd64.tar.zst", f"{SHA_A}", "<html>"])
def test_malformed_manifest(line):
    with pytest.raises(BuildError) as error:
        rm.parse_manifest(f"{SHA_A}  ok.tar.zst\n{line}\n", "http://m/SHA256SUMS")
    assert (error.value.id, error.value.detail) == ("runtime-mirror::manifest-invalid", "line 2")
    assert "Line 2" in error.value.body and "http://m/SHA256SUMS" in error.value.body


def test_a_malformed_manifest_line_never_shows_the_credentials():
    url = "https://deploy:p%40ss-w0rd@mirror.example.com/python/SHA256SUMS"
    echoed = "Basic ZGVwbG95OnBAc3MtdzByZA== deploy:p@ss-w0rd p%40ss-w0rd p@ss-w0rd \x1b[2J"
    with pytest.raises(BuildError) as error:
        rm.parse_manifest(echoed, url)
    body = error.value.body
    assert "ZGVwbG95OnBAc3MtdzByZA" not in body and "p@ss" not in body and "p%40ss" not in body
    assert "\x1b" not in body and "****" in body


def test_manifest_round_trip():
    checksums = {"python-3.12.1-ubuntu-24.04-amd64.tar.zst": SHA_A, "python-3.11.7-ubuntu-24.04-amd64.tar.zst": "c" * 64}
    assert rm.parse_manifest(rm.format_manifest(checksums), "x").checksums == checksums
