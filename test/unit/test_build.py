from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from python_buildpack.build import BuildDirs
from conftest import make_build


def test_hooks_get_the_build_cache_and_env_dirs_only(tmp_path):
    dirs = BuildDirs(tmp_path / "build", tmp_path / "cache", tmp_path / "env", tmp_path / "buildpack")
    assert dirs.for_hooks == {"BUILD_DIR": tmp_path / "build", "CACHE_DIR": tmp_path / "cache",
                              "ENV_DIR": tmp_path / "env"}


def test_the_app_dir_is_the_build_dir(tmp_path):
    build = make_build(tmp_path)
    assert build.app_dir == build.dirs.build == tmp_path / "build"
    assert build.install_test is False
    with pytest.raises(FrozenInstanceError):
        build.install_test = True  # type: ignore[misc]


def test_an_app_in_a_subdirectory(tmp_path):
    build = make_build(tmp_path, app_path="backend")
    assert build.app_dir == build.app.path == tmp_path / "build" / "backend"
    assert build.dirs.build == build.app.root == tmp_path / "build"  # the slug's root


def test_once_works_a_fact_out_once_a_build(tmp_path):
    calls = []

    def lines(build, name):
        calls.append(name)
        return (build.app_dir / name).read_text().splitlines()

    build = make_build(tmp_path)
    build.app_dir.mkdir(parents=True, exist_ok=True)
    (build.app_dir / "a.txt").write_text("one\n")
    (build.app_dir / "b.txt").write_text("two\n")
    assert build.once(lines, "a.txt") == ["one"]
    (build.app_dir / "a.txt").write_text("changed\n")
    assert build.once(lines, "a.txt") == ["one"]  # as this build first read it
    assert build.once(lines, "b.txt") == ["two"]
    assert calls == ["a.txt", "b.txt"]
    assert make_build(tmp_path).once(lines, "a.txt") == ["changed"]  # the next build reads it anew
