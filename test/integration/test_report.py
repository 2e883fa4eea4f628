"""bin/report after real builds: what a successful and a failed build
report. Every failing build in the suite also checks its error id through
bin/report (test_builds.failed), and a build killed halfway reports the step
it was in (test_hostile_cache.test_a_build_killed_while_using_the_cache)."""

from __future__ import annotations

from test_builds import failed, ok


def test_successful_builds_report_what_they_did(herokuish, fixture_app, runtime_archives):
    version = runtime_archives.versions["3.12"]
    first = herokuish.build(fixture_app("flask_app"))
    ok(first)
    report = first.report
    assert report["status"] == "succeeded" and report["buildpack_version"]
    assert report["stack"] == herokuish.stack_name and report["arch"] in ("amd64", "arm64")
    assert report["python"] == {"version": version, "requested": "3.12", "origin": ".python-version"}
    assert report["package_manager"]["name"] == "pip" and report["package_manager"]["version"]
    assert report["package_manager"]["installer"] == "uv"
    assert report["cache"] == {"status": "empty", "reasons": [], "dependencies_reinstalled_because": []}
    assert report["dependencies_install_skipped"] is False
    steps = report["steps"]
    assert list(steps)[:4] == ["pre_compile", "python_version", "python", "package_manager"]
    assert all(isinstance(seconds, float) and seconds >= 0 for seconds in steps.values())
    assert report["duration"] >= sum(steps.values()) - 0.01

    second = herokuish.build(fixture_app("flask_app"))
    ok(second)
    assert second.report["cache"]["status"] == "reused"
    assert second.report["dependencies_install_skipped"] is True

    third = herokuish.build(fixture_app("flask_app", {"requirements.txt": "flask==3.1.0\ngunicorn\n"}))
    ok(third)
    # The cached Python is kept; only the dependencies are installed afresh.
    assert third.report["cache"] == {"status": "reused", "reasons": [],
                                     "dependencies_reinstalled_because": ["The contents of requirements.txt changed"]}
    assert third.report["dependencies_install_skipped"] is False


def test_a_failed_build_reports_its_error_id_and_no_secret(herokuish, fixture_app):
    herokuish.config["SECRET_TOKEN"] = "s3cr3t-value"
    outcome = herokuish.build(fixture_app("minimal_app", {".python-version": "3.8\n"}))
    failed(outcome, "python-version::eol")
    assert outcome.report["error"]["detail"] == "3.8"
    assert "s3cr3t-value" not in outcome.report_result.output

