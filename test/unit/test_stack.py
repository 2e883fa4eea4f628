from __future__ import annotations

import pytest

from python_buildpack import stack
from python_buildpack.errors import BuildError


@pytest.mark.parametrize("name", ["heroku-22", "heroku-24", "heroku-26"])
def test_supported_stacks(name):
    assert stack.check_stack_name(name) == name


@pytest.mark.parametrize("name", ["cedar", "cedar-14", "heroku-16", "heroku-18", "heroku-20"])
def test_end_of_life_stacks(name):
    with pytest.raises(BuildError) as error:
        stack.check_stack_name(name)
    assert (error.value.id, error.value.detail) == ("checks::stack::eol", name)


@pytest.mark.parametrize("name", ["heroku-28", "ubuntu-24", "heroku-24-build", "x"])
def test_unknown_stacks(name):
    with pytest.raises(BuildError) as error:
        stack.check_stack_name(name)
    assert (error.value.id, error.value.detail) == ("checks::stack::unknown", name)


@pytest.mark.parametrize("name", [None, ""])
def test_missing_stack(name):
    with pytest.raises(BuildError) as error:
        stack.check_stack_name(name)
    assert error.value.id == "checks::stack::missing"


def test_ubuntu_version():
    assert stack.Stack("heroku-22", "amd64").ubuntu_version == "22.04"
    assert stack.Stack("heroku-26", "arm64").ubuntu_version == "26.04"


@pytest.mark.parametrize("arch", ["amd64", "arm64"])
def test_architecture(fp, arch):
    fp.register(["dpkg", "--print-architecture"], stdout=f"{arch}\n")
    assert stack.current_stack({"STACK": "heroku-24"}) == stack.Stack("heroku-24", arch)


def test_unsupported_architecture(fp):
    fp.register(["dpkg", "--print-architecture"], stdout="i386\n")
    with pytest.raises(BuildError) as error:
        stack.detect_architecture()
    assert (error.value.id, error.value.detail) == ("checks::architecture::unsupported", "i386")


def test_architecture_without_dpkg(fp):
    fp.register(["dpkg", "--print-architecture"], returncode=127)
    with pytest.raises(BuildError) as error:
        stack.detect_architecture()
    assert error.value.id == "checks::architecture::unknown"
