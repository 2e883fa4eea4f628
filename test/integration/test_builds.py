"""Builds in the stack environment: the Python runtime, the cache, the
environment for later buildpacks and run time, and every failure a user
can cause, each ending in one clear error."""

from __future__ import annotations

import json
import socket

import pytest


def ok(outcome):
    assert outcome.ok, (outcome.detect.output, outcome.compile and outcome.compile.output)
    assert "Traceback" not in outcome.compile.output
    return outcome.compile


def failed(outcome, error):
    """The build failed with one error block, and no traceback. `error`: for
    compile, the error's id, which bin/report gives (the wording isn't
    checked); for detect, which has no report, its headline."""
    result = outcome.compile if outcome.compile is not None else outcome.detect
    assert result.returncode == 1, result.output
    if outcome.compile is None:
        assert f"Error: {error}" in result.stderr, result.output
    else:
        assert "::" in error, f"pass the error's id, not its headline: {error!r}"
        assert outcome.report["status"] == "failed", (outcome.report, result.output)
        assert outcome.report["error"]["id"] == error, (outcome.report, result.output)
    # No traceback of the buildpack's; an app's (Django's) is shown indented.
    assert "Traceback" not in result.stderr
    assert all(line.startswith("       ") for line in result.stdout.splitlines() if "Traceback" in line)
    assert result.stderr.count(" !     Error: ") == 1
    assert "Internal error" not in result.output
    return result


def no_secrets(outcome, *secrets: str) -> None:
    """None of `secrets` (passwords, tokens, config var values) appears in
    anything the build printed: detect, compile, a later buildpack, release."""
    results = (outcome.detect, outcome.compile, outcome.report_result, outcome.later_buildpack, outcome.release)
    printed = "".join(result.output for result in results if result is not None)
    for secret in secrets:
        assert secret not in printed, f"a secret was printed: {secret!r}"


def test_minimal_app_boots_with_the_runtime_environment(herokuish, fixture_app, runtime_archives):
    version = runtime_archives.versions["3.12"]
    ok(herokuish.build(fixture_app("minimal_app")))
    result = herokuish.run_in_app(
        'echo "$(command -v python) $(python -c "import sys, ssl, sqlite3; print(sys.version.split()[0])")";'
        ' echo "PYTHONPATH=$PYTHONPATH LANG=$LANG PYTHONUNBUFFERED=$PYTHONUNBUFFERED"')
    assert result.returncode == 0, result.output
    assert result.stdout == (f"/app/.heroku/python/bin/python {version}\n"
                             "PYTHONPATH=/app LANG=C.UTF-8 PYTHONUNBUFFERED=1\n")
    assert herokuish.fetch("/").text == "<p>minimal app</p>\n"


def test_later_buildpacks_get_the_apps_python(herokuish, fixture_app, runtime_archives):
    outcome = herokuish.build(
        fixture_app("flask_app"),
        later_buildpack='command -v python; python -c "import flask; print(flask.__name__)"; pip --version',
    )
    ok(outcome)
    later = outcome.later_buildpack
    assert later.returncode == 0, later.output
    lines = later.stdout.splitlines()
    assert lines[0] == "/app/.heroku/python/bin/python"
    assert lines[1] == "flask"
    assert "python 3.12" in lines[2]


def test_app_dir_not_writable_during_the_build(herokuish, fixture_app):
    # Python then runs from the build dir itself, and the #! lines of the
    # scripts pip installs are rewritten to /app/.heroku/python for run time.
    herokuish.app_writable = False
    outcome = herokuish.build(fixture_app("flask_app"))
    result = ok(outcome)
    assert "Warning: Unable to link /app/.heroku/python to the build." in result.stderr
    gunicorn = herokuish.stack.host_path("/app/.heroku/python/bin/gunicorn")
    assert gunicorn.read_text().splitlines()[0] == "#!/app/.heroku/python/bin/python"
    assert herokuish.fetch("/").text == "Hello from Flask on Python 3.12"


def test_heroku_style_archive_without_rpath(herokuish, fixture_app, mirror, runtime_archives):
    herokuish.config["PYTHON_RUNTIME_BASE_URL"] = mirror.url("heroku-style")
    ok(herokuish.build(fixture_app("flask_app")))
    assert herokuish.fetch("/").text == "Hello from Flask on Python 3.12"


