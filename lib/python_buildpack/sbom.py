"""The app's software bill of materials (SBOM): what the slug's Python holds.

Every build writes `.heroku/python-sbom.cdx.json`, a CycloneDX JSON document
(SPEC_VERSION) listing the Python runtime and every distribution installed
in `.heroku/python` (Pipenv's own virtualenv included: it ships in the slug,
for `pipenv run`). The tools kept in the build cache (uv, Poetry) aren't in
the slug, so they aren't listed. It is written after the post_compile hook
(which may install packages), beside `.heroku/python` rather than in it: the
build cache saves `.heroku/python`, and a restored copy of an older build's
SBOM must never pass for this one's.

Each distribution is read from its metadata directory (`*.dist-info`, or
`*.egg-info`), as `pip list` finds it. Hashes come from the app's files:
when the lockfile names its files (uv.lock, poetry.lock), the installed one
is found by the tags of the installed wheel, and its sha256 is the
component's `hashes`; when it lists hashes without saying which file each
is (requirements.txt's --hash, Pipfile.lock), they are listed as
`python-buildpack:locked-hash` properties: the installer took a file with
one of them. A distribution installed from a URL keeps the hash pip recorded
for it (PEP 610's direct_url.json).

Writing it never fails the build: a problem is a warning, and no SBOM (not
an older one) is left at its path.
"""

from __future__ import annotations

import contextlib
import datetime
import email.parser
import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote, urlsplit

from packaging.version import InvalidVersion, Version

from . import app_files, errors, output, site_packages
from .package_manager import InstallContext, LockedFile, LockedFiles, PackageManager
from .report import BUILDPACK_VERSION

SPEC_VERSION = "1.7"
PATH = Path(".heroku") / "python-sbom.cdx.json"
TOOL = "python-buildpack"
# Properties the CycloneDX taxonomy has no name for.
LOCKED_FILE = f"{TOOL}:locked-file"
LOCKED_HASH = f"{TOOL}:locked-hash"
# The largest metadata file read: they are kilobytes (a long description at most).
_METADATA_LIMIT = 16 * 1024 * 1024
# A `License` field longer than this is the licence's text, not its name.
_LICENSE_NAME_LIMIT = 100
# lockfile hash prefix -> CycloneDX algorithm, and the hex digits of each.
_ALGORITHMS = {"sha256": ("SHA-256", 64), "sha384": ("SHA-384", 96), "sha512": ("SHA-512", 128)}
# Licence classifiers that name exactly one SPDX licence (as PEP 639's
# mapping has them); the others ("BSD License", "Apache Software License")
# don't say which version or variant, and are listed by name.
_CLASSIFIER_IDS = {
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "License :: OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "License :: OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": "LGPL-3.0-or-later",
    "License :: OSI Approved :: GNU Affero General Public License v3": "AGPL-3.0-only",
    "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": "AGPL-3.0-or-later",
    "License :: OSI Approved :: European Union Public Licence 1.2 (EUPL 1.2)": "EUPL-1.2",
}


@dataclass(frozen=True)
class Distribution:
    """One installed distribution: its metadata directory (or an egg-info
    file), and the metadata's headers."""

    path: Path
    location: str  # relative to the build dir, as in the slug
    metadata: Message
    in_app_environment: bool  # the app's Python, not a tool's virtualenv in the slug

    @property
    def name(self) -> str:
        return _header(self.metadata, "Name") or self._named[0]

    @property
    def version(self) -> str:
        return _header(self.metadata, "Version") or self._named[1]

    @property
    def _named(self) -> tuple[str, str]:
        """The name and version the directory's name gives (`flask-3.1.3.dist-info`,
        `six-1.16.0-py3.12.egg-info`), for metadata that lacks them."""
        parts = _text(self.path.name[:-len(self.path.suffix)]).split("-")
        return parts[0], parts[1] if len(parts) > 1 else "unknown"


def write(context: InstallContext, manager: PackageManager) -> None:
    """Write the SBOM of what is installed now, say where in the log, and
    record it in the build report; a warning if it can't be written."""
    build = context.build
    path = build.app_dir / PATH
    try:
        document = bom(context, manager)
        _write_atomically(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    except Exception as error:  # noqa: BLE001 - the SBOM must never fail the build
        problem = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)  # an older SBOM must not pass for this build's
        output.warning(errors.sbom_not_written_warning(str(PATH), problem))
        build.report.record(sbom={"path": str(PATH), "error": problem})
        return
    count = len(document["components"])
    output.step(f"Wrote the software bill of materials ({count} components, CycloneDX {SPEC_VERSION}) "
                f"to {PATH}")
    build.report.record(sbom={"path": str(PATH), "components": count})


