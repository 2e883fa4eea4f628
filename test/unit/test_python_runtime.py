from __future__ import annotations

import hashlib

import pytest

from archives import python_archive
from python_buildpack import python_runtime
from python_buildpack.download import Timeouts
from python_buildpack.errors import BuildError
from python_buildpack.runtime_mirror import archive_name, mirror_from, parse_manifest
from python_buildpack.stack import Stack

STACK = Stack("heroku-24", "amd64")
FAST = Timeouts(connect=2, total=10, retries=0)
NAME = archive_name("3.12.1", STACK)


@pytest.fixture
def mirror_dir(tmp_path):
    directory = tmp_path / "mirror"
    directory.mkdir()
    (directory / NAME).write_bytes(python_archive())
    return directory


def install(tmp_path, mirror_dir, manifest=None, version="3.12.1"):
    python_dir = tmp_path / "build" / ".heroku" / "python"
    python_dir.parent.mkdir(parents=True, exist_ok=True)
    python_runtime.install(
        python_dir, version, version, ".python-version", STACK, mirror_from(mirror_dir.as_uri()),
        manifest, FAST,
    )
    return python_dir


def manifest_for(mirror_dir, sha=None):
    sha = sha or hashlib.sha256((mirror_dir / NAME).read_bytes()).hexdigest()
    return parse_manifest(f"{sha}  {NAME}\n", "SHA256SUMS")


def test_installs_and_adds_bin_python(tmp_path, mirror_dir):
    python_dir = install(tmp_path, mirror_dir, manifest_for(mirror_dir))
    assert (python_dir / "bin" / "python3").is_file()
    assert (python_dir / "bin" / "python").resolve() == (python_dir / "bin" / "python3").resolve()
    assert [p.name for p in python_dir.parent.iterdir()] == ["python"]


def test_checksum_mismatch_installs_nothing(tmp_path, mirror_dir):
    with pytest.raises(BuildError) as error:
        install(tmp_path, mirror_dir, manifest_for(mirror_dir, sha="0" * 64))
    assert error.value.title == "The downloaded Python runtime doesn't match its checksum."
    assert list((tmp_path / "build" / ".heroku").iterdir()) == []


def test_missing_version_lists_what_the_mirror_has(tmp_path, mirror_dir):
    with pytest.raises(BuildError) as error:
        install(tmp_path, mirror_dir, manifest_for(mirror_dir), version="3.12.9")
    assert error.value.title == "The requested Python version isn't available."
    assert "Versions it has: 3.12.1" in error.value.body
    assert list((tmp_path / "build" / ".heroku").iterdir()) == []


def test_missing_version_without_manifest(tmp_path, mirror_dir):
    with pytest.raises(BuildError, match="publishes no SHA256SUMS manifest, so its versions can't be listed"):
        install(tmp_path, mirror_dir, version="3.12.9")


def test_archive_without_python(tmp_path, mirror_dir):
    from archives import member, tar_zst

    (mirror_dir / NAME).write_bytes(tar_zst(member("README", data=b"hi")))
    with pytest.raises(BuildError, match="has no bin/python3"):
        install(tmp_path, mirror_dir)
    assert list((tmp_path / "build" / ".heroku").iterdir()) == []


def test_corrupt_archive(tmp_path, mirror_dir):
    (mirror_dir / NAME).write_bytes(b"<html>Access Denied</html>")
    with pytest.raises(BuildError, match="isn't a valid zstd archive"):
        install(tmp_path, mirror_dir)
    assert list((tmp_path / "build" / ".heroku").iterdir()) == []


def test_check_available_uses_the_manifest(mirror_dir):
    mirror = mirror_from(mirror_dir.as_uri())
    python_runtime.check_available("3.12.1", "3.12.1", ".python-version", STACK, mirror, manifest_for(mirror_dir))
    python_runtime.check_available("3.12.9", "3.12.9", ".python-version", STACK, mirror, None)
    with pytest.raises(BuildError, match="isn't available"):
        python_runtime.check_available("3.12", "3.12.9", ".python-version", STACK, mirror, manifest_for(mirror_dir))


def test_fetch_manifest(tmp_path, mirror_dir, capsys):
    mirror = mirror_from(mirror_dir.as_uri())
    assert python_runtime.fetch_manifest(mirror, FAST) is None
    assert "has no SHA256SUMS" in capsys.readouterr().out
    (mirror_dir / "SHA256SUMS").write_text(f"{'a' * 64}  {NAME}\n")
    assert python_runtime.fetch_manifest(mirror, FAST).versions_for(STACK) == ["3.12.1"]
    assert python_runtime.fetch_manifest(mirror_from(None), FAST) is None


def test_unreachable_mirror_manifest():
    mirror = mirror_from("http://127.0.0.1:9/python")
    with pytest.raises(BuildError) as error:
        python_runtime.fetch_manifest(mirror, FAST)
    assert error.value.title == "Unable to download Python."
    assert "http://127.0.0.1:9/python/SHA256SUMS" in error.value.body
