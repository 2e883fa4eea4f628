"""The SBOM of real builds: an app of each package manager, built in the
stack, whose .heroku/python-sbom.cdx.json must be valid CycloneDX 1.7 and
list exactly what `pip list` finds in the slug's Python, with the
lockfile's hashes (unit tests: test/unit/test_sbom.py)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from cyclonedx_schema import problems
from test_builds import ok

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SBOM = "/app/.heroku/python-sbom.cdx.json"
# A post_compile hook's install is in the SBOM too (it is written after it).
HOOK = """#!/usr/bin/env bash
site=$(echo .heroku/python/lib/python3*/site-packages)
mkdir -p "$site/hooked-1.0.dist-info"
printf 'Metadata-Version: 2.1\\nName: hooked\\nVersion: 1.0\\n' > "$site/hooked-1.0.dist-info/METADATA"
"""
# `pip list` by the app's Python, with the pip wheel CPython bundles (Pipenv,
# Poetry and uv apps have no pip), of one site-packages directory.
PIP_LIST = ("cd /app && python \"$(echo .heroku/python/lib/python3*/ensurepip/_bundled/pip-*.whl)/pip\" "
            "list --format=json --disable-pip-version-check --path \"$(echo {env}/lib/python3*/site-packages)\"")


def uv_lock_packages() -> list[dict]:
    return tomllib.loads((FIXTURES / "uv_app" / "uv.lock").read_text())["package"]


def hashed_requirements() -> str:
    """flask_app's requirements, pinned with every hash of uv_app's lock (the
    same packages): pip's hash-checking mode."""
    lines = []
    for package in uv_lock_packages():
        files = [package.get("sdist"), *package.get("wheels", [])]
        hashes = " ".join(f"--hash={each['hash']}" for each in files if each)
        if hashes and package["name"] != "colorama":  # Windows only
            lines.append(f"{package['name']}=={package['version']} {hashes}")
    return "\n".join(lines) + "\n"


APPS = {
    "pip": ("flask_app", {"bin/post_compile": HOOK}),
    "pip-hashes": ("flask_app", {"requirements.txt": hashed_requirements()}),
    "pipenv": ("pipenv_app", {}),
    "poetry": ("poetry_app", {}),
    "uv": ("uv_app", {}),
}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def location(component: dict) -> str:
    """Where the distribution's metadata is ("" for Python itself)."""
    return component.get("evidence", {}).get("occurrences", [{}])[0].get("location", "")


def listed(components: list[dict], environment: str) -> list[tuple[str, str]]:
    return sorted((normalized(each["name"]), each["version"]) for each in components
                  if location(each).startswith(f"{environment}/lib/"))


def pip_list(herokuish, environment: str) -> list[tuple[str, str]]:
    result = herokuish.run_in_app(PIP_LIST.format(env=environment))
    assert result.returncode == 0, result.output
    return sorted((normalized(each["name"]), each["version"]) for each in json.loads(result.stdout))


@pytest.mark.parametrize("app", sorted(APPS))
def test_the_sbom_lists_what_is_installed(herokuish, fixture_app, stack, runtime_archives, app):
    fixture, files = APPS[app]
    source = fixture_app(fixture, files)
    outcome = herokuish.build(source)
    log = ok(outcome).stdout
    path = stack.host_path(SBOM)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert problems(document) == []

    components = document["components"]
    assert (f"-----> Wrote the software bill of materials ({len(components)} components, CycloneDX 1.7) "
            "to .heroku/python-sbom.cdx.json") in log
    assert outcome.report["sbom"] == {"path": ".heroku/python-sbom.cdx.json", "components": len(components)}
    assert components[0]["name"] == "python" and components[0]["version"] == runtime_archives.versions["3.12"]

    # Exactly what pip finds in the app's Python, and in Pipenv's virtualenv,
    # which ships in the slug (for `pipenv run`); nothing else.
    app_python = listed(components, ".heroku/python")
    assert app_python == pip_list(herokuish, ".heroku/python")
    tool_venv = listed(components, ".heroku/python/pipenv/venv")
    assert tool_venv == (pip_list(herokuish, ".heroku/python/pipenv/venv") if app == "pipenv" else [])
    assert len(components) == 1 + len(app_python) + len(tool_venv)
    names = {name for name, _ in app_python}
    # pip is in the app's Python for pip apps; the tools kept in the cache never are.
    assert ("pip" in names) == (app in ("pip", "pip-hashes"))
    assert not names & {"uv", "poetry", "pipenv", "pdm", "virtualenv"}
    assert ("hooked" in names) == (app == "pip")

    by_name = {normalized(each["name"]): each for each in components if location(each).startswith(".heroku/python/lib/")}
    flask = by_name["flask"]
    assert flask["purl"] == "pkg:pypi/flask@3.1.3"
    assert flask["licenses"][0]["acknowledgement"] == "declared"
    lock = {package["name"]: package for package in uv_lock_packages()}
    wheel_hash = lock["flask"]["wheels"][0]["hash"].split(":", 1)[1]
    if app in ("uv", "poetry"):
        # The lockfile names its files: the installed wheel's hash, for every
        # package it installed.
        assert flask["hashes"] == [{"alg": "SHA-256", "content": wheel_hash}]
        assert all(each.get("hashes") for name, each in by_name.items())
    elif app in ("pipenv", "pip-hashes"):
        # Only hashes, not which file: every one the lockfile allowed.
        hashes = [each["value"] for each in flask["properties"] if each["name"] == "python-buildpack:locked-hash"]
        assert f"sha256:{wheel_hash}" in hashes and len(hashes) == 2
        assert "hashes" not in flask
    else:
        assert "hashes" not in flask and "properties" not in flask

    # Every build rewrites it: never an older build's, from the cache.
    second = herokuish.build(source)
    assert "-----> Skipping dependency install" in ok(second).stdout
    again = json.loads(path.read_text(encoding="utf-8"))
    assert again["serialNumber"] != document["serialNumber"]
    assert again["components"] == components
