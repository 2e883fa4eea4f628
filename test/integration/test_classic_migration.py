"""Apps moving from the classic Python buildpack keep their Python major."""

from __future__ import annotations

from test_builds import failed, ok


def test_classic_buildpack_cache_gives_the_python_major(herokuish, fixture_app, stack, runtime_archives):
    # What the classic buildpack leaves in CACHE_DIR after building on 3.12.
    classic = stack.host_path(f"{stack.tmp_dir}/cache/.heroku/python-version")
    classic.parent.mkdir(parents=True)
    classic.write_text("python-3.12.3\n")
    result = ok(herokuish.build(fixture_app("minimal_app", {".python-version": None})))
    assert ("-----> No Python version was specified. Using the same major version as the last build "
            "(made by the classic Python buildpack): Python 3.12\n") in result.stdout
    assert f"-----> Installing Python {runtime_archives.versions['3.12']}" in result.stdout
    assert "Warning: No Python version was specified." in result.stderr

    # From then on, this buildpack's own record is what counts.
    classic.write_text("python-3.11.9\n")
    result = ok(herokuish.build(fixture_app("minimal_app", {".python-version": None})))
    assert ("-----> No Python version was specified. Using the same major version as the last build: "
            "Python 3.12\n") in result.stdout


def test_classic_cache_with_pypy_is_ignored(herokuish, fixture_app, stack, runtime_archives):
    classic = stack.host_path(f"{stack.tmp_dir}/cache/.heroku/python-version")
    classic.parent.mkdir(parents=True)
    classic.write_text("pypy3.10-7.3.17\n")
    # Not a CPython version: the app gets the default, as with no cache. Where
    # this machine can't make a 3.14 runtime (heroku-22/24 here), the test
    # mirror doesn't have it, so the build stops there, with that error.
    outcome = herokuish.build(fixture_app("minimal_app", {".python-version": None}))
    result = outcome.compile
    assert "-----> No Python version was specified. Using the buildpack default: Python 3.14" in result.stdout
    if "3.14" in runtime_archives.unavailable:
        failed(outcome, "python-version::unknown-patch")
    else:
        assert result.returncode == 0, result.output
        assert f"-----> Installing Python {runtime_archives.versions['3.14']}" in result.stdout