def test_mirror_without_manifest_like_herokus_bucket(herokuish, fixture_app, mirror, runtime_archives):
    version = runtime_archives.versions["3.12"]
    herokuish.config["PYTHON_RUNTIME_BASE_URL"] = mirror.url("no-manifest")
    log = ok(herokuish.build(fixture_app("minimal_app", {".python-version": version}))).output
    assert "The runtime mirror has no SHA256SUMS" in log
    assert f"-----> Installing Python {version}" in log
    assert "Warning: A Python patch update is available." in log

    # Without a manifest, a major version means the newest patch the buildpack knows.
    result = failed(herokuish.build(fixture_app("minimal_app")), "python-version::unknown-patch")
    assert "(newest known patch: 3.12." in result.stderr and "HTTP 404" in result.stdout


def test_dokku_style_config_vars_in_the_build_environment(herokuish, fixture_app):
    # dokku passes every config var to bin/compile as an environment variable.
    python_settings = {"PYTHONHOME": "/nonexistent", "PYTHONPATH": "/nonexistent",
                       "PYTHONSTARTUP": "/nonexistent.py", "PYTHONWARNINGS": "error", "PYTHONNOUSERSITE": "1"}
    herokuish.env.update(python_settings)
    herokuish.config.update(python_settings)
    source = fixture_app("minimal_app", {"requirements.txt": "six==1.17.0\n"})
    assert "\n        + six==1.17.0\n" in ok(herokuish.build(source)).stdout  # uv's line


# --- the cache ------------------------------------------------------------------

def test_python_version_change_discards_the_cache(herokuish, fixture_app, runtime_archives):
    old, new = runtime_archives.versions["3.12"], runtime_archives.versions["3.11"]
    ok(herokuish.build(fixture_app("minimal_app")))
    log = ok(herokuish.build(fixture_app("minimal_app", {".python-version": "3.11"}))).stdout
    assert f"-----> Discarding cache since:\n       - The Python version has changed from {old} to {new}\n" in log
    assert f"-----> Installing Python {new}" in log


def test_requirements_change_keeps_python_and_installs_the_dependencies_afresh(herokuish, fixture_app,
                                                                             runtime_archives):
    # What the changed file no longer lists is removed too: test_installers.py.
    ok(herokuish.build(fixture_app("minimal_app")))
    log = ok(herokuish.build(fixture_app("minimal_app", {"requirements.txt": "six==1.17.0\n"}))).stdout
    assert ("-----> Keeping the cached Python; installing the dependencies afresh since:\n"
            "       - The contents of requirements.txt changed\n") in log
    assert "Installing Python" not in log and "Discarding cache" not in log
    assert f"-----> Using cached install of Python {runtime_archives.versions['3.12']}" in log
    assert "\n        + six==1.17.0\n" in log


def test_sticky_major_version_from_the_last_build(herokuish, fixture_app, runtime_archives):
    ok(herokuish.build(fixture_app("minimal_app", {".python-version": "3.11"})))
    result = ok(herokuish.build(fixture_app("minimal_app", {".python-version": None})))
    assert ("-----> No Python version was specified. Using the same major version as the last build: "
            "Python 3.11") in result.stdout
    assert "Warning: No Python version was specified." in result.stderr
    assert "Restoring cache" in result.stdout


@pytest.mark.parametrize("damage", ["corrupt metadata", "interrupted save", "foreign file"])
def test_damaged_cache_is_discarded_and_the_build_succeeds(herokuish, fixture_app, stack, damage):
    ok(herokuish.build(fixture_app("minimal_app")))
    namespace = stack.host_path(f"{stack.tmp_dir}/cache/python-buildpack")
    if damage == "corrupt metadata":
        (namespace / "metadata.json").write_text('{"format": 1, "stack": ')
    elif damage == "interrupted save":
        (namespace / "metadata.json").unlink()
    else:
        import shutil
        shutil.rmtree(namespace)
        namespace.write_text("not ours")
    log = ok(herokuish.build(fixture_app("minimal_app"))).stdout
    if damage == "foreign file":
        assert "Installing Python" in log
    else:
        assert "- The cache is incomplete, corrupt or from another buildpack version" in log
    assert json.loads((namespace / "metadata.json").read_text())["format"] == 2


