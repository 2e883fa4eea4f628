"""tool_layer.ToolLayer: one rule for reusing every cached tool."""

from __future__ import annotations

import pytest

from python_buildpack.errors import BuildError
from python_buildpack.tool_layer import ToolLayer


def layer(tmp_path, **options):
    settings = dict(name="poetry", label="Poetry", version="2.0.1", directory=tmp_path / "poetry",
                    site_packages="venv/lib/python3*/site-packages", runs_on="/app/.heroku/python python3.12")
    settings.update(options)
    return ToolLayer(**settings)


def installer(tool, version=None, calls=None):
    def install():
        if calls is not None:
            calls.append(tool.name)
        site_packages = tool.directory / "venv/lib/python3.12/site-packages"
        site_packages.mkdir(parents=True, exist_ok=True)
        (site_packages / f"{tool.name}-{version or tool.version}.dist-info").mkdir()
        return True
    return install


def test_installed_once_then_reused(tmp_path, capsys):
    tool, calls = layer(tmp_path), []
    tool.ensure(installer(tool, calls=calls))
    tool.ensure(installer(tool, calls=calls))
    assert calls == ["poetry"]
    out = capsys.readouterr().out
    assert "-----> Installing Poetry 2.0.1" in out and "-----> Using cached Poetry 2.0.1" in out


@pytest.mark.parametrize("change", [{"version": "2.0.2"}, {"runs_on": "/app/.heroku/python python3.13"}])
def test_another_version_or_python_installs_it_again(tmp_path, change):
    calls = []
    first = layer(tmp_path)
    first.ensure(installer(first, calls=calls))
    (tmp_path / "poetry" / "leftover").write_text("")
    second = layer(tmp_path, **change)
    second.ensure(installer(second, calls=calls))
    assert len(calls) == 2 and not (tmp_path / "poetry" / "leftover").exists()


def test_an_install_without_its_stamp_is_not_trusted(tmp_path):
    """A build killed after the tool's files were written, before the stamp."""
    tool, calls = layer(tmp_path), []
    installer(tool)()
    tool.ensure(installer(tool, calls=calls))
    assert calls == ["poetry"]


def test_a_failed_install_leaves_nothing(tmp_path):
    tool = layer(tmp_path)

    def fails():
        (tmp_path / "poetry").mkdir()
        return False

    with pytest.raises(BuildError):
        tool.ensure(fails)
    assert not (tmp_path / "poetry").exists()


def test_an_install_of_the_wrong_version_is_a_failure(tmp_path):
    tool = layer(tmp_path)
    with pytest.raises(BuildError):
        tool.ensure(installer(tool, version="1.9"))


def test_a_tool_in_the_apps_python_is_never_removed(tmp_path):
    python = tmp_path / "python"
    tool = ToolLayer("pip", "pip", "25.0", python, owns_directory=False)
    (python / "lib/python3.12/site-packages").mkdir(parents=True)
    (python / "bin").mkdir()
    with pytest.raises(BuildError):
        tool.ensure(lambda: False)
    assert (python / "bin").is_dir()
