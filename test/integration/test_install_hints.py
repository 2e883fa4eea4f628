"""Known install failures get their own error: each one a real `pip install`
of a real package from the index, through bin/compile, failing the way it
fails for users."""

from __future__ import annotations

import pytest

from stack_env import run
from test_builds import failed


@pytest.mark.parametrize("requirement, found_in_log, headline, fix", [
    # GDAL only publishes an sdist; the stand-in (like the build image) has no gdal-config.
    ("GDAL==3.10.3", "Could not find gdal-config",
     "Package installation failed since the GDAL library wasn't found.", "heroku-geo-buildpack"),
    # pysqlite3 0.5.x is an sdist compiled against sqlite3.h, which isn't installed.
    ("pysqlite3==0.5.4", "sqlite3.h: No such file or directory",
     "Package installation failed since the SQLite headers weren't found.", "pysqlite3-binary"),
    # celery 5.0.5's metadata (pytz (>dev)) is refused by pip 24.1 and newer.
    ("celery==5.0.5", "Please use pip<24.1 if you need to use this version",
     "One of your dependencies contains broken metadata.", "celery 5.2.1 or newer"),
])
def test_known_install_failures_get_a_hint(herokuish, fixture_app, stack, requirement, found_in_log, headline, fix):
    if requirement.startswith("pysqlite3") and run(stack, ["test", "-e", "/usr/include/sqlite3.h"], {}).returncode == 0:
        pytest.skip("this stack has SQLite's headers (libsqlite3-dev), so pysqlite3 builds")
    source = fixture_app("minimal_app", {"requirements.txt": f"{requirement}\n"})
    result = failed(herokuish.build(source), headline)
    assert found_in_log in result.stdout  # the tool's own output stays in the log
    assert fix in result.stderr
    assert "Unable to install dependencies using pip." not in result.stderr


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
    result = failed(herokuish.build(source), "Package installation failed since pg_config wasn't found.")
    assert "pg_config executable not found" in result.stdout
    assert "psycopg2-binary" in result.stderr
