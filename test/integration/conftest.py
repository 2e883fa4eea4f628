"""Fixtures for the integration suite: the stack environment, runtime
archives made from this machine's CPython builds, and a runtime mirror
serving them on 127.0.0.1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runtimes import MirrorServer, MissingPrerequisite, RuntimeArchives, package_archives
from stack_env import REPO, make_rootfs, make_stack, stack_kind, stack_name, HerokuishBuild

FIXTURES = REPO / "test" / "fixtures"


def pytest_report_header(config):
    return f"stack: {stack_name()} in {stack_kind()}"


@pytest.fixture(scope="session")
def rootfs() -> Path | None:
    try:
        return make_rootfs()
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def runtime_archives() -> RuntimeArchives:
    try:
        return package_archives(stack_name())
    except MissingPrerequisite as error:
        pytest.fail(str(error))


@pytest.fixture
def runtime_version(runtime_archives):
    """runtime_version(major): the exact version the test mirror has, or a
    skip, with the reason, when this machine can't make that runtime."""

    def version(major: str) -> str:
        if major in runtime_archives.unavailable:
            pytest.skip(f"no Python {major} runtime here: {runtime_archives.unavailable[major]}")
        return runtime_archives.versions[major]

    return version


@pytest.fixture(scope="session")
def mirror(runtime_archives, tmp_path_factory) -> MirrorServer:
    server = MirrorServer(runtime_archives, tmp_path_factory.mktemp("mirrors"))
    yield server
    server.close()


@pytest.fixture
def stack(rootfs, tmp_path):
    return make_stack(rootfs, tmp_path)


@pytest.fixture
def herokuish(stack, mirror) -> HerokuishBuild:
    """A herokuish-style builder whose app config points at the test mirror."""
    return HerokuishBuild(stack, stack_name(), config={"PYTHON_RUNTIME_BASE_URL": mirror.url()})


@pytest.fixture
def fixture_app(tmp_path):
    """A copy of a fixture app, with files changed: fixture_app(name, {path: content})."""

    def make(name: str, files: dict[str, str | bytes | None] | None = None) -> Path:
        target = tmp_path / "source" / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(FIXTURES / name, target)
        for relative, content in (files or {}).items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if content is None:
                path.unlink()
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return target

    return make
