from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import subprocess
import tarfile

import pytest

from archives import fake_tar, member, python_archive, tar_zst
from python_buildpack import archive, errors


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


@pytest.mark.parametrize("command", ["zstd", "tar"])
def test_an_unpacking_command_missing(tmp_path, monkeypatch, command):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for other in {"zstd", "tar"} - {command}:
        (bin_dir / other).symlink_to(shutil.which(other))
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(errors.BuildError, match=f"'{command}' command isn't available"):
        archive.extract_zstd_tar(iter([b""]), tmp_path / "out")


def test_refuses_data_after_a_broken_header(tmp_path):
    """tarfile takes a broken header for the end of the archive; GNU tar would
    skip it and unpack what follows, unchecked."""
    good = tar_zst(member("ok", data=b"fine"))
    plain = subprocess.run(["zstd", "-d", "-c"], input=good, capture_output=True, check=True).stdout
    end = plain.index(b"\0" * 1024, 1024)  # after the member's header and data
    hidden = io.BytesIO()
    with tarfile.open(fileobj=hidden, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info, _ = member("dev", tarfile.CHRTYPE)
        tar.addfile(info)
    broken = plain[:end] + b"\xff" * 512 + hidden.getvalue()
    data = subprocess.run(["zstd", "-q", "-c"], input=broken, capture_output=True, check=True).stdout
    with pytest.raises(archive.UnsafeArchive, match="after a broken header"):
        archive.extract_zstd_tar(chunks(data), tmp_path / "out")
    assert not (tmp_path / "out" / "dev").exists()


def test_tar_writing_no_more_is_a_write_failure(tmp_path, monkeypatch):
    """tar's words for a full disk become the OSError the caller reports."""
    fake_tar(tmp_path, monkeypatch, "echo 'tar: bin/python3: Cannot write: No space left on device' >&2\nexit 2\n")
    with pytest.raises(archive.WriteFailed) as failed:
        archive.extract_zstd_tar(chunks(python_archive(os.urandom(300_000))), tmp_path / "out")
    assert failed.value.error.errno == errno.ENOSPC


def test_tar_failing_otherwise_says_why(tmp_path, monkeypatch):
    fake_tar(tmp_path, monkeypatch, "cat >/dev/null\necho 'tar: lib: Cannot mkdir: Permission denied' >&2\nexit 2\n")
    with pytest.raises(archive.UnsafeArchive, match=r"couldn't be unpacked \(lib: Cannot mkdir: Permission denied\)"):
        archive.extract_zstd_tar(chunks(python_archive()), tmp_path / "out")


def test_a_link_made_unsafe_by_another_is_refused_once_unpacked(tmp_path):
    """`up -> here/..` looks inside on its own; through `here -> .` it leads out."""
    dest = tmp_path / "install" / "out"
    members = [member("here", tarfile.SYMTYPE, link="."), member("up", tarfile.SYMTYPE, link="here/..")]
    with pytest.raises(archive.UnsafeArchive, match="up -> here/.."):
        archive.extract_zstd_tar(chunks(tar_zst(*members)), dest)


def test_modes_and_times_are_the_archives(tmp_path):
    info, data = member("bin/tool", data=b"x", mode=0o750)
    info.mtime = 1_600_000_000
    archive.extract_zstd_tar(chunks(tar_zst((info, data))), tmp_path / "out")
    status = (tmp_path / "out" / "bin" / "tool").stat()
    assert status.st_mode & 0o777 == 0o750 and status.st_mtime == 1_600_000_000


@pytest.mark.parametrize("splice", ["splice", "no splice"])
def test_file_data_reaches_tar_whole(tmp_path, monkeypatch, splice):
    """A file's data goes from zstd to tar by splice(2), or copied where the
    kernel refuses splice; the headers between (long names: PAX records) are
    the parser's."""
    if splice == "no splice":
        def refused(*_args):
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        monkeypatch.setattr(archive.os, "splice", refused)
    big, odd = os.urandom(3 * 1024 * 1024 + 17), os.urandom(511)
    long_name = "lib/" + "x" * 150 + ".py"
    data = tar_zst(member("lib/", tarfile.DIRTYPE), member("lib/big.so", data=big), member(long_name, data=odd),
                   member("lib/empty", data=b""), member("lib/last", data=b"end"))
    archive.extract_zstd_tar(chunks(data, 70_000), tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "lib/big.so").read_bytes() == big and (out / long_name).read_bytes() == odd
    assert (out / "lib/empty").read_bytes() == b"" and (out / "lib/last").read_bytes() == b"end"


def test_refuses_an_oversized_member_header(tmp_path):
    """The parser reads only headers, never more than a real one's size."""
    info, data = member("bin/python3", data=b"x")
    info.pax_headers = {"comment": "y" * (2 * 1024 * 1024)}
    with pytest.raises(archive.UnsafeArchive, match="has a member header of"):
        archive.extract_zstd_tar(chunks(tar_zst((info, data)), 100_000), tmp_path / "out")
    assert not (tmp_path / "out" / "bin").exists()
