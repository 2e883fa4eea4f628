"""Helpers that make .tar.zst archives, including hostile ones."""

from __future__ import annotations

import io
import subprocess
import tarfile


def member(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = "", mode: int = 0o755):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = mode
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def tar_zst(*members) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return subprocess.run(["zstd", "-q", "-c"], input=buffer.getvalue(), capture_output=True, check=True).stdout


def fake_tar(directory, monkeypatch, script: str) -> None:
    """archive.py runs `script` (sh) as its tar."""
    import shutil

    from python_buildpack import archive

    tar = directory / "tar"
    tar.write_text(f"#!/bin/sh\n{script}")
    tar.chmod(0o755)
    which = shutil.which
    monkeypatch.setattr(archive.shutil, "which", lambda name: str(tar) if name == "tar" else which(name))


def python_archive(script: bytes = b"#!/bin/sh\necho python\n") -> bytes:
    """A tiny stand-in runtime: bin/python3 and a stdlib file."""
    return tar_zst(
        member("./", tarfile.DIRTYPE),
        member("./bin/", tarfile.DIRTYPE),
        member("./bin/python3", data=script),
        member("./lib/python3.12/os.py", data=b"# os\n", mode=0o644),
    )
