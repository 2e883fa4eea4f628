"""Django collectstatic: the deprecated .heroku/collectstatic_disabled file,
and DEBUG_COLLECTSTATIC's list of the environment (names only)."""

from __future__ import annotations

from test_builds import failed, ok


def test_collectstatic_disabled_file_still_works_with_a_deprecation_warning(herokuish, fixture_app):
    result = ok(herokuish.build(fixture_app("django_app", {".heroku/collectstatic_disabled": ""})))
    assert "-----> Skipping Django collectstatic since the file '.heroku/collectstatic_disabled' exists" in result.stdout
    assert "collectstatic --noinput" not in result.stdout
    assert "Warning: The .heroku/collectstatic_disabled file is deprecated." in result.stderr
    assert "heroku config:set DISABLE_COLLECTSTATIC=1" in result.stderr


def test_debug_collectstatic_lists_the_environment_by_name_only(herokuish, fixture_app):
    secret = "s3cret-db-password-4711"
    herokuish.config.update({"DEBUG_COLLECTSTATIC": "1", "DATABASE_URL": f"postgres://app:{secret}@db/app",
                             "SECRET_KEY": secret})
    settings = (fixture_app("django_app") / "hello_site" / "settings.py").read_text()
    broken = settings.replace('STATIC_ROOT = BASE_DIR / "staticfiles"\n', "")
    result = failed(herokuish.build(fixture_app("django_app", {"hello_site/settings.py": broken})),
                    "collectstatic::failed")
    assert secret not in result.output
    listing = result.stdout.split("(DEBUG_COLLECTSTATIC=1; names only, values hidden):\n", 1)[1]
    names = [line.strip() for line in listing.splitlines()]
    assert names == sorted(names)
    for name in ("BUILD_DIR", "DATABASE_URL", "DEBUG_COLLECTSTATIC", "PATH", "PYTHONPATH", "SECRET_KEY"):
        assert name in names
    assert all("=" not in name for name in names)
