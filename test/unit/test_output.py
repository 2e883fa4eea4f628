"""The build log's formats: steps, indented detail, and the marked blocks on stderr."""

from __future__ import annotations

import pytest

from python_buildpack import output


@pytest.fixture(autouse=True)
def no_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")


def test_step(capsys):
    output.step("Installing pip 26.3")
    assert capsys.readouterr() == ("-----> Installing pip 26.3\n", "")


def test_info_indents_every_line(capsys):
    output.info("first\n\nthird  ")
    output.info()
    assert capsys.readouterr() == ("       first\n\n       third\n\n", "")


def test_indented_line(capsys):
    output.indented_line("Collecting flask\n")
    output.indented_line("   \n")
    assert capsys.readouterr().out == "       Collecting flask\n\n"


@pytest.mark.parametrize("show", [output.warning, output.notice, output.error])
def test_blocks_go_to_stderr(capsys, show):
    show("Headline.\n\nDetail.\n")
    assert capsys.readouterr() == ("", "\n !     Headline.\n !\n !     Detail.\n\n")


@pytest.mark.parametrize("show, colour", [
    (output.error, "\033[1;31m"), (output.warning, "\033[1;33m"), (output.notice, "\033[1;34m"),
])
def test_blocks_are_coloured_unless_no_color(capsys, monkeypatch, show, colour):
    monkeypatch.delenv("NO_COLOR")
    show("one\ntwo")
    assert capsys.readouterr().err == f"\n{colour} !     one\033[0m\n{colour} !     two\033[0m\n\n"
    monkeypatch.setenv("NO_COLOR", "")  # empty is unset, as no-color.org says
    show("one")
    assert "\033[" in capsys.readouterr().err
    monkeypatch.setenv("NO_COLOR", "1")
    show("one")
    assert capsys.readouterr().err == "\n !     one\n\n"


def test_format_box():
    assert output.format_box("warning", "a\nb\n\n") == "\n !     a\n !     b\n\n"