# --- failures -------------------------------------------------------------------

def test_not_a_python_app(herokuish, fixture_app, tmp_path):
    source = tmp_path / "static_site"
    source.mkdir()
    (source / "index.html").write_text("hi")
    outcome = herokuish.build(source)
    assert outcome.detect.returncode == 1 and outcome.compile is None
    assert "doesn't look like a Python app" in outcome.detect.stderr and "index.html" in outcome.detect.stderr


def test_no_requirements_file(herokuish, fixture_app):
    result = failed(herokuish.build(fixture_app("minimal_app", {"requirements.txt": None, "app.py": ""})),
                    "package-manager::none-found")
    assert "    app.py" in result.stderr


def test_unknown_stack(herokuish, fixture_app):
    herokuish.stack_name = "heroku-99"
    failed(herokuish.build(fixture_app("minimal_app")), "checks::stack::unknown")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_mirror_with_a_usable_cache(herokuish, fixture_app, runtime_archives):
    ok(herokuish.build(fixture_app("minimal_app")))
    herokuish.config["PYTHON_RUNTIME_BASE_URL"] = f"http://127.0.0.1:{closed_port()}/python"
    result = ok(herokuish.build(fixture_app("minimal_app")))
    version = runtime_archives.versions["3.12"]
    assert f"Warning: Unable to reach the runtime mirror; using the cached Python {version}." in result.stderr
    assert f"-----> Using cached install of Python {version}" in result.stdout


def test_checksum_mismatch_installs_nothing(herokuish, fixture_app, mirror, stack):
    herokuish.config["PYTHON_RUNTIME_BASE_URL"] = mirror.url("bad-checksum")
    outcome = herokuish.build(fixture_app("minimal_app"))
    failed(outcome, "runtime-mirror::checksum-mismatch")
    heroku_dir = stack.host_path(f"{outcome.build_dir}/.heroku")
    assert not (heroku_dir / "python").exists()
    assert [p.name for p in heroku_dir.iterdir()] == ["python-buildpack-report.json"]  # nothing of Python
    assert not stack.host_path(f"{stack.tmp_dir}/cache/python-buildpack/python").exists()


def test_failing_pip_install(herokuish, fixture_app, stack):
    # pip's own failure (PYTHON_INSTALLER=pip); uv's, which says how to switch
    # to pip, is in test_installers.py.
    herokuish.config["PYTHON_INSTALLER"] = "pip"
    requirements = "this-package-does-not-exist-anywhere-4711==1.0\n"
    result = failed(herokuish.build(fixture_app("minimal_app", {"requirements.txt": requirements})),
                    "install-dependencies::pip")
    assert "No matching distribution found for this-package-does-not-exist-anywhere-4711" in result.stdout
    assert "PYTHON_INSTALLER" not in result.stderr  # already pip
    assert not stack.host_path(f"{stack.tmp_dir}/cache/python-buildpack/metadata.json").exists()


def test_extra_index_from_config_vars(herokuish, fixture_app, mirror):
    # Private index URLs carry credentials: they must never reach the log.
    url = mirror.url("simple").replace("http://", "http://deploy:s3cret-token@")
    herokuish.config["PIP_EXTRA_INDEX_URL"] = f"{url}/"
    source = fixture_app("minimal_app", {"requirements.txt": "buildpack-private-pkg==1.0\n"})
    result = ok(herokuish.build(source))
    # uv takes it from the extra index (UV_INDEX, from PIP_EXTRA_INDEX_URL).
    assert "-----> Installing dependencies using 'uv pip install -r requirements.txt'" in result.stdout
    assert "\n        + buildpack-private-pkg==1.0\n" in result.stdout
    assert "s3cret-token" not in result.output
    result = herokuish.run_in_app("python -c 'import buildpack_private_pkg as p; print(p.GREETING)'")
    assert result.stdout == "hello from the private index\n", result.output
