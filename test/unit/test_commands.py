"""run_streamed: a command's output in the build log, as it comes."""

from __future__ import annotations

import errno
import os

import pytest

from python_buildpack import commands
from python_buildpack.commands import CommandResult
from python_buildpack.errors import BuildError

ENV = {"PATH": "/usr/bin:/bin"}


def test_output_is_indented_and_captured(tmp_path, capsys):
    result = commands.run_streamed(["sh", "-c", "echo out; echo err >&2; printf 'no newline'; exit 3"], ENV)
    assert (result.returncode, result.ok, result.start_error) == (3, False, None)
    assert result.output == "out\nerr\nno newline"
    assert capsys.readouterr() == ("       out\n       err\n       no newline\n", "")


def test_output_is_streamed_while_the_command_runs(tmp_path):
    # The command waits for a file that the build creates once it has shown
    # the first line: a build that showed output only at the end would wait
    # the whole ten seconds and see "too late".
    script = ('echo first; i=0; while [ ! -f go ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; '
              '[ -f go ] && echo second || echo too late')

    def on_line(line):
        if line == "first\n":
            (tmp_path / "go").write_text("")
        return line

    result = commands.run_streamed(["sh", "-c", script], ENV, cwd=tmp_path, line_filter=on_line)
    assert result.output == "first\nsecond\n"


def test_line_filter_rewrites_or_hides_lines_but_all_are_kept(capsys):
    def shorten(line):
        return None if line.startswith("secret") else line.replace("/app/.heroku/python/lib", "...")

    result = commands.run_streamed(["sh", "-c", "echo /app/.heroku/python/lib/x; echo secret"], ENV,
                                   line_filter=shorten)
    assert result.output == "/app/.heroku/python/lib/x\nsecret\n"
    assert capsys.readouterr().out == "       .../x\n"


def test_quiet_shows_output_only_on_failure(capsys):
    assert commands.run_streamed(["sh", "-c", "echo fine"], ENV, quiet=True).output == "fine\n"
    assert capsys.readouterr().out == ""
    result = commands.run_streamed(["sh", "-c", "echo one; echo two >&2; exit 1"], ENV, quiet=True)
    assert result.returncode == 1
    assert capsys.readouterr().out == "       one\n       two\n"


def test_runs_in_cwd_with_only_the_env_given(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAKED", "from the buildpack's own environment")
    result = commands.run_streamed(["sh", "-c", 'pwd; echo "${LEAKED-unset} $GIVEN"'], {**ENV, "GIVEN": "given"},
                                   cwd=tmp_path)
    assert result.output == f"{tmp_path}\nunset given\n"


def test_commands_never_read_the_builds_stdin():
    # Whatever the build's own stdin holds (here, a line waiting in a pipe),
    # a command reads nothing: it can't wait for input that never comes.
    read_end, write_end = os.pipe()
    saved = os.dup(0)
    try:
        os.write(write_end, b"typed\n")
        os.dup2(read_end, 0)
        result = commands.run_streamed(["sh", "-c", 'read line && echo "read $line" || echo nothing'], ENV)
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read_end, write_end):
            os.close(fd)
    assert result.output == "nothing\n"


def test_output_that_isnt_utf8_or_has_crlf(capsys):
    result = commands.run_streamed(["printf", "caf\\351\\r\\nok\\r\\n"], ENV)
    assert result.output == "caf\ufffd\nok\n"


@pytest.mark.parametrize("make, error_number, reason", [
    (None, errno.ENOENT, "No such file or directory"),
    ("not executable", errno.EACCES, "Permission denied"),
])
def test_a_command_that_cant_start(tmp_path, capsys, make, error_number, reason):
    program = tmp_path / "tool"
    if make:
        program.write_text("#!/bin/sh\n")
    result = commands.run_streamed([str(program), "--version"], ENV)
    assert (result.returncode, result.start_error, result.start_errno) == (127, reason, error_number)
    assert result.output == f"{program}: {reason}"
    assert capsys.readouterr().out == f"       {program}: {reason}\n"


def test_an_environment_too_large_to_start_a_command():
    with pytest.raises(BuildError) as error:
        commands.run_streamed(["true"], {**ENV, "HUGE": "x" * (commands.ENV_ENTRY_LIMIT + 1)})
    assert error.value.id == "build-env::variable-too-large"
    assert "HUGE" in error.value.body


def test_oversized_variables():
    env = {"SMALL": "x", "BIG": "x" * 50, "BIGGER": "x" * 60, "MIDDLE": "x" * 10}
    assert commands.oversized_variables(env, limit=55) == [("BIGGER", 68)]  # "BIGGER=" + 60 + NUL
    assert commands.oversized_variables(env, limit=1000, largest=2) == [("BIGGER", 68), ("BIG", 55)]


def test_result_mentions_phrases_however_wrapped():
    result = CommandResult(1, "Your Pipfile.lock (abc) is out of\n  date. Expected: (def).\n")
    assert result.mentions("nothing", "is out of date")
    assert not result.mentions("out of data")
    assert CommandResult(0, "").ok
