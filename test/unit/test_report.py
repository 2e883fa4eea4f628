"""The build report (report.py) and bin/report's command (cli.run_report)."""

from __future__ import annotations

import json
import os

from python_buildpack import cli, report
from python_buildpack.report import BuildReport


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def dirs(tmp_path):
    build, cache = tmp_path / "build", tmp_path / "cache"
    build.mkdir()
    cache.mkdir()
    return build, cache


def test_each_fact_is_on_disk_as_soon_as_it_is_recorded(tmp_path):
    build, cache = dirs(tmp_path)
    clock = Clock()
    recorder = BuildReport(build, cache, clock)
    assert report.read(build, cache)["status"] == "running"
    recorder.record(stack="heroku-24", python={"version": "3.12.4"})
    with recorder.step("python"):
        assert report.read(build, cache)["current_step"] == "python"
        clock.now += 2.5
    recorder.finish()
    data = report.read(build, cache)
    assert data["status"] == "succeeded" and data["stack"] == "heroku-24"
    assert data["steps"] == {"python": 2.5} and "current_step" not in data
    assert data["buildpack_version"] == report.BUILDPACK_VERSION


def test_a_build_that_stops_in_a_step_names_it(tmp_path):
    build, cache = dirs(tmp_path)
    recorder = BuildReport(build, cache)
    try:
        with recorder.step("dependencies"):
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    # Killed here: nothing more is written.
    data = report.read(build, cache)
    assert data["status"] == "running" and data["current_step"] == "dependencies"


def test_a_failure_records_the_error_id_and_a_short_detail(tmp_path):
    build, cache = dirs(tmp_path)
    recorder = BuildReport(build, cache)
    recorder.finish("python-version::eol", "3.8" * 200)
    data = report.read(build, cache)
    assert data["status"] == "failed" and data["error"]["id"] == "python-version::eol"
    assert len(data["error"]["detail"]) == 200


def test_an_older_report_never_passes_for_this_builds(tmp_path):
    build, cache = dirs(tmp_path)
    BuildReport(build, cache).finish("python-version::eol")
    BuildReport(build, cache)
    assert report.read(build, cache)["status"] == "running"


def test_a_linked_heroku_dir_is_never_written_through(tmp_path):
    build, cache = dirs(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (build / ".heroku").symlink_to(elsewhere)
    BuildReport(build, cache).finish()
    assert list(elsewhere.iterdir()) == []
    assert report.read(build, cache)["status"] == "succeeded"  # from the cache dir instead


def test_nothing_to_write_to_is_no_failure(tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    (build / ".heroku").write_text("a file")
    recorder = BuildReport(build, tmp_path / "missing" / "cache")
    recorder.finish()
    assert report.read(build, tmp_path / "missing" / "cache") is None


def test_a_foreign_or_huge_file_is_no_report(tmp_path):
    build, cache = dirs(tmp_path)
    (build / ".heroku").mkdir()
    (build / report.REPORT_PATH).write_text("[1, 2]")
    assert report.read(build, cache) is None
    (build / report.REPORT_PATH).write_text("x" * 300_000)
    assert report.read(build, cache) is None
    (build / report.REPORT_PATH).unlink()
    os.mkfifo(build / report.REPORT_PATH)
    assert report.read(build, cache) is None  # and doesn't block


def test_bin_report_prints_json_and_never_fails(tmp_path, capsys):
    build, cache = dirs(tmp_path)
    assert cli.main(["report", str(build), str(cache), str(tmp_path / "env")]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "no-build-data"
    BuildReport(build, cache).finish("checks::existing-venv-dir", ".venv")
    assert cli.main(["report", str(build), str(cache), str(tmp_path / "env")]) == 0
    assert json.loads(capsys.readouterr().out)["error"] == {"id": "checks::existing-venv-dir", "detail": ".venv"}
    assert cli.main(["report"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] in ("no-build-data", "running", "succeeded", "failed")


def test_the_report_moves_into_the_app_once_heroku_is_there(tmp_path):
    """The build never makes .heroku before the app's pre_compile hook has
    run (the hook may make it, or a link there: checks.py refuses that)."""
    build, cache = dirs(tmp_path)
    recorder = BuildReport(build, cache)
    assert not (build / ".heroku").exists()
    assert (cache / report.FALLBACK_NAME).is_file()
    (build / ".heroku").mkdir()
    recorder.record(stack="heroku-24")
    assert (build / report.REPORT_PATH).is_file() and not (cache / report.FALLBACK_NAME).exists()
    assert report.read(build, cache)["stack"] == "heroku-24"


def test_the_file_is_valid_json_after_every_write_and_trimmed_at_the_end(tmp_path):
    build, cache = dirs(tmp_path)
    recorder = BuildReport(build, cache)
    path = build / report.REPORT_PATH
    (build / ".heroku").mkdir()
    recorder.record(detail="x" * 500)
    inode = path.stat().st_ino
    recorder.data.pop("detail")
    recorder.record(stack="heroku-24")  # shorter than what is on disk
    text = path.read_text()
    assert text.endswith(" ") and json.loads(text)["stack"] == "heroku-24"  # padded, still valid
    recorder.finish()
    assert path.read_text() == json.dumps(recorder.data, indent=2) + "\n"  # trimmed
    assert path.stat().st_ino == inode  # rewritten in place, no new file each time