def bom(context: InstallContext, manager: PackageManager) -> dict[str, Any]:
    """The CycloneDX document."""
    build = context.build
    locked = _locked_files(manager, context)
    components = [_runtime(context.python_version)] + [
        _component(each, locked if each.in_app_environment else {})
        for each in distributions(context.location.install_dir, build.app_dir)
    ]
    return {
        "$schema": f"http://cyclonedx.org/schema/bom-{SPEC_VERSION}.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": uuid.uuid4().urn,
        "version": 1,
        "metadata": {
            "timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "lifecycles": [{"phase": "build"}],
            "tools": {"components": [{"type": "application", "name": TOOL, "version": BUILDPACK_VERSION}]},
            "properties": [
                {"name": f"{TOOL}:package-manager", "value": manager.name},
                {"name": f"{TOOL}:stack", "value": build.stack.name},
            ],
        },
        "components": components,
    }


def _locked_files(manager: PackageManager, context: InstallContext) -> LockedFiles:
    """The manager's hashes; none, with a note, if its file can't be read
    now (a post_compile hook may have changed it)."""
    try:
        return manager.locked_files(context.build)
    except (errors.BuildError, ValueError, OSError) as error:
        why = error.title if isinstance(error, errors.BuildError) else f"it can't be read ({type(error).__name__})."
        output.info(f"The SBOM lists no hashes from {manager.file_name}: {why}")
        return {}


def distributions(install_dir: Path, build_dir: Path) -> list[Distribution]:
    """What `pip list` shows for the app's Python, then for each virtualenv
    inside the install (Pipenv's), each sorted by name."""
    environments = [install_dir] + sorted(
        config.parent for pattern in ("*/pyvenv.cfg", "*/*/pyvenv.cfg") for config in install_dir.glob(pattern))
    found = []
    for environment in environments:
        in_environment = []
        for site in sorted(environment.glob(site_packages.SITE_PACKAGES)):
            for path in sorted(site.iterdir()):
                metadata = _metadata_file(path)
                if metadata is not None:
                    in_environment.append(Distribution(
                        path, _text(os.path.relpath(path, build_dir)), _read_headers(metadata),
                        environment == install_dir))
        found += sorted(in_environment, key=lambda each: (site_packages.normalized_name(each.name), each.location))
    return found


def _text(file_name: str) -> str:
    """A file name as text: bytes that aren't UTF-8 become U+FFFD (Python
    keeps them as surrogates, which JSON text can't hold)."""
    return os.fsencode(file_name).decode("utf-8", errors="replace")


def _metadata_file(path: Path) -> Optional[Path]:
    """The metadata of the distribution whose directory (or egg-info file) this is."""
    if path.suffix == ".dist-info":
        return path / "METADATA"
    if path.suffix == ".egg-info":
        return path / "PKG-INFO" if path.is_dir() else path
    return None


def _read_headers(path: Path) -> Message:
    """The metadata's headers (the body is the long description), whatever
    the file holds: bytes that aren't UTF-8 become U+FFFD; a file that
    can't be read gives none (its name and version then come from the
    directory's name)."""
    try:
        return headers(app_files.read_bytes(path, _METADATA_LIMIT))
    except (OSError, app_files.NotUsable):
        return headers(b"")


def headers(data: bytes) -> Message:
    """The header fields of a metadata file's content (RFC 822 style, as
    importlib.metadata reads it), up to the first blank line."""
    head = data.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    # HeaderParser's default policy (compat32) keeps values as written, and imports least.
    return email.parser.HeaderParser().parsestr(head.decode("utf-8", errors="replace"))


def _header(metadata: Message, name: str) -> Optional[str]:
    """A field's value on one line (folded lines joined); None when absent or blank."""
    value = metadata.get(name)
    if value is None:
        return None
    return " ".join(str(value).split()) or None


