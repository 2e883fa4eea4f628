from __future__ import annotations

import os

import pytest

from python_buildpack import app_files
from python_buildpack.errors import BuildError
from conftest import within


def test_file_fingerprint(tmp_path):
    (tmp_path / "a").write_text("1")
    first = app_files.fingerprint(tmp_path / "a", tmp_path / "missing")
    (tmp_path / "a").write_text("2")
    assert app_files.fingerprint(tmp_path / "a", tmp_path / "missing") != first


@pytest.mark.parametrize("make, problem", [
    (os.mkfifo, "a named pipe (FIFO), not a regular file"),
    (os.mkdir, "a directory, not a regular file"),
])
def test_read_bytes_refuses_what_isnt_a_regular_file(tmp_path, make, problem):
    make(tmp_path / "requirements.txt")
    with pytest.raises(app_files.NotUsable) as refused:
        within(5, app_files.read_bytes, tmp_path / "requirements.txt")
    assert str(refused.value) == problem


def test_read_bytes_refuses_a_huge_file_and_follows_links(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * (2 * 1024 * 1024 + 1))
    with pytest.raises(app_files.NotUsable, match="^larger than 2 MB$"):
        app_files.read_bytes(tmp_path / "big", limit=2 * 1024 * 1024)
    (tmp_path / "reqs.txt").write_bytes(b"flask\n")
    (tmp_path / "requirements.txt").symlink_to("reqs.txt")
    assert app_files.read_bytes(tmp_path / "requirements.txt") == b"flask\n"
    with pytest.raises(FileNotFoundError):
        app_files.read_bytes(tmp_path / "missing")


def test_read_app_file_names_the_file(tmp_path):
    (tmp_path / "Pipfile.lock").mkdir()
    with pytest.raises(BuildError) as error:
        app_files.read_app_file(tmp_path / "Pipfile.lock", "Pipfile.lock")
    assert (error.value.id, error.value.detail) == ("app-files::unreadable", "Pipfile.lock")
    assert "can't be read: it is a directory, not a regular file." in error.value.body
    with pytest.raises(BuildError) as error:
        app_files.read_app_file(tmp_path / "missing.txt", "requirements/missing.txt")
    assert (error.value.id, error.value.detail) == ("app-files::unreadable", "requirements/missing.txt")
    assert "No such file or directory" in error.value.body


def test_read_text_requires_utf8_and_names_the_file(tmp_path):
    (tmp_path / "uv.lock").write_bytes("version = 1\n# café\n".encode())
    assert app_files.read_text(tmp_path / "uv.lock") == "version = 1\n# café\n"
    (tmp_path / "uv.lock").write_bytes(b"version = 1\n# caf\xe9\n")
    with pytest.raises(BuildError) as error:
        app_files.read_text(tmp_path / "uv.lock")
    assert (error.value.id, error.value.detail) == ("app-files::not-utf8", "uv.lock")
    assert "byte offset 17 (line 2)" in error.value.body


def test_fingerprint_covers_names_and_tells_missing_from_empty(tmp_path):
    (tmp_path / "a").write_text("same")
    (tmp_path / "b").write_text("same")
    assert app_files.fingerprint(tmp_path / "a") == app_files.fingerprint(tmp_path / "a")
    assert app_files.fingerprint(tmp_path / "a") != app_files.fingerprint(tmp_path / "b")
    (tmp_path / "empty").write_text("")
    assert app_files.fingerprint(tmp_path / "empty") != app_files.fingerprint(tmp_path / "gone")
    (tmp_path / "dir").mkdir()  # counts as missing, never an error
    assert app_files.fingerprint(tmp_path / "dir") == app_files.fingerprint(tmp_path / "none" / "dir")


def test_list_directory(tmp_path):
    assert app_files.list_directory(tmp_path) == "    (nothing: the directory is empty)"
    (tmp_path / "static").mkdir()
    (tmp_path / "app.py").write_text("")
    (tmp_path / "linked").symlink_to("static")  # a link is shown as itself, not as a directory
    (tmp_path / ".env").write_text("")
    assert app_files.list_directory(tmp_path) == "    .env\n    app.py\n    linked\n    static/"
    for number in range(5):
        (tmp_path / f"z{number}").write_text("")
    assert app_files.list_directory(tmp_path, limit=3) == "    .env\n    app.py\n    linked\n    ... and 6 more"


def test_present_counts_a_broken_link(tmp_path):
    assert not app_files.present(tmp_path / "requirements.txt")
    (tmp_path / "requirements.txt").symlink_to("nowhere")
    assert app_files.present(tmp_path / "requirements.txt")


def test_parse_once_parses_again_after_a_change(tmp_path):
    calls = []

    def parse(path):
        calls.append(path.read_text())
        return path.read_text().upper()

    lock = tmp_path / "poetry.lock"
    lock.write_text("one")
    assert app_files.parse_once(lock, parse) == "ONE"
    assert app_files.parse_once(lock, parse) == "ONE"
    assert calls == ["one"]
    lock.write_text("two")  # a hook rewrote it
    assert app_files.parse_once(lock, parse) == "TWO"
    assert calls == ["one", "two"]


def test_parse_once_leaves_an_unreadable_file_to_the_parser(tmp_path):
    def parse(path):
        raise ValueError(f"can't read {path.name}")

    with pytest.raises(ValueError, match="can't read missing.lock"):
        app_files.parse_once(tmp_path / "missing.lock", parse)


def test_read_small_text_never_follows_a_link(tmp_path):
    (tmp_path / "real").write_text("3.12.4\n")
    assert app_files.read_small_text(tmp_path / "real", 100) == "3.12.4\n"
    (tmp_path / "link").symlink_to("real")
    assert app_files.read_small_text(tmp_path / "link", 100) is None


def test_read_small_text_refuses_odd_files(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    assert within(5, app_files.read_small_text, tmp_path / "fifo", 100) is None
    (tmp_path / "dir").mkdir()
    assert app_files.read_small_text(tmp_path / "dir", 100) is None
    (tmp_path / "big").write_text("x" * 101)
    assert app_files.read_small_text(tmp_path / "big", 100) is None
    assert app_files.read_small_text(tmp_path / "big", 101) == "x" * 101
    (tmp_path / "latin1").write_bytes(b"caf\xe9")
    assert app_files.read_small_text(tmp_path / "latin1", 100) is None
    assert app_files.read_small_text(tmp_path / "missing", 100) is None


@pytest.mark.parametrize("data, bad", [
    (b"flask\n", None),
    (b"flask\n# caf\xe9\n", app_files.BadByte(11, 2)),
    ("\ufeffflask\n# café\n".encode("utf-16-le"), None),  # a byte order mark names the encoding
    (b"# -*- coding: latin-1 -*-\n# caf\xe9\nflask\n", None),  # so does an encoding line
    (b"# -*- coding: utf-8 -*-\n# caf\xe9\n", app_files.BadByte(29, 2)),
])
def test_first_bad_byte_as_pip_reads(data, bad):
    assert app_files.first_bad_byte_as_pip_reads(data) == bad
