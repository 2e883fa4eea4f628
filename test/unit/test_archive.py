from __future__ import annotations

import hashlib
import os
import tarfile

import pytest

from archives import member, python_archive, tar_zst
from python_buildpack import archive


def chunks(data: bytes, size: int = 1000):
    return (data[i:i + size] for i in range(0, len(data), size))


def test_extracts_and_returns_sha256(tmp_path):
    data = tar_zst(
        member("bin/", tarfile.DIRTYPE),
        member("bin/python3.12", data=b"binary"),
        member("bin/python3", tarfile.SYMTYPE, link="python3.12"),
        member("lib/libpython.so", data=b"lib"),
        member("lib/libpython.so.1", tarfile.LNKTYPE, link="lib/libpython.so"),
    )
    sha = archive.extract_zstd_tar(chunks(data), tmp_path / "out")
    assert sha == hashlib.sha256(data).hexdigest()
    assert (tmp_path / "out/bin/python3").read_bytes() == b"binary"
    assert os.readlink(tmp_path / "out/bin/python3") == "python3.12"
    assert os.access(tmp_path / "out/bin/python3.12", os.X_OK)
    assert (tmp_path / "out/lib/libpython.so.1").stat().st_ino == (tmp_path / "out/lib/libpython.so").stat().st_ino


@pytest.mark.parametrize("members, message", [
    ([member("/etc/evil", data=b"x")], "absolute"),
    ([member("../evil", data=b"x")], "outside the install directory"),
    ([member("bin/../../evil", data=b"x")], "outside the install directory"),
    ([member("link", tarfile.SYMTYPE, link="/etc")], "absolute path"),
    ([member("link", tarfile.SYMTYPE, link="../..")], "pointing outside"),
    ([member("here", tarfile.SYMTYPE, link="."), member("up", tarfile.SYMTYPE, link="here/..")], "pointing outside"),
    ([member("dir/", tarfile.DIRTYPE), member("dir/up", tarfile.SYMTYPE, link=".."), member("dir/up/x", data=b"ok"),
      member("dir/up2", tarfile.SYMTYPE, link="../..")], "pointing outside"),
    ([member("hard", tarfile.LNKTYPE, link="../../etc/passwd")], "outside the install directory"),
    ([member("dev", tarfile.CHRTYPE)], "isn't a file, directory or link"),
    ([member("fifo", tarfile.FIFOTYPE)], "isn't a file, directory or link"),
])
def test_refuses_members_that_escape(tmp_path, members, message):
    dest = tmp_path / "install" / "out"
    with pytest.raises(archive.UnsafeArchive, match=message):
        archive.extract_zstd_tar(chunks(tar_zst(*members)), dest)
    assert not (tmp_path / "evil").exists() and not (tmp_path / "install" / "evil").exists()


def test_refuses_data_that_isnt_zstd(tmp_path):
    with pytest.raises(archive.UnsafeArchive, match="isn't a valid zstd archive"):
        archive.extract_zstd_tar(chunks(b"<html>Not Found</html>" * 100), tmp_path / "out")


def test_refuses_a_truncated_archive(tmp_path):
    data = python_archive(os.urandom(200_000))
    with pytest.raises(archive.UnsafeArchive):
        archive.extract_zstd_tar(chunks(data[: len(data) // 2]), tmp_path / "out")


def test_a_failing_download_is_reraised(tmp_path):
    class Broken(Exception):
        pass

    def failing():
        yield python_archive()[:50]
        raise Broken("connection reset")

    with pytest.raises(Broken):
        archive.extract_zstd_tar(failing(), tmp_path / "out")


def test_zstd_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(Exception, match="'zstd' command isn't available"):
        archive.extract_zstd_tar(iter([b""]), tmp_path / "out")