def _runtime(version: str) -> dict[str, Any]:
    """CPython, as scanners know it: a generic purl (there is no purl type
    for it) and NVD's CPE."""
    return {
        "type": "platform",
        "bom-ref": "python",
        "name": "python",
        "version": version,
        "description": "CPython, the app's Python runtime (.heroku/python)",
        "purl": f"pkg:generic/python@{quote(version, safe='')}",
        "cpe": f"cpe:2.3:a:python:python:{version}:*:*:*:*:*:*:*",
    }


def _component(dist: Distribution, locked: LockedFiles) -> dict[str, Any]:
    name, version = dist.name, dist.version
    component: dict[str, Any] = {"type": "library", "bom-ref": dist.location, "name": name, "version": version}
    summary = _header(dist.metadata, "Summary")
    if summary and summary != "UNKNOWN":
        component["description"] = summary
    found_licenses = licenses(dist.metadata)
    if found_licenses:
        component["licenses"] = found_licenses
    source = _direct_url(dist.path)
    identifier = purl(name, version, source)
    if identifier:
        component["purl"] = identifier
    hashes, properties = _hashes(dist, source, locked.get(site_packages.normalized_name(name), []))
    if hashes:
        component["hashes"] = hashes
    references = _external_references(source)
    if references:
        component["externalReferences"] = references
    properties += _source_properties(source)
    if properties:
        component["properties"] = properties
    component["evidence"] = {"occurrences": [{"location": dist.location}]}
    return component


def licenses(metadata: Message) -> list[dict[str, Any]]:
    """The declared licence: PEP 639's License-Expression (an SPDX
    expression), else a short License field (a name), else the licence
    classifiers (an SPDX id where one classifier means exactly one)."""
    declared = {"acknowledgement": "declared"}
    expression = _header(metadata, "License-Expression")
    if expression:
        return [{"expression": expression, **declared}]
    field = (metadata.get("License") or "").strip()
    if field and "\n" not in field and len(field) <= _LICENSE_NAME_LIMIT and field.upper() != "UNKNOWN":
        return [{"license": {"name": field, **declared}}]
    found = []
    for classifier in metadata.get_all("Classifier") or []:
        classifier = " ".join(str(classifier).split())
        if classifier.startswith("License :: ") and classifier != "License :: OSI Approved":
            spdx = _CLASSIFIER_IDS.get(classifier)
            found.append({"license": {"id": spdx, **declared} if spdx else {"name": classifier, **declared}})
    return found


def purl_name(name: str) -> str:
    """The name as the purl spec writes PyPI's: lowercase, `_` as `-`
    (dots stay: `zope.interface`)."""
    return name.lower().replace("_", "-")


def purl(name: str, version: str, source: Optional[dict[str, Any]]) -> Optional[str]:
    """`pkg:pypi/<name>@<version>`; none for a distribution installed from
    a local directory (it isn't on an index, and the name may be PyPI's for
    another project); with where it came from for one installed from a
    repository or an archive URL (as cyclonedx-py writes them)."""
    base = f"pkg:pypi/{quote(purl_name(name), safe='')}@{quote(version, safe='')}"
    if source is None:
        return base
    url = _public_url(source.get("url"))
    if isinstance(source.get("dir_info"), dict) or url is None:
        return None
    vcs = source.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id")
        qualifier = f"vcs_url={vcs.get('vcs')}+{url}" + (f"@{commit}" if isinstance(commit, str) else "")
    elif "://files.pythonhosted.org/" in url:
        return base
    else:
        qualifier = f"download_url={url}"
    key, value = qualifier.split("=", 1)
    return f"{base}?{key}={quote(value, safe=':/')}"


def _direct_url(dist_path: Path) -> Optional[dict[str, Any]]:
    """PEP 610's record of a distribution installed from a URL or a directory."""
    if not dist_path.is_dir():
        return None
    try:
        data = json.loads(app_files.read_bytes(dist_path / "direct_url.json", 1024 * 1024))
    except (OSError, app_files.NotUsable, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("url"), str) else None


def _public_url(url: Any) -> Optional[str]:
    """`url` without credentials, query or fragment (which may hold
    tokens); None for a local file or what can't be read as a URL."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    if parts.scheme in ("", "file") or not host:
        return None
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _external_references(source: Optional[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where a distribution installed from a URL came from."""
    url = _public_url(source.get("url")) if source else None
    if url is None or source is None:
        return []
    vcs = source.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id")
        return [{"type": "vcs", "url": url + (f"#{commit}" if isinstance(commit, str) else "")}]
    return [{"type": "distribution", "url": url}]


