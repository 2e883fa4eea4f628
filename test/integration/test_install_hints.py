"""Known install failures get their own error: each one a real install (uv's,
the default, unless the cause is pip's own) of a real package from the
index, through bin/compile, failing the way it fails for users."""

from __future__ import annotations

import pytest

from stack_env import run
from test_builds import failed


# The hints share the failed install's id; the report's detail is the phrase
# of the tool's output that picked the hint.
@pytest.mark.parametrize("requirement, found_in_log, fix, installer", [
    # GDAL only publishes an sdist; the stand-in (like the build image) has no gdal-config.
    ("GDAL==3.10.3", "Could not find gdal-config", "heroku-geo-buildpack", "uv"),
    # pysqlite3 0.5.x is an sdist compiled against sqlite3.h, which isn't installed.
    ("pysqlite3==0.5.4", "sqlite3.h: No such file or directory", "pysqlite3-binary", "uv"),
    # celery 5.0.5's metadata (pytz (>dev)) is refused by pip 24.1 and newer;
    # uv reads it leniently and installs celery 5.0.5.
    ("celery==5.0.5", "Please use pip<24.1 if you need to use this version", "celery 5.2.1 or newer", "pip"),
])
def test_known_install_failures_get_a_hint(herokuish, fixture_app, stack, requirement, found_in_log, fix, installer):
    if requirement.startswith("pysqlite3") and run(stack, ["test", "-e", "/usr/include/sqlite3.h"], {}).returncode == 0:
        pytest.skip("this stack has SQLite's headers (libsqlite3-dev), so pysqlite3 builds")
    herokuish.config["PYTHON_INSTALLER"] = installer
    source = fixture_app("minimal_app", {"requirements.txt": f"{requirement}\n"})
    outcome = herokuish.build(source)
    result = failed(outcome, "install-dependencies::pip")
    assert outcome.report["error"]["detail"] == found_in_log  # this hint, not the generic error
    assert found_in_log in result.stdout  # the tool's own output stays in the log
    assert fix in result.stderr


def test_psycopg2_from_source_without_pg_config(herokuish, fixture_app, stack):
    # The stand-in has libpq-dev; this build's PATH leads to every command
    # of /usr/bin except pg_config, as on a build image without libpq-dev.
    tools = f"{stack.tmp_dir}/tools-without-pg-config"
    listing = run(stack, ["ls", "/usr/bin"], herokuish.base_env())
    host_tools = stack.host_path(tools)
    host_tools.mkdir()
    for name in listing.stdout.split():
        if name != "pg_config":
            (host_tools / name).symlink_to(f"/usr/bin/{name}")
    herokuish.env["PATH"] = tools
    assert run(stack, ["bash", "-c", "command -v pg_config || echo missing"], herokuish.base_env()).stdout == "missing\n"

    source = fixture_app("minimal_app", {"requirements.txt": "psycopg2==2.9.10\n"})
    outcome = herokuish.build(source)
    result = failed(outcome, "install-dependencies::pip")
    assert outcome.report["error"]["detail"] == "pg_config executable not found"
    assert "pg_config executable not found" in result.stdout
    assert "psycopg2-binary" in result.stderr
