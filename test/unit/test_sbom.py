"""The SBOM (sbom.py): what each distribution's metadata becomes, the
hashes each manager's files give, where it is written, and that it is a
valid CycloneDX 1.7 document whatever the install holds."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from python_buildpack import report, sbom
from python_buildpack.managers import MANAGERS
from python_buildpack.package_manager import LockedFile, LockfileSync, PackageManager
from python_buildpack.pip import Pip
from python_buildpack.pipenv import Pipenv
from python_buildpack.pdm import Pdm
from python_buildpack.poetry import Poetry
from python_buildpack.uv import Uv
from conftest import fake_install, make_context
from cyclonedx_schema import SCHEMA_DIR, problems

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SITE = Path("lib") / "python3.12" / "site-packages"
MARKUPSAFE_WHEEL = "markupsafe-3.0.4-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"
MARKUPSAFE_WHEEL_HASH = "8e124f974786f831d6043728e38296969d3579db8896fe004682f5758e613581"
MARKUPSAFE_SDIST_HASH = "2e9ad7dd851bf45fab9f75cbff4cb493fee9979e8d8c7c9c3ee119022518edd6"
MARKUPSAFE_TAGS = ("cp312-cp312-manylinux2014_x86_64", "cp312-cp312-manylinux_2_17_x86_64",
                   "cp312-cp312-manylinux_2_28_x86_64")


def install(context, name, version, metadata=None, tags=("py3-none-any",), direct_url=None, environment=""):
    """A distribution as an installer leaves it in site-packages (of the
    virtualenv `environment` inside the install, if given)."""
    site = context.location.install_dir / environment / SITE
    directory = site / f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}.dist-info"
    directory.mkdir(parents=True)
    if metadata is None:
        metadata = f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\nLicense-Expression: MIT\n"
    (directory / "METADATA").write_bytes(metadata if isinstance(metadata, bytes) else metadata.encode())
    if tags:
        (directory / "WHEEL").write_text("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                         + "".join(f"Tag: {tag}\n" for tag in tags))
    if direct_url is not None:
        (directory / "direct_url.json").write_text(json.dumps(direct_url))
    return directory


@pytest.fixture
def app(tmp_path):
    """An InstallContext of a pip app with an empty Python install."""
    context = make_context(tmp_path, fake_install(tmp_path))
    (context.build_dir / "requirements.txt").write_text("")
    return context


def app_with(tmp_path, fixture: str, **options):
    """The context of a build of a fixture app's dependency files."""
    context = make_context(tmp_path, fake_install(tmp_path), **options)
    for path in (FIXTURES / fixture).iterdir():
        if path.is_file():
            shutil.copy(path, context.build_dir / path.name)
    return context


def components(context, manager: PackageManager = Pip()):
    document = sbom.bom(context, manager)
    assert problems(document) == []
    return {component["bom-ref"]: component for component in document["components"]}


def by_name(context, manager: PackageManager = Pip()):
    return {component["name"]: component for component in components(context, manager).values()}


# -- the document --------------------------------------------------------------