def _source_properties(source: Optional[dict[str, Any]]) -> list[dict[str, str]]:
    """The CycloneDX taxonomy's properties for a distribution installed
    from version control or an editable directory."""
    if source is None:
        return []
    vcs, directory = source.get("vcs_info"), source.get("dir_info")
    if isinstance(vcs, dict) and isinstance(vcs.get("commit_id"), str):
        return [{"name": "cdx:python:package:source:vcs:commit_id", "value": vcs["commit_id"]}]
    if isinstance(directory, dict) and directory.get("editable") is True:
        return [{"name": "cdx:python:package:source:local:editable", "value": "true"}]
    return []


def _hashes(
    dist: Distribution, source: Optional[dict[str, Any]], locked: list[LockedFile],
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The component's hashes (of the file installed, when it is known) and
    the properties for what the lockfile says otherwise."""
    archive = source.get("archive_info") if source else None
    if isinstance(archive, dict) and isinstance(archive.get("hashes"), dict):
        recorded = [_hash(f"{alg}:{value}") for alg, value in archive["hashes"].items() if isinstance(value, str)]
        if any(recorded):
            return [each for each in recorded if each], []
    candidates = [each for each in locked if each.version is None or same_version(each.version, dist.version)]
    installed = installed_file(dist.path, candidates)
    if installed is not None:
        found = _hash(installed.hash)
        if found:
            return [found], [{"name": LOCKED_FILE, "value": installed.file_name or ""}]
    hashes = dict.fromkeys(each.hash for each in candidates if _hash(each.hash))
    return [], [{"name": LOCKED_HASH, "value": each} for each in hashes]


def _hash(text: str) -> Optional[dict[str, str]]:
    """"sha256:<hex>" (or "sha256=<hex>") as a CycloneDX hash; None for an
    algorithm CycloneDX doesn't have or a value that isn't one."""
    alg, _, value = text.replace("=", ":", 1).partition(":")
    known = _ALGORITHMS.get(alg.lower())
    value = value.strip().lower()
    if known is None or len(value) != known[1] or any(ch not in "0123456789abcdef" for ch in value):
        return None
    return {"alg": known[0], "content": value}


def same_version(one: str, other: str) -> bool:
    """Whether two version strings are the same version (PEP 440: 1.0 is 1.0.0)."""
    if one == other:
        return True
    try:
        return Version(one) == Version(other)
    except InvalidVersion:
        return False


def installed_file(dist_path: Path, files: list[LockedFile]) -> Optional[LockedFile]:
    """Which of the lockfile's files was installed: the wheel whose tags are
    the installed wheel's (its WHEEL file lists them); else, when no wheel
    has them, the only sdist (the installer built the wheel from it). None
    when the lockfile names no files, or no one file fits."""
    named = [each for each in files if each.file_name]
    if not named:
        return None
    tags = _installed_tags(dist_path)
    wheels = [each for each in named if (each.file_name or "").endswith(".whl")]
    matching = [each for each in wheels if tags and wheel_tags(each.file_name or "") == tags]
    if matching:
        return matching[0] if len(matching) == 1 else None
    sdists = [each for each in named if each not in wheels]
    return sdists[0] if len(sdists) == 1 else None


def _installed_tags(dist_path: Path) -> frozenset[str]:
    """The tags of the wheel installed, from its WHEEL file (`Tag: py3-none-any`, one a line)."""
    wheel = dist_path / "WHEEL"
    if not wheel.is_file():
        return frozenset()
    return frozenset(str(tag).strip() for tag in _read_headers(wheel).get_all("Tag") or [])


def wheel_tags(file_name: str) -> frozenset[str]:
    """The tags a wheel's file name stands for: `name-1.0-cp312-cp312-
    manylinux_2_17_x86_64.manylinux2014_x86_64.whl` is two (PEP 425's
    compressed tag sets)."""
    parts = file_name[:-len(".whl")].split("-")
    if len(parts) < 5:
        return frozenset()
    python, abi, platform = parts[-3:]
    return frozenset(f"{p}-{a}-{pl}" for p in python.split(".") for a in abi.split(".") for pl in platform.split("."))


def _write_atomically(path: Path, text: str) -> None:
    """A complete file renamed into place: never half-written, never
    written through a link at `path` (the rename replaces the link)."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".sbom-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from other users of the slug
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
