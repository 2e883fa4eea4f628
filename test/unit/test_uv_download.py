"""uv_download: uv's wheel straight from the index's simple page."""

from __future__ import annotations

import hashlib
import zipfile

import pytest

from python_buildpack import uv_download
from python_buildpack.download import Timeouts

WHEEL = "uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"


def make_wheel(path, with_binary=True):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("uv/__init__.py", "")
        archive.writestr("uv-0.13.9.dist-info/METADATA", "Name: uv\nVersion: 0.13.9\n")
        if with_binary:
            archive.writestr("uv-0.13.9.data/scripts/uv", "\x7fELF")
            archive.writestr("uv-0.13.9.data/scripts/uvx", "\x7fELF")
        archive.writestr("../escape", "no")
    return path


def page(href):
    return f'<html><body><a href="{href}">{href.rsplit("/", 1)[-1]}</a></body></html>'


def test_the_wheel_for_the_architecture_with_its_hash():
    digest = "a" * 64
    links = page(f"../../packages/ab/{WHEEL}#sha256={digest}") + page(
        f"../../packages/cd/uv-0.13.9-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl#sha256={'b' * 64}")
    url, sha = uv_download.wheel_link(links, "https://pypi.org/simple/uv/", "0.13.9", "amd64")
    assert url == f"https://pypi.org/packages/ab/{WHEEL}" and sha == digest
    assert uv_download.wheel_link(links, "https://pypi.org/simple/uv/", "0.13.9", "arm64")[1] == "b" * 64


@pytest.mark.parametrize("links, problem", [
    (page(f"/p/{WHEEL}"), "no sha256"),
    (page(f"/p/{WHEEL.replace('0.13.9', '0.13.8')}#sha256={'a' * 64}"), "no uv 0.13.9 wheel"),
    (page(f"/p/{WHEEL.replace('manylinux', 'musllinux')}#sha256={'a' * 64}"), "no uv 0.13.9 wheel"),
])
def test_what_isnt_there_is_unavailable(links, problem):
    with pytest.raises(uv_download.Unavailable, match=problem):
        uv_download.wheel_link(links, "https://pypi.org/simple/uv/", "0.13.9", "amd64")


def test_unpacked_as_pip_install_target_lays_it_out(tmp_path):
    target = tmp_path / "target"
    uv_download.unpack(make_wheel(tmp_path / WHEEL), target)
    assert sorted(p.name for p in target.iterdir()) == ["bin", "uv", "uv-0.13.9.dist-info"]
    assert (target / "bin" / "uv").stat().st_mode & 0o111
    assert not (tmp_path / "escape").exists()
    with pytest.raises(uv_download.Unavailable, match="no uv binary"):
        uv_download.unpack(make_wheel(tmp_path / "other.whl", with_binary=False), tmp_path / "other")


def test_a_download_that_doesnt_match_its_hash_is_refused(tmp_path, monkeypatch):
    wheel = make_wheel(tmp_path / WHEEL).read_bytes()
    monkeypatch.setattr(uv_download, "fetch_text", lambda url, timeouts, limit: page(f"/p/{WHEEL}#sha256={'0' * 64}"))
    monkeypatch.setattr(uv_download, "fetch", lambda url, consume, timeouts: consume(iter([wheel])))
    download = uv_download.fetch_uv("0.13.9", "amd64", "https://index.example/simple", Timeouts())
    assert download.unpacked() is None and "doesn't match the sha256" in download.problem

    digest = hashlib.sha256(wheel).hexdigest()
    monkeypatch.setattr(uv_download, "fetch_text", lambda url, timeouts, limit: page(f"/p/{WHEEL}#sha256={digest}"))
    download = uv_download.fetch_uv("0.13.9", "amd64", "https://index.example/simple", Timeouts())
    directory = download.unpacked()
    assert directory is not None and (directory / "bin" / "uv").is_file()
    download.discard()
    assert not directory.exists()