def test_the_document_lists_python_and_every_distribution(app):
    install(app, "Flask", "3.1.3")
    install(app, "pip", "26.3")
    document = sbom.bom(app, Pip())
    assert problems(document) == []
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.7" == sbom.SPEC_VERSION
    assert document["$schema"] == "http://cyclonedx.org/schema/bom-1.7.schema.json"
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", document["serialNumber"]) and document["version"] == 1
    metadata = document["metadata"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", metadata["timestamp"])
    assert metadata["tools"] == {"components": [
        {"type": "application", "name": "python-buildpack", "version": report.BUILDPACK_VERSION}]}
    assert {"name": "python-buildpack:package-manager", "value": "pip"} in metadata["properties"]
    python, flask, pip = document["components"]
    assert python == {
        "type": "platform", "bom-ref": "python", "name": "python", "version": "3.12.1",
        "description": "CPython, the app's Python runtime (.heroku/python)",
        "purl": "pkg:generic/python@3.12.1", "cpe": "cpe:2.3:a:python:python:3.12.1:*:*:*:*:*:*:*",
    }
    location = ".heroku/python/lib/python3.12/site-packages/flask-3.1.3.dist-info"
    assert flask == {
        "type": "library", "bom-ref": location, "name": "Flask", "version": "3.1.3",
        "licenses": [{"expression": "MIT", "acknowledgement": "declared"}],
        "purl": "pkg:pypi/flask@3.1.3", "evidence": {"occurrences": [{"location": location}]},
    }
    assert pip["purl"] == "pkg:pypi/pip@26.3"
    assert document["serialNumber"] != sbom.bom(app, Pip())["serialNumber"]


def test_the_schema_catches_what_it_should(app):
    """The vendored schema really checks: a wrong type, an unknown field, a
    bad hash or SPDX id, a repeated bom-ref are all caught."""
    install(app, "six", "1.17.0")
    good = sbom.bom(app, Pip())
    assert problems(good) == []
    for path, value in [(("components", 1, "type"), "python-package"), (("components", 1, "colour"), "red"),
                        (("components", 1, "hashes"), [{"alg": "SHA-256", "content": "abc"}]),
                        (("components", 1, "licenses"), [{"license": {"id": "Not-A-Licence"}}]),
                        (("components", 1, "bom-ref"), "python"), (("serialNumber",), "not-a-uuid")]:
        bad = json.loads(json.dumps(good))
        target = bad
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert problems(bad), path


def test_sorted_by_name_and_version_from_metadata_or_directory(app):
    install(app, "zope.interface", "7.2")
    install(app, "Babel", "2.17.0")
    no_fields = install(app, "odd", "1.0", metadata="Metadata-Version: 2.1\nSummary: no name\n")
    (no_fields / "METADATA").unlink()  # unreadable: the directory's name tells
    listed = list(by_name(app))
    assert listed == ["python", "Babel", "odd", "zope.interface"]
    assert by_name(app)["odd"]["version"] == "1.0"


def test_egg_info_directories_and_files(app):
    site = app.location.install_dir / SITE
    (site / "legacy-2.0-py3.12.egg-info").mkdir()
    (site / "legacy-2.0-py3.12.egg-info" / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy\nVersion: 2.0\n")
    (site / "single-0.5.egg-info").write_text("Metadata-Version: 1.0\nName: single\nVersion: 0.5\nLicense: BSD\n")
    (site / "not_a_distribution").mkdir()
    (site / "module.py").write_text("")
    found = by_name(app)
    assert set(found) == {"python", "legacy", "single"}
    assert found["single"]["licenses"] == [{"license": {"name": "BSD", "acknowledgement": "declared"}}]


# -- metadata ----------------------------------------------------------------------


@pytest.mark.parametrize("fields, expected", [
    # PEP 639: the expression wins over everything else.
    ("License-Expression: Apache-2.0 OR BSD-2-Clause\nLicense: BSD\nClassifier: License :: OSI Approved :: MIT License\n",
     [{"expression": "Apache-2.0 OR BSD-2-Clause", "acknowledgement": "declared"}]),
    ("License: Apache 2.0\nClassifier: License :: OSI Approved :: Apache Software License\n",
     [{"license": {"name": "Apache 2.0", "acknowledgement": "declared"}}]),
    # The licence's text in License: the classifiers name it; one that means
    # exactly one SPDX licence is its id.
    ("License: Copyright (c) 2010 Someone\n        Permission is hereby granted, free of charge\n"
     "Classifier: License :: OSI Approved :: MIT License\nClassifier: License :: OSI Approved :: BSD License\n"
     "Classifier: License :: OSI Approved\nClassifier: Programming Language :: Python\n",
     [{"license": {"id": "MIT", "acknowledgement": "declared"}},
      {"license": {"name": "License :: OSI Approved :: BSD License", "acknowledgement": "declared"}}]),
    ("License: " + "x" * 101 + "\n", []),
    ("License: UNKNOWN\n", []),
    ("", []),
])
def test_licences(fields, expected):
    metadata = sbom.headers(f"Metadata-Version: 2.1\nName: x\nVersion: 1\n{fields}\nThe description.\n".encode())
    assert sbom.licenses(metadata) == expected


def test_every_classifier_id_is_an_spdx_id():
    spdx = set(json.loads((SCHEMA_DIR / "spdx.SNAPSHOT.schema.json").read_text())["enum"])
    assert set(sbom._CLASSIFIER_IDS.values()) <= spdx


def test_odd_metadata_is_listed_as_read(app):
    # Latin-1 bytes, CRLF lines, a folded Summary, a header-looking line in the body.
    metadata = (b"Metadata-Version: 2.1\r\nName: caf\xe9-lib\r\nVersion: 1.0\r\nSummary: A caf\xc3\xa9\r\n"
                b"  on two lines\r\n\r\nLicense-Expression: GPL-3.0-only\r\n")
    install(app, "cafe-lib", "1.0", metadata=metadata)
    install(app, "empty", "0.1", metadata=b"")
    install(app, "binary", "2.0", metadata=bytes(range(256)))
    found = by_name(app)
    odd = found["caf\ufffd-lib"]
    assert odd["description"] == "A café on two lines" and "licenses" not in odd
    assert odd["purl"] == "pkg:pypi/caf%EF%BF%BD-lib@1.0"
    assert found["empty"]["version"] == "0.1" and found["binary"]["version"] == "2.0"
    json.dumps(found, ensure_ascii=False).encode("utf-8")  # writable as UTF-8


@pytest.mark.parametrize("name, version, expected", [
    ("Flask", "3.1.3", "pkg:pypi/flask@3.1.3"),
    ("typing_extensions", "4.15.0", "pkg:pypi/typing-extensions@4.15.0"),
    ("zope.interface", "7.2", "pkg:pypi/zope.interface@7.2"),  # purl keeps dots (PEP 503 wouldn't)
    ("Django_Filter", "25.1", "pkg:pypi/django-filter@25.1"),
    ("mylib", "1.0+local.1", "pkg:pypi/mylib@1.0%2Blocal.1"),
])
def test_purl_names(name, version, expected):
    assert sbom.purl(name, version, None) == expected


def test_distributions_installed_from_urls_and_directories(app):
    install(app, "mylib", "0.1", direct_url={"url": "file:///app/mylib", "dir_info": {"editable": True}})
    install(app, "tool", "1.0", direct_url={
        "url": "https://deploy:s3cret@git.example.com/org/tool.git?token=t0ken",
        "vcs_info": {"vcs": "git", "commit_id": "a" * 40, "requested_revision": "main"}})
    install(app, "pkg", "2.0", direct_url={
        "url": "https://user:s3cret@files.example.com/pkg-2.0.tar.gz#frag",
        "archive_info": {"hashes": {"sha256": "b" * 64}}})
    install(app, "pypi", "1.0", direct_url={
        "url": "https://files.pythonhosted.org/packages/pypi-1.0-py3-none-any.whl", "archive_info": {}})
    found = by_name(app)
    assert "purl" not in found["mylib"]  # not from an index
    assert found["mylib"]["properties"] == [{"name": "cdx:python:package:source:local:editable", "value": "true"}]
    assert found["tool"]["purl"] == f"pkg:pypi/tool@1.0?vcs_url=git%2Bhttps://git.example.com/org/tool.git%40{'a' * 40}"
    assert found["tool"]["externalReferences"] == [
        {"type": "vcs", "url": f"https://git.example.com/org/tool.git#{'a' * 40}"}]
    assert found["tool"]["properties"] == [{"name": "cdx:python:package:source:vcs:commit_id", "value": "a" * 40}]
    assert found["pkg"]["purl"] == "pkg:pypi/pkg@2.0?download_url=https://files.example.com/pkg-2.0.tar.gz"
    assert found["pkg"]["hashes"] == [{"alg": "SHA-256", "content": "b" * 64}]  # pip recorded the archive's
    assert found["pypi"]["purl"] == "pkg:pypi/pypi@1.0"
    text = json.dumps(found)
    assert "s3cret" not in text and "t0ken" not in text and "frag" not in text


# -- hashes ------------------------------------------------------------------------


def test_a_lockfile_naming_its_files_gives_the_installed_ones_hash(tmp_path):
    for manager, fixture in ((Uv(), "uv_app"), (Poetry(), "poetry_app"), (Pdm(), "pdm_app")):
        context = app_with(tmp_path / manager.name, fixture)
        install(context, "MarkupSafe", "3.0.4", tags=MARKUPSAFE_TAGS)
        install(context, "flask", "3.1.3")
        install(context, "blinker", "1.8.0")  # another version than the lock's
        install(context, "pip", "26.3")  # not in the lockfile
        found = by_name(context, manager)
        assert found["MarkupSafe"]["hashes"] == [{"alg": "SHA-256", "content": MARKUPSAFE_WHEEL_HASH}]
        assert found["MarkupSafe"]["properties"] == [{"name": sbom.LOCKED_FILE, "value": MARKUPSAFE_WHEEL}]
        assert found["flask"]["properties"] == [{"name": sbom.LOCKED_FILE, "value": "flask-3.1.3-py3-none-any.whl"}]
        assert "hashes" not in found["blinker"] and "properties" not in found["blinker"]
        assert "hashes" not in found["pip"]


def test_a_distribution_built_from_the_sdist_gets_the_sdists_hash(tmp_path):
    context = app_with(tmp_path, "uv_app")
    install(context, "markupsafe", "3.0.4", tags=("cp312-cp312-linux_x86_64",))  # built here
    found = by_name(context, Uv())["markupsafe"]
    assert found["hashes"] == [{"alg": "SHA-256", "content": MARKUPSAFE_SDIST_HASH}]
    assert found["properties"] == [{"name": sbom.LOCKED_FILE, "value": "markupsafe-3.0.4.tar.gz"}]


def test_hashes_that_dont_say_which_file_are_listed_as_properties(tmp_path):
    context = app_with(tmp_path, "pipenv_app")
    install(context, "MarkupSafe", "3.0.4", tags=MARKUPSAFE_TAGS)
    found = by_name(context, Pipenv())["MarkupSafe"]
    assert "hashes" not in found
    listed = [each["value"] for each in found["properties"] if each["name"] == sbom.LOCKED_HASH]
    lock = json.loads((FIXTURES / "pipenv_app" / "Pipfile.lock").read_text())
    assert listed == lock["default"]["markupsafe"]["hashes"] and f"sha256:{MARKUPSAFE_WHEEL_HASH}" in listed


def test_requirements_hashes(tmp_path):
    context = make_context(tmp_path, fake_install(tmp_path), install_test=True)
    (context.build_dir / "requirements.txt").write_text(
        f"MarkupSafe==3.0.4 \\\n    --hash=sha256:{MARKUPSAFE_WHEEL_HASH} \\\n"
        f"    --hash=sha256:{MARKUPSAFE_SDIST_HASH}\n"
        "-r more.txt\nsix==1.16.0 --hash=md5:0123456789abcdef0123456789abcdef\n")
    (context.build_dir / "more.txt").write_text(f"flask==3.1.3 --hash sha256:{'c' * 64}\n")
    (context.build_dir / "requirements-test.txt").write_text(f"pytest==9.0.1 --hash=sha256:{'d' * 64}\n")
    for name, version in (("markupsafe", "3.0.4"), ("flask", "3.1.3"), ("pytest", "9.0.1"), ("six", "1.16.0")):
        install(context, name, version)
    found = by_name(context, Pip())
    assert found["markupsafe"]["properties"] == [
        {"name": sbom.LOCKED_HASH, "value": f"sha256:{MARKUPSAFE_WHEEL_HASH}"},
        {"name": sbom.LOCKED_HASH, "value": f"sha256:{MARKUPSAFE_SDIST_HASH}"}]
    assert found["flask"]["properties"] == [{"name": sbom.LOCKED_HASH, "value": f"sha256:{'c' * 64}"}]
    assert found["pytest"]["properties"] == [{"name": sbom.LOCKED_HASH, "value": f"sha256:{'d' * 64}"}]
    assert "properties" not in found["six"]  # md5: not a hash pip or CycloneDX takes here


def test_a_lockfile_that_cant_be_read_now_gives_no_hashes(tmp_path, capsys):
    context = app_with(tmp_path, "uv_app")
    (context.build_dir / "uv.lock").write_text("not = [toml")
    install(context, "flask", "3.1.3")
    assert "properties" not in by_name(context, Uv())["flask"]
    assert "The SBOM lists no hashes from uv.lock: it can't be read (TOMLDecodeError)." in capsys.readouterr().out


def test_every_manager_says_what_its_files_pin():
    for manager in MANAGERS:
        assert manager.locked_files is not PackageManager.locked_files, f"{manager.name}: implement locked_files"
        if issubclass(manager, LockfileSync):
            assert manager.package_files is not LockfileSync.package_files, f"{manager.name}: implement package_files"


@pytest.mark.parametrize("file_name, tags", [
    ("flask-3.1.3-py3-none-any.whl", {"py3-none-any"}),
    ("six-1.17.0-py2.py3-none-any.whl", {"py2-none-any", "py3-none-any"}),
    ("pkg-1.0-1build-cp312-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
     {"cp312-abi3-manylinux_2_17_x86_64", "cp312-abi3-manylinux2014_x86_64"}),
    ("broken.whl", set()),
])
def test_wheel_tags(file_name, tags):
    assert sbom.wheel_tags(file_name) == tags


def test_which_file_was_installed_needs_one_answer(tmp_path):
    dist = tmp_path / "x-1.0.dist-info"
    dist.mkdir()
    (dist / "WHEEL").write_text("Tag: py3-none-any\n")
    wheel = LockedFile("sha256:" + "a" * 64, "1.0", "x-1.0-py3-none-any.whl")
    sdist = LockedFile("sha256:" + "b" * 64, "1.0", "x-1.0.tar.gz")
    other = LockedFile("sha256:" + "c" * 64, "1.0", "x-1.0-cp312-cp312-win_amd64.whl")
    assert sbom.installed_file(dist, [other, wheel, sdist]) == wheel
    assert sbom.installed_file(dist, [other, sdist]) == sdist
    assert sbom.installed_file(dist, [other, sdist, LockedFile("sha256:" + "d" * 64, "1.0", "x-1.0.zip")]) is None
    assert sbom.installed_file(dist, [wheel, LockedFile("sha256:" + "e" * 64, "1.0", "x-1.0-py3-none-any.whl")]) is None
    assert sbom.installed_file(dist, [LockedFile("sha256:" + "a" * 64, "1.0")]) is None


@pytest.mark.parametrize("one, other, same", [
    ("1.0", "1.0", True), ("1.0", "1.0.0", True), ("2.0rc1", "2.0.0rc1", True), ("1.0", "1.1", False),
    ("not a version", "not a version", True), ("not a version", "1.0", False),
])
def test_same_version(one, other, same):
    assert sbom.same_version(one, other) is same


# -- what is listed ----------------------------------------------------------------


def test_pipenvs_virtualenv_in_the_slug_is_listed_after_the_app(app):
    install(app, "certifi", "2026.1.1")
    install(app, "pipenv", "2026.0.2", environment="pipenv/venv")
    install(app, "certifi", "2025.1.1", environment="pipenv/venv")
    (app.location.install_dir / "pipenv" / "venv" / "pyvenv.cfg").write_text("home = /app/.heroku/python/bin\n")
    listed = [(each["name"], each["version"], each["bom-ref"]) for each in components(app).values()]
    assert listed == [
        ("python", "3.12.1", "python"),
        ("certifi", "2026.1.1", ".heroku/python/lib/python3.12/site-packages/certifi-2026.1.1.dist-info"),
        ("certifi", "2025.1.1", ".heroku/python/pipenv/venv/lib/python3.12/site-packages/certifi-2025.1.1.dist-info"),
        ("pipenv", "2026.0.2", ".heroku/python/pipenv/venv/lib/python3.12/site-packages/pipenv-2026.0.2.dist-info"),
    ]


# -- writing it --------------------------------------------------------------------


def test_write_says_where_and_how_many(app, capsys):
    install(app, "flask", "3.1.3")
    sbom.write(app, Pip())
    path = app.build_dir / ".heroku" / "python-sbom.cdx.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert problems(document) == [] and len(document["components"]) == 2
    assert path.stat().st_mode & 0o777 == 0o644
    assert [each.name for each in path.parent.iterdir() if each.name.startswith(".sbom-")] == []
    assert ("-----> Wrote the software bill of materials (2 components, CycloneDX 1.7) to "
            ".heroku/python-sbom.cdx.json") in capsys.readouterr().out
    assert report.read(app.build_dir, None)["sbom"] == {"path": ".heroku/python-sbom.cdx.json", "components": 2}


def test_write_replaces_an_older_sbom_and_a_link(app, tmp_path):
    path = app.build_dir / sbom.PATH
    outside = tmp_path / "outside.json"
    outside.write_text("keep")
    path.symlink_to(outside)
    sbom.write(app, Pip())
    assert not path.is_symlink() and json.loads(path.read_text())["bomFormat"] == "CycloneDX"
    assert outside.read_text() == "keep"


def test_a_failure_to_write_is_a_warning_and_leaves_no_older_sbom(app, monkeypatch, capsys):
    path = app.build_dir / sbom.PATH
    path.write_text('{"an": "older build\'s"}')

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sbom, "_write_atomically", disk_full)
    sbom.write(app, Pip())
    assert not path.exists()
    err = capsys.readouterr().err
    assert "Warning: Unable to write the software bill of materials (.heroku/python-sbom.cdx.json)." in err
    assert "No space left on device" in err
    assert report.read(app.build_dir, None)["sbom"] == {"path": ".heroku/python-sbom.cdx.json",
                                                         "error": "No space left on device"}


def test_a_directory_in_its_place_is_a_warning(app, capsys):
    (app.build_dir / sbom.PATH).mkdir()
    sbom.write(app, Pip())
    assert "Warning: Unable to write the software bill of materials" in capsys.readouterr().err


def test_an_unexpected_failure_is_a_warning_too(app, monkeypatch, capsys):
    monkeypatch.setattr(sbom, "distributions", lambda *args: 1 / 0)
    sbom.write(app, Pip())
    assert "ZeroDivisionError" in capsys.readouterr().err
    assert report.read(app.build_dir, None)["sbom"]["error"] == "ZeroDivisionError"


def test_a_file_name_that_isnt_utf8_is_written_too(app):
    site = app.location.install_dir / SITE
    os.mkdir(os.path.join(os.fsencode(site), b"caf\xe9-1.0.dist-info"))
    sbom.write(app, Pip())
    document = json.loads((app.build_dir / sbom.PATH).read_text(encoding="utf-8"))
    assert problems(document) == [] and document["components"][1]["version"] == "1.0"
