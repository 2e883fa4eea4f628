"""Every user-facing error and warning of the buildpack, in one place.

A `BuildError` ends the build: the CLI prints it as an error block on stderr
and exits 1. The `*_warning` functions return the text of a warning block that
the build prints and carries on.

Each error has a stable id, `area::what` in lowercase kebab-case, that the
build report records and tests assert instead of the wording. Where the
classic Heroku Python buildpack records a failure_reason for the same
problem, the id is the same. Ids never change when a message is reworded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Optional, Sequence

from .urls import shown

PYTHON_VERSION_HOWTO = """\
To choose the Python version, create a file named '.python-version' in the
root directory of your app (with the leading dot, without '.txt'), containing
just the major version, for example:

    {major}

Then commit it: git add .python-version && git commit -m "Pin Python {major}"

Naming only the major version (not the patch, such as {major}.1) is
recommended: every build then gets the newest patch release, with its
security fixes."""


# The ids of the two failures that aren't a BuildError.
INTERNAL_ERROR_ID = "internal-error::unhandled"
INTERRUPTED_ID = "build::interrupted"

DETAIL_LIMIT = 100


@dataclass
class BuildError(Exception):
    """An error the user can fix. `id` names the problem for the build report
    and the tests (`area::what`); `title` is one line, `body` explains.
    `detail` is a short fact for the build report: a version, a file name, a
    list of names. Never a URL, a config var's value or a command's output,
    which may hold a secret."""

    id: str
    title: str
    body: str = ""
    detail: str = ""

    def __post_init__(self) -> None:
        self.detail = self.detail[:DETAIL_LIMIT]

    def __str__(self) -> str:
        return f"Error: {self.title}\n\n{self.body}".rstrip()


def _id_part(name: str) -> str:
    """A tool, hook or file name as a part of an id: "Pipenv" -> "pipenv",
    "pre_compile" -> "pre-compile", "uv.lock" -> "uv-lock"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unknown"


def _version_file_area(name: str) -> str:
    return "runtime-txt" if name == "runtime.txt" else "python-version-file"


def interrupted() -> str:
    return "Error: The build was interrupted.\n\nNothing was saved to the build cache."


def internal_error(summary: str) -> str:
    return f"""\
Internal error: the Python buildpack failed unexpectedly.

{summary}

This is a bug in the buildpack, not in your app. Please report it with the
build log above. Retrying the build may help if the cause was temporary.
Set PYTHON_BUILDPACK_DEBUG=1 in the build environment to see the traceback."""


# --- the buildpack's own interpreter and arguments -------------------------

def usage(command: str, expected: str) -> BuildError:
    return BuildError(
        "cli::usage",
        f"bin/{command} was called with the wrong arguments.",
        f"Usage: bin/{command} {expected}\n\nThe build system calls this script; "
        "check the builder (Heroku, herokuish or dokku) is up to date.",
        detail=command,
    )


def not_a_directory(what: str, path: str) -> BuildError:
    return BuildError(
        "cli::not-a-directory",
        f"The {what} '{path}' doesn't exist or isn't a directory.",
        "The build system passes this path to the buildpack. Check the builder "
        "(Heroku, herokuish or dokku) is up to date and working.",
        detail=what,
    )


# --- stack and architecture ------------------------------------------------

def stack_missing(supported: Sequence[str]) -> BuildError:
    return BuildError(
        "checks::stack::missing",
        "The STACK environment variable isn't set.",
        f"""\
The buildpack needs STACK to know which runtime to install. Heroku,
herokuish and dokku set it; supported values are: {', '.join(supported)}.

If you run the buildpack yourself, set it, for example: STACK=heroku-24""",
    )


def stack_end_of_life(stack: str, supported: Sequence[str]) -> BuildError:
    return BuildError(
        "checks::stack::eol",
        f"The '{stack}' stack is no longer supported.",
        f"""\
The '{stack}' stack has reached end of life: its operating system no longer
gets security updates and there are no Python runtimes for it.

Upgrade the app to a supported stack ({', '.join(supported)}):
    heroku stack:set {supported[-1]}
On dokku, use a current herokuish builder image (gliderlabs/herokuish:latest-24).""",
        detail=stack,
    )


def stack_unknown(stack: str, supported: Sequence[str]) -> BuildError:
    return BuildError(
        "checks::stack::unknown",
        f"The '{stack}' stack isn't recognised.",
        f"""\
This buildpack supports these stacks: {', '.join(supported)}.

If '{stack}' is a new stack, use the newest release of the buildpack (don't
pin an old one). Otherwise, check the STACK variable of your build system.""",
        detail=stack,
    )


def architecture_unsupported(arch: str) -> BuildError:
    return BuildError(
        "checks::architecture::unsupported",
        f"The CPU architecture '{arch}' isn't supported.",
        "Python runtimes are available for amd64 and arm64 only.",
        detail=arch,
    )


def architecture_unknown(problem: str) -> BuildError:
    return BuildError(
        "checks::architecture::unknown",
        "Unable to determine the CPU architecture.",
        f"Running 'dpkg --print-architecture' failed: {problem}\n\n"
        "The build image should provide dpkg; check the builder image.",
    )


# --- Python version --------------------------------------------------------

def version_file_unreadable(name: str, problem: str) -> BuildError:
    return BuildError(
        f"{_version_file_area(name)}::invalid-encoding",
        f"Unable to read {name}.",
        f"""\
The file {name} {problem}.

Save it as plain UTF-8 text without a byte order mark (BOM). Some Windows
tools write UTF-16: 'echo 3.14 > {name}' in PowerShell does. Recreate it
with an editor that saves UTF-8, or with: printf '3.14\\n' > {name}
If git converts the file, check your .gitattributes.""",
        detail=problem,
    )


def not_a_file(name: str, holds: str = "the Python version") -> BuildError:
    return BuildError(
        "app-files::not-a-file",
        f"'{name}' isn't a regular file.",
        f"'{name}' must be a text file holding {holds}. Remove or rename "
        "the directory (or broken link) with that name.",
        detail=name,
    )


def python_version_file_misspelled(found: str) -> BuildError:
    return BuildError(
        "python-version-file::misspelled",
        "Your .python-version file is spelled incorrectly.",
        f"""\
The app has a file named:
    '{found}'
The buildpack only reads a file named exactly:
    '.python-version'

Rename it (git mv '{found}' .python-version), then commit.""",
        detail=found,
    )


def python_version_invalid(line: str, hint: str, major: str) -> BuildError:
    return BuildError(
        "python-version-file::invalid-version",
        "Invalid Python version in .python-version.",
        f"""\
The .python-version file holds this line, which isn't a valid version:
    {line}
{hint}
A version is either just the major version (recommended), such as:
    {major}
or an exact version, such as {major}.999. Write it without quotes, without a
'python-' prefix, and without wildcards or ranges. A comment goes on a line
of its own, starting with '#'.""",
        detail=line,
    )


def python_version_missing_version(major: str) -> BuildError:
    return BuildError(
        "python-version-file::no-version",
        "No Python version found in .python-version.",
        "The .python-version file is empty, or holds only comments and blank "
        f"lines.\n\nPut the major version on a line of its own, for example:\n    {major}",
    )


def python_version_multiple(versions: Sequence[str]) -> BuildError:
    listed = "\n".join(f"    {v}" for v in versions)
    return BuildError(
        "python-version-file::multiple-versions",
        "Multiple Python versions found in .python-version.",
        f"""\
The .python-version file names several versions:
{listed}

The buildpack installs one Python. Keep only the version the app should run
on (other tools may keep extra versions in their own files).""",
        detail=",".join(versions),
    )


def runtime_txt_invalid(line: str, major: str) -> BuildError:
    found = f"\n    {line}\n" if line else " (no version line)\n"
    return BuildError(
        "runtime-txt::invalid-version",
        "Invalid Python version in runtime.txt.",
        f"""\
runtime.txt must hold a single line such as 'python-{major}', but it has:{found}
runtime.txt is deprecated: the better fix is to delete it and use a
.python-version file instead.

{PYTHON_VERSION_HOWTO.format(major=major)}""",
        detail=line,
    )


def python_version_end_of_life(version: str, origin: str, oldest: str, newest: str) -> BuildError:
    if origin == "cached":
        return BuildError(
            "python-version::eol",
            "The cached Python version has reached end-of-life.",
            f"""\
The app doesn't say which Python version it needs, so the buildpack would
reuse the major version of the last build: Python {version}. That version
no longer gets security updates and isn't supported.

Choose Python {oldest} or newer.

{PYTHON_VERSION_HOWTO.format(major=newest)}""",
            detail=version,
        )
    return BuildError(
        "python-version::eol",
        "The requested Python version has reached end-of-life.",
        f"""\
{origin} asks for Python {version}, which no longer gets security updates
and isn't supported by this buildpack.

Change the version in {origin} to Python {oldest} or newer; upgrading all
the way to Python {newest} is best.""",
        detail=version,
    )


def python_version_unknown(version: str, origin: str, newest: str) -> BuildError:
    if origin == "cached":
        return BuildError(
            "python-version::unknown-major",
            "The cached Python version isn't recognised.",
            f"""\
The app doesn't say which Python version it needs, and the last build used
Python {version}, which this buildpack doesn't know. The buildpack may have
been downgraded: use a newer release of it again, or pin a version.

{PYTHON_VERSION_HOWTO.format(major=newest)}""",
            detail=version,
        )
    return BuildError(
        "python-version::unknown-major",
        "The requested Python version isn't recognised.",
        f"""\
{origin} asks for Python {version}, which this buildpack doesn't know.
The newest supported major version is Python {newest}.

- Check that Python {version} has been released (python.org/downloads).
- Check you are using the newest release of the buildpack, not an old pin.
- Otherwise, change {origin} to a supported version such as {newest}.""",
        detail=version,
    )


def _asked_for(origin: str, version: str) -> str:
    if origin == "default":
        return f"The app names no Python version; the buildpack default is Python {version}"
    if origin == "cached":
        return f"The app names no Python version; the last build used Python {version}"
    return f"{origin} asks for Python {version}"


def python_version_not_on_mirror(
    requested: str, version: str, origin: str, base_url: str, available: Optional[Sequence[str]]
) -> BuildError:
    """`available`: the versions the mirror's manifest lists, None without one."""
    if available is None:
        listed = ("It publishes no SHA256SUMS manifest, so its versions can't be listed.\n"
                  "Heroku's runtime location has the newest patch of each supported major.")
    else:
        listed = f"Versions it has: {', '.join(available) or 'none for this stack and architecture'}"
    looked_for = "" if requested == version else f" (newest known patch: {version})"
    return BuildError(
        "python-version::unknown-patch",
        "The requested Python version isn't available.",
        f"""\
{_asked_for(origin, requested)}{looked_for},
but the runtime mirror doesn't have it:
    {shown(base_url)}
{listed}

Check that Python {version} has been released (python.org/downloads) and
that you use the newest release of the buildpack. Naming only the major
version lets the buildpack pick the newest patch a mirror with a SHA256SUMS
manifest has.""",
        detail=version,
    )


def pyproject_invalid(problem: str) -> BuildError:
    """`problem` completes "pyproject.toml ...": "isn't valid TOML: ... (at line 3, column 9)"."""
    return BuildError(
        "pyproject-toml::invalid",
        "Unable to read pyproject.toml.",
        f"""\
The app's pyproject.toml (in its root directory) {problem}.

The buildpack reads it for the Python versions the project allows, as the
package managers do. Fix the file, then commit it: 'poetry check', 'uv lock'
or any TOML checker shows what is wrong.""",
    )


def _toml_key(key: str, text: str) -> str:
    """A pyproject.toml key and value as the user wrote them."""
    table, _, name = key.rpartition(" ") if key.startswith("[") else ("[project]", "", key)
    return f"    {table}\n    {name} = \"{text}\""


def python_range_invalid(file: str, key: str, text: str, reason: str, poetry: bool) -> BuildError:
    if poetry:
        fix = """\
Use a constraint Poetry reads, such as "^3.12", "3.12.*" or ">=3.12,<3.15",
then run 'poetry lock' and commit both files."""
    else:
        fix = """\
Use a PEP 440 version range, as uv, PDM and pip read it, such as ">=3.12"
or "==3.13.*", or pin the version in a .python-version file."""
    return BuildError(
        "pyproject-toml::invalid-python-range",
        f"Invalid {key} in {file}.",
        f"""\
{file} has:
{_toml_key(key, text)}
which isn't a valid version range ({reason}).

{fix}""",
        detail=key,
    )


def python_range_unsatisfiable(ranges: Sequence[tuple[str, str]], oldest: str, newest: str) -> BuildError:
    """`ranges`: each key and its text; no supported version satisfies them all."""
    title = (
        f"No supported Python version satisfies {ranges[0][0]}." if len(ranges) == 1
        else "No supported Python version satisfies both Python ranges in pyproject.toml."
    )
    shown = "\n".join(_toml_key(key, text) for key, text in ranges)
    return BuildError(
        "pyproject-toml::unsatisfiable-python-range",
        title,
        f"""\
pyproject.toml has:
{shown}
and no Python version this buildpack supports (Python {oldest} to {newest})
is in {"that range" if len(ranges) == 1 else "both ranges"}.

Widen the range, or pin a supported version in a .python-version file.""",
        detail=",".join(text for _, text in ranges),
    )


def python_range_conflict(
    requested: str, version: str, origin: str, key: str, text: str, lock_command: str, bare_major: bool
) -> BuildError:
    """The chosen `version` (from `requested`, read from `origin`) is outside
    pyproject.toml's `key`. `bare_major`: the range is a bare `3.12`, which
    Poetry reads as 3.12.0 only."""
    asked = _asked_for(origin, requested) + ("" if requested == version else f" ({version})")
    where = origin if origin not in ("default", "cached", "pyproject.toml") else ".python-version"
    relock = f" (then run '{lock_command}' and commit both files)" if lock_command else ""
    major = text.strip().lstrip("=")
    note = (
        f"\n\nNote: Poetry reads a bare version as that exact version: '{text}' allows\n"
        f"Python {major}.0 only. For any {major} release, write '{major}.*' or '~{major}'."
        if bare_major else ""
    )
    return BuildError(
        "pyproject-toml::python-version-conflict",
        f"The Python version doesn't satisfy the project's {key}.",
        f"""\
{asked}, but pyproject.toml's
{key} = '{text}' doesn't allow it.

Change one of them: the version in {where}, or
{key} in pyproject.toml{relock}.{note}""",
        detail=version,
    )


def runtime_txt_deprecated_warning(version: str, major: str) -> str:
    return f"""\
Warning: The runtime.txt file is deprecated.

The Python version ({version}) was read from runtime.txt, which is deprecated
in favour of .python-version (the file other Python tools read too).
runtime.txt will stop working in a future release of the buildpack.

Delete runtime.txt, then:
{PYTHON_VERSION_HOWTO.format(major=major)}"""


def no_python_version_warning(major: str, origin: str) -> str:
    why = (
        "the buildpack's default"
        if origin == "default"
        else "the same major version as the app's last build"
    )
    return f"""\
Warning: No Python version was specified.

The app doesn't say which Python version it needs, so it gets {why},
Python {major}. The default changes over time, which can break the app
unexpectedly.

{PYTHON_VERSION_HOWTO.format(major=major)}"""


def python_major_deprecated_warning(major: str, upstream_eol: str, origin: str, newest: str) -> str:
    return f"""\
Warning: Support for Python {major} is deprecated.

Python {major} reached its upstream end of life in {upstream_eol} and no
longer gets security updates. A future release of the buildpack will stop
supporting it.

Upgrade the app by changing the version in {origin}, ideally to Python {newest}."""


def python_patch_outdated_warning(version: str, latest: str, origin: str, major: str) -> str:
    return f"""\
Warning: A Python patch update is available.

The app uses Python {version}, but Python {latest} is available, with bug and
security fixes. Change the version in {origin} to '{major}' (recommended:
every build then gets the newest patch) or to '{latest}'."""


# --- runtime mirror and download -------------------------------------------

def runtime_base_url_invalid(value: str, problem: str) -> BuildError:
    """`problem` completes "It isn't usable since ..."; never a part of `value`."""
    return BuildError(
        "runtime-mirror::invalid-url",
        "PYTHON_RUNTIME_BASE_URL isn't a usable URL.",
        f"""\
PYTHON_RUNTIME_BASE_URL is set to (credentials hidden):
    {shown(value)}
It isn't usable since {problem}.

It must be an http://, https:// or file:// URL of a directory holding the
Python runtime archives, for example https://mirror.example.com/python, or
with credentials https://user:token@mirror.example.com/python.
Unset it to use the default runtime location.""",
    )


def runtime_base_url_not_a_directory(value: str, problem: str) -> BuildError:
    """`problem` completes "... but that path ...": "is a file"."""
    return BuildError(
        "runtime-mirror::not-a-directory",
        "PYTHON_RUNTIME_BASE_URL must name a directory.",
        f"""\
PYTHON_RUNTIME_BASE_URL is set to:
    {shown(value)}
but that path {problem}.

A file:// mirror is a directory, readable by the build's user, holding the
runtime archives (python-X.Y.Z-ubuntu-NN.04-ARCH.tar.zst) and, optionally,
their SHA256SUMS: point PYTHON_RUNTIME_BASE_URL at the directory, not at
an archive, and check the path exists in the build environment.""",
    )


def runtime_mirror_authentication_failed(url: str, code: int, has_credentials: bool) -> BuildError:
    if code == 407:
        return BuildError(
            "runtime-mirror::proxy-auth-failed",
            "The proxy refused the download of Python (HTTP 407).",
            f"""\
Downloading
    {shown(url)}
needs credentials for the HTTP proxy (http_proxy or https_proxy in the
build environment), and the proxy refused those it got, if any.

Put the proxy's user name and password in the proxy URL
(http://user:password@proxy.example.com:3128), percent-encoded. Retrying
won't help.""",
            detail="HTTP 407",
        )
    sent = ("refused the user name and password (or token) in PYTHON_RUNTIME_BASE_URL"
            if has_credentials else "requires a user name and password (or token), and the URL has none")
    return BuildError(
        "runtime-mirror::auth-failed",
        "The runtime mirror refused the credentials (HTTP 401).",
        f"""\
The runtime mirror
    {shown(url)}
{sent}.

Check the credentials in PYTHON_RUNTIME_BASE_URL, in the form
    https://user:token@mirror.example.com/python
with the characters / ? # @ : in them percent-encoded (%2F %3F %23 %40 %3A),
and that they may read the mirror. Retrying won't help.""",
        detail=f"HTTP {code}",
    )


def runtime_mirror_served_html(url: str, what: str) -> BuildError:
    """`what`: "the SHA256SUMS manifest" or "the Python runtime archive"."""
    return BuildError(
        "runtime-mirror::served-html",
        "The runtime mirror sent a web page instead of a runtime file.",
        f"""\
Instead of {what}, the download of
    {shown(url)}
got an HTML page. Nothing was installed. That happens when:
- a captive portal or a corporate proxy's login page answers for the
  mirror: check the build can reach it without a browser sign-in;
- the mirror wants a sign-in: put the credentials in
  PYTHON_RUNTIME_BASE_URL (https://user:token@mirror.example.com/python);
- PYTHON_RUNTIME_BASE_URL names a web page, not the directory holding the
  archives (a repository browser's page, say, not its raw-file URL).""",
        detail=what,
    )


def runtime_manifest_too_large(url: str, limit: int) -> BuildError:
    return BuildError(
        "runtime-mirror::manifest-too-large",
        "The runtime mirror's SHA256SUMS file is too large.",
        f"""\
The mirror's
    {shown(url)}
is larger than {limit // 1024} KB, far more than a manifest of runtime
archives (one short line each). It isn't a SHA256SUMS file: check what the
mirror serves at that URL, and fix or remove it.""",
    )


def runtime_manifest_invalid(url: str, line_number: int, line: str) -> BuildError:
    return BuildError(
        "runtime-mirror::manifest-invalid",
        "The runtime mirror's SHA256SUMS file is malformed.",
        f"""\
Line {line_number} of
    {shown(url)}
isn't '<sha256>  <file name>':
    {line[:120]}

Fix the mirror's SHA256SUMS (the buildpack's builds/ tool writes it) or
remove it to let the buildpack download without checksums.""",
        detail=f"line {line_number}",
    )


@dataclass
class DownloadFailed(BuildError):
    """A download failed for network or server reasons (not a 404)."""

    url: str = ""
    cause: str = ""


def runtime_download_failed(url: str, cause: str, temporary: bool = True) -> BuildError:
    """`temporary`: a retry may help (network, time-outs, 5xx)."""
    advice = (
        """\
This is usually a temporary network or server problem: retry the build.
If you use PYTHON_RUNTIME_BASE_URL, check the mirror is up and reachable from
the build. Slow networks can raise CURL_CONNECT_TIMEOUT and CURL_TIMEOUT."""
        if temporary else
        """\
Retrying won't help: check PYTHON_RUNTIME_BASE_URL and what the mirror
serves at that URL. A slow network can raise CURL_TIMEOUT (seconds for the
whole download, retries included; at most 3600)."""
    )
    return DownloadFailed(
        "runtime-mirror::download-failed",
        "Unable to download Python.",
        f"""\
Downloading the Python runtime failed:
    {shown(url)}
Cause: {cause}

{advice}""",
        detail=cause,
        url=url,
        cause=cause,
    )


def timeout_setting_invalid_warning(name: str, default: float) -> str:
    return f"""\
Warning: {name} isn't a usable number of seconds.

{name} (a config var or a build environment variable) must be a number of
seconds greater than 0, such as {default:g} or 2.5 ('inf', 'nan', signs
and units aren't accepted). The build uses the default, {default:g} seconds."""


def timeout_setting_capped_warning(name: str, maximum: float) -> str:
    return f"""\
Warning: {name} is more than {maximum:g} seconds.

The build waits at most {maximum:g} seconds (an hour) and uses that instead."""


def runtime_disk_full(directory: str, free: str) -> BuildError:
    """`free`: the space left, as "12 MB free of 1,024 MB", or ""."""
    left = f" ({free})" if free else ""
    return BuildError(
        "install-python::disk-full",
        "No space left on device while installing Python.",
        f"""\
Unpacking the Python runtime into
    {directory}
failed: the file system holding it is full{left}.
Nothing was installed.

The runtime needs about 100 MB unpacked, and the app's dependencies more.
Free space on that file system (the build directory's), or give the build
more: on dokku or herokuish, check 'df' on the host or the container's
disk limit. The archive itself isn't at fault.""",
    )


def runtime_unpack_failed(directory: str, problem: str) -> BuildError:
    return BuildError(
        "install-python::unpack-failed",
        "Unable to install Python.",
        f"""\
Writing the Python runtime into
    {directory}
failed: {problem}.
Nothing was installed. Check the build directory is writable by the build's
user and its file system works.""",
        detail=problem,
    )


def mirror_unreachable_warning(url: str, cause: str, version: str) -> str:
    return f"""\
Warning: Unable to reach the runtime mirror; using the cached Python {version}.

Fetching {shown(url)} failed ({cause}).
The last build's Python {version} is in the cache and matches the app's
version, so the build goes on with it. Check the mirror is up."""


def runtime_checksum_mismatch(url: str, expected: str, actual: str) -> BuildError:
    return BuildError(
        "runtime-mirror::checksum-mismatch",
        "The downloaded Python runtime doesn't match its checksum.",
        f"""\
The archive
    {shown(url)}
has sha256 {actual},
but the mirror's SHA256SUMS says {expected}.
Nothing was installed.

The archive may be corrupt or tampered with, or SHA256SUMS is out of date.
Ask the mirror's operator to re-upload the archive or regenerate SHA256SUMS.""",
    )


def runtime_archive_invalid(url: str, problem: str) -> BuildError:
    return BuildError(
        "runtime-mirror::invalid-archive",
        "The Python runtime archive is invalid.",
        f"""\
The archive
    {shown(url)}
{problem}
Nothing was installed. Rebuild the archive (see builds/ in the buildpack)
or ask the mirror's operator to replace it.""",
    )


def unpack_command_missing(command: str) -> BuildError:
    """`command`: zstd or tar, which unpack the Python runtime archives."""
    return BuildError(
        f"install-python::{command}-missing",
        f"The '{command}' command isn't available.",
        "Python runtime archives are zstd-compressed tar files, unpacked with "
        f"'zstd' and 'tar', and the build image has no '{command}' command.\n"
        "Use a current build image (heroku/heroku:24-build, "
        "gliderlabs/herokuish:latest-24), which has both.",
    )


def heroku_dir_unusable(what: str) -> BuildError:
    """`what` completes "The app's '.heroku' is ..."."""
    return BuildError(
        "checks::heroku-dir-unusable",
        "The app's '.heroku' isn't a directory.",
        f"""\
The app's '.heroku' is {what}.
The buildpack installs Python into '.heroku/python', which must be in the
app's own directory to end up in the slug: a symbolic link would put Python
somewhere else (or nowhere), and a file stops the install.

Remove it (git rm .heroku), or make it a plain directory, and commit. If the
build makes it (a bin/pre_compile hook, or an earlier buildpack), have that
leave '.heroku' alone.""",
    )


def existing_python_dir(listing: str) -> BuildError:
    return BuildError(
        "checks::existing-python-dir",
        "Existing '.heroku/python/' directory found.",
        f"""\
The app's source already has a '.heroku/python/' directory:
{listing}
That is where the buildpack installs Python, so it must not be committed or
created by an earlier buildpack. Remove it from git
(git rm -r --cached .heroku/python), add it to .gitignore and commit.""",
    )


def committed_venv(name: str, listing: str) -> BuildError:
    return BuildError(
        "checks::existing-venv-dir",
        f"Existing '{name}/' directory found.",
        f"""\
The app's source has a Python virtual environment in '{name}/':
{listing}

A virtual environment belongs to the machine it was made on (its paths and
Python are that machine's), so it doesn't work in the build, and tools such
as uv and Poetry would use it instead of the app's Python. The buildpack
installs the dependencies itself.

Remove it from git (the files stay on your machine) and ignore it:
    git rm --cached -r {name}/
    echo '{name}/' >> .gitignore
    git add .gitignore && git commit -m "Stop committing {name}/"

If the build itself makes it (a bin/pre_compile hook, or an earlier
buildpack), have that use another location.""",
        detail=name,
    )


def buildpack_run_twice() -> BuildError:
    return BuildError(
        "checks::duplicate-python-buildpack",
        "The Python buildpack has already been run this build.",
        """\
An earlier buildpack in this build already installed Python (the build dir
has .heroku/python, and PYTHONHOME from that buildpack's export file points
at it). The app lists the Python buildpack twice, perhaps under two names
(heroku/python and a GitHub URL of this buildpack, say).

Remove the duplicate, keeping one Python buildpack:
- Heroku: 'heroku buildpacks' lists them; 'heroku buildpacks:remove <url>'
  removes one.
- dokku: 'dokku buildpacks:list <app>' and 'dokku buildpacks:remove <app>
  <url>', or edit the app's .buildpacks file, and commit it.""",
    )


# --- package managers and dependencies -------------------------------------

def not_a_python_app(listing: str, app_dir: str = "") -> str:
    """`app_dir`: the app's directory in the repository, when it isn't the root."""
    where = f"the app's directory, {app_dir}" if app_dir else "the app's root directory"
    return f"""\
Error: This app doesn't look like a Python app.

The Python buildpack looks for a Python project file in {where},
such as requirements.txt, .python-version, pyproject.toml, Pipfile.lock,
poetry.lock, uv.lock, pdm.lock, setup.py or manage.py, and found none.
{"It" if app_dir else "The root directory"} holds:
{listing}

If this is a Python app, add a 'requirements.txt' listing its dependencies
(an empty one is fine), commit it, and check it isn't in .gitignore or
.slugignore. An app in a subdirectory of the repository (a monorepo's
backend/) is built with the config var PYTHON_APP_DIR naming it."""


def no_package_manager_files(listing: str) -> BuildError:
    return BuildError(
        "package-manager::none-found",
        "Couldn't find any supported Python package manager files.",
        f"""\
A Python app needs a 'requirements.txt' file in its root directory listing
its dependencies. The root directory holds:
{listing}

Check that the file:
1. is in the top level directory, not a subdirectory;
2. is named exactly 'requirements.txt' (lowercase);
3. isn't listed in .gitignore or .slugignore;
4. has been added to git and committed (git add requirements.txt).

An app without dependencies can use an empty requirements.txt.""",
    )


def setup_py_only() -> BuildError:
    return BuildError(
        "package-manager::setup-py-only",
        "A setup.py or setup.cfg file alone isn't supported.",
        """\
The app has setup.py/setup.cfg but no 'requirements.txt'. Create a
requirements.txt holding this one line, which installs the app's package
and its dependencies:
    -e .
then commit it.""",
    )


def multiple_package_managers(found: Sequence[tuple[str, str]]) -> BuildError:
    listed = "\n".join(f"    {name} ({tool})" for name, tool in found)
    return BuildError(
        "package-manager::multiple-found",
        "Multiple Python package manager files were found.",
        f"""\
The app's root directory has more than one package manager file:
{listed}

The buildpack installs dependencies with exactly one package manager, and
won't guess which. Delete the files of the tools you don't use (git rm), and
commit. A requirements.txt exported from another tool's lockfile, or made by
another buildpack, counts too.""",
        detail=",".join(_id_part(tool) for _, tool in found),
    )


def pipfile_without_lock() -> BuildError:
    return BuildError(
        "package-manager::pipenv-missing-lockfile",
        "No 'Pipfile.lock' found.",
        """\
The app has a Pipfile but no Pipfile.lock. Installing from a Pipfile alone
would pick unpinned versions at build time, so the lockfile is required.

Create it with 'pipenv lock', check it isn't in .gitignore, and commit it.""",
    )


def pyproject_without_lock(tool: Optional[str]) -> BuildError:
    how = {
        "poetry": "This looks like a Poetry project: run 'poetry lock' and commit poetry.lock.",
        "uv": "This looks like a uv project: run 'uv lock' and commit uv.lock.",
        "pdm": "This looks like a PDM project: run 'pdm lock' and commit pdm.lock.",
    }.get(tool or "", """\
Run 'uv lock' (uv), 'poetry lock' (Poetry) or 'pdm lock' (PDM) and commit the
lockfile, or list the dependencies in a requirements.txt ('-e .' installs the
project itself).""")
    return BuildError(
        "package-manager::pyproject-missing-lockfile",
        "The app has a pyproject.toml but no lockfile.",
        f"""\
The buildpack installs dependencies from a lockfile (uv.lock, poetry.lock,
pdm.lock or Pipfile.lock) or from requirements.txt, and found none of them.

{how}""",
        detail=tool or "",
    )


def lockfile_outdated(file_name: str, command: str) -> BuildError:
    return BuildError(
        f"{_id_part(file_name)}::outdated",
        f"{file_name} is out of date.",
        f"""\
{file_name} doesn't match the project's dependencies any more (the output
above says what changed), and the buildpack installs exactly what the lockfile
pins. Run '{command}', then commit the updated {file_name}.""",
    )


def pipfile_lock_invalid_json(problem: str) -> BuildError:
    return BuildError(
        "pipfile-lock::invalid-json",
        "Unable to read Pipfile.lock.",
        f"""\
Pipfile.lock isn't valid JSON: {problem}

It may have been edited by hand or left with merge conflict markers.
Run 'pipenv lock' to regenerate it, then commit it.""",
    )


def pipfile_lock_invalid_shape(problem: str) -> BuildError:
    """`problem` completes "Pipfile.lock has ...": "\"default\" as a list"."""
    return BuildError(
        "pipfile-lock::invalid-structure",
        "Pipfile.lock isn't a valid Pipenv lockfile.",
        f"""\
Pipfile.lock is valid JSON, but it has {problem}.
Pipenv can't install from it: it was edited by hand, merged badly, or
written by another tool.

Run 'pipenv lock' to regenerate it, then commit it.""",
    )


def file_not_utf8(name: str, offset: int, line: int, included_by: Optional[str] = None) -> BuildError:
    """`offset`: of the first byte that isn't UTF-8, from 0; `line` from 1."""
    included = f" (included by {included_by})" if included_by else ""
    return BuildError(
        "app-files::not-utf8",
        f"{name} isn't UTF-8 text.",
        f"""\
The app's {name}{included} has a byte that isn't UTF-8 text at
byte offset {offset} (line {line}). The package managers read it as UTF-8
and would stop with an error.

Save it as UTF-8 in your editor ('Save with encoding' or 'Reopen with
encoding'), or convert it, for example from Latin-1 or Windows-1252:
    iconv -f windows-1252 -t utf-8 {name} > {name}.new && mv {name}.new {name}
then commit it.""",
        detail=name,
    )


def file_unreadable(name: str, problem: str) -> BuildError:
    return BuildError(
        "app-files::unreadable",
        f"Unable to read {name}.",
        f"""\
The app's {name} can't be read: {problem}.

Check its permissions (chmod 644 {name}); if a bin/pre_compile hook or an
earlier buildpack writes it, check that step.""",
        detail=name,
    )


def requirements_include_unusable(name: str, included_by: str, problem: str) -> BuildError:
    """`problem` completes "... is ...": "a device, not a regular file"."""
    return BuildError(
        "requirements-txt::unusable-include",
        f"{included_by} includes '{name}', which can't be used.",
        f"""\
{included_by} includes the requirements file '{name}' (with -r or -c),
which is {problem}.
pip would read it for ever or fail.

Include only requirements files of the app's own (-r requirements/base.txt),
then commit.""",
        detail=name,
    )


def pipfile_lock_invalid_version(value: str) -> BuildError:
    return BuildError(
        "pipfile-lock::invalid-version",
        "Invalid Python version in Pipfile.lock.",
        f"""\
Pipfile.lock asks for the Python version '{value[:50]}', which isn't a version
such as 3.13 or 3.13.2 (ranges and wildcards aren't supported).

Set python_version (or python_full_version) in the [requires] section of the
Pipfile, run 'pipenv lock' and commit both files, or pin the version in a
.python-version file.""",
        detail=value[:50],
    )


def uv_needs_python_version_file(origin: str, major: str) -> BuildError:
    if origin == "runtime.txt":
        return BuildError(
            "runtime-txt::not-supported",
            "The runtime.txt file isn't supported when using uv.",
            f"""\
uv reads the Python version from .python-version, so the buildpack does too.
Delete runtime.txt, run 'uv python pin {major}', and commit .python-version.""",
        )
    return BuildError(
        "python-version-file::not-found",
        "No Python version was specified.",
        f"""\
uv apps must say which Python version they use in a .python-version file, so
the buildpack installs the same Python that uv locked the project for.

Run 'uv python pin {major}' in the app's root directory (name only the major
version, so builds get its newest patch), then commit .python-version.""",
    )


def pdm_install_cache(file_name: str) -> BuildError:
    return BuildError(
        "pdm::install-cache",
        f"{file_name} turns on PDM's install cache.",
        f"""\
The app's {file_name} sets PDM's install.cache setting. With it, PDM installs
links to the packages in its cache instead of the packages themselves, and
that cache is in the build cache, outside the app: the app would find none of
its dependencies when it runs.

Remove the setting from {file_name}, or set it to false, and commit.""",
        detail=file_name,
    )


def bundled_pip_missing(python_dir: str) -> BuildError:
    return BuildError(
        "internal-error::bundled-pip-not-found",
        "The Python runtime has no bundled pip.",
        f"""\
The buildpack installs its tools with the pip wheel that CPython ships in
    {python_dir}/lib/pythonX.Y/ensurepip/_bundled/
and the installed runtime has none. The runtime archive was built without
ensurepip's wheel; rebuild it with the buildpack's builds/ tool, or use the
default runtime location.""",
    )


def tool_install_failed(tool: str, version: str) -> BuildError:
    return BuildError(
        f"install-package-manager::{_id_part(tool)}",
        f"Unable to install {tool} {version}.",
        "pip's output above says why. This is usually a temporary problem "
        "reaching the package index: retry the build.\nIf the build uses a "
        f"private index (PIP_INDEX_URL), check it is reachable and holds {tool}.",
        detail=version,
    )


def dependencies_install_failed(tool: str, command: str) -> BuildError:
    return BuildError(
        f"install-dependencies::{_id_part(tool)}",
        f"Unable to install dependencies using {tool}.",
        f"""\
'{command}' failed; its output above says why.

Common causes: a package or version that doesn't exist (or isn't on the
index the app uses), a dependency that needs another Python version, or a
package that builds from source and needs system libraries. Try the same
command locally in a clean environment.""",
    )


def installer_invalid(setting: str, value: str) -> BuildError:
    return BuildError(
        "config::invalid-installer",
        f"The {setting} config var isn't 'uv' or 'pip'.",
        f"""\
{setting} chooses what installs requirements.txt and Pipfile.lock: 'uv' (the
default, several times faster) or 'pip' (pip, and Pipenv's own install). It
is set to a value that is neither, so the build doesn't guess.

    heroku config:set {setting}=pip        (or: heroku config:unset {setting})
    dokku config:set <app> {setting}=pip""",
        detail=value[:20],
    )


_APP_DIR_HOWTO = """\
Set it to the app's directory relative to the repository's root, such as
'backend' for an app in backend/ (or unset it for an app in the root):
    heroku config:set {setting}=backend
    dokku config:set <app> {setting}=backend"""


def app_dir_absolute(setting: str, value: str) -> BuildError:
    return BuildError(
        "config::app-dir-absolute",
        f"{setting} must be a path relative to the repository.",
        f"""\
{setting} is set to '{value}', an absolute path. It names the app's
directory inside the repository, and the repository isn't in the same place
during the build (a temporary build directory) and at run time (/app).

{_APP_DIR_HOWTO.format(setting=setting)}""",
        detail=setting,
    )


def app_dir_outside(setting: str, value: str, through_link: bool) -> BuildError:
    why = ("leads, through a symbolic link, to a directory outside the repository: only the\n"
           "repository's own files are built into the slug" if through_link else
           "goes up ('..') out of the repository: only the repository's own files are\n"
           "built into the slug")
    return BuildError(
        "config::app-dir-outside",
        f"{setting} names a directory outside the repository.",
        f"""\
{setting} is set to '{value}', which {why}.

{_APP_DIR_HOWTO.format(setting=setting)}""",
        detail="link" if through_link else "dot-dot",
    )


def app_dir_missing(setting: str, value: str, listing: str) -> BuildError:
    return BuildError(
        "config::app-dir-missing",
        f"The directory {setting} names doesn't exist.",
        f"""\
{setting} is set to '{value}', and the repository has no such directory.
Its root directory holds:
{listing}

Check the name (it is case-sensitive) and that the directory is committed
(git ls-files). {_APP_DIR_HOWTO.format(setting=setting)}""",
        detail=setting,
    )


def app_dir_not_a_directory(setting: str, value: str) -> BuildError:
    return BuildError(
        "config::app-dir-not-a-directory",
        f"{setting} names a file, not a directory.",
        f"""\
{setting} is set to '{value}', which isn't a directory. It names the
directory that holds the app's files (its requirements.txt or lockfile,
.python-version and code), not one of the files.

{_APP_DIR_HOWTO.format(setting=setting)}""",
        detail=setting,
    )


def uv_not_cached_warning(cache_dir: str) -> str:
    return f"""\
Warning: uv couldn't be saved in the build cache.

The cache directory ({cache_dir}) has no room for it, or can't be written:
this build runs uv from a temporary directory, and the next build downloads
it again. Check the free space of the builder's cache volume."""


def with_uv_installer_hint(error: BuildError, file_name: str, tool: str) -> BuildError:
    """A failed `uv pip install` of `file_name`, and how to have `tool` (pip,
    Pipenv) install it instead."""
    hint = f"""\
The dependencies in {file_name} were installed with uv ('uv pip install'),
which this buildpack uses by default. If the app builds with {tool} but not
with uv (uv reads a few options otherwise), switch this app back to {tool}:

    heroku config:set PYTHON_INSTALLER=pip
    dokku config:set <app> PYTHON_INSTALLER=pip"""
    return replace(error, body=f"{error.body}\n\n{hint}".strip())


def pipfile_python_mismatch(required: str, version: str) -> BuildError:
    return BuildError(
        "pipfile::python-mismatch",
        f"The Pipfile requires Python {required[:50]}, not {version}.",
        f"""\
The [requires] section of the Pipfile asks for Python {required[:50]}, and
'pipenv install --deploy' refuses to install with any other, but this build
uses Python {version} (from the app's Python version file, or the last build).

Make the two agree: change python_version in the Pipfile and run 'pipenv
lock', or pin the same version in .python-version. Commit the files.""",
        detail=required[:50],
    )


# Known causes of failed installs (install_hints.py picks one by the output).

def install_failed_gdal_missing(tool: str, command: str) -> BuildError:
    return BuildError(
        f"install-dependencies::{_id_part(tool)}",
        "Package installation failed since the GDAL library wasn't found.",
        f"""\
'{command}' failed ({tool}): a package needs the GDAL geospatial library
('Could not find gdal-config' in the output above), and the build image
doesn't have it.

Add a buildpack that provides GDAL (with GEOS and PROJ) before this one, such
as https://github.com/heroku/heroku-geo-buildpack:
    heroku buildpacks:add --index 1 heroku-community/geo
On dokku, list it first in the app's .buildpacks file. Packages such as
Fiona, rasterio and pyogrio also have wheels that bundle GDAL: a version
with a wheel for this Python avoids the build altogether.""",
        detail="Could not find gdal-config",
    )


def install_failed_sqlite_headers_missing(tool: str, command: str) -> BuildError:
    return BuildError(
        f"install-dependencies::{_id_part(tool)}",
        "Package installation failed since the SQLite headers weren't found.",
        f"""\
'{command}' failed ({tool}): a package builds a C extension against SQLite
('sqlite3.h: No such file or directory' in the output above), and the
build image doesn't include SQLite's development headers.

- Python's own 'sqlite3' module is always available: if the package only
  provides SQLite access, remove it and use 'import sqlite3'.
- For pysqlite3, use 'pysqlite3-binary' (a wheel with SQLite built in), or
  pysqlite3 0.6.0 or newer, whose wheels need no headers.
- Otherwise, add a buildpack that installs libsqlite3-dev (an apt buildpack)
  before this one.""",
        detail="sqlite3.h: No such file or directory",
    )


def install_failed_broken_metadata(tool: str, command: str) -> BuildError:
    return BuildError(
        f"install-dependencies::{_id_part(tool)}",
        "One of your dependencies contains broken metadata.",
        f"""\
'{command}' failed ({tool}): a release the app pins has invalid package
metadata, which pip 24.1 and newer refuse to install ('Please use pip<24.1'
in the output above names the package and version).

Upgrade that package to a release with valid metadata. For example, celery
before 5.2.1 has this problem: use celery 5.2.1 or newer. Update the
version in {_dependency_file(tool)}, then commit it.""",
        detail="Please use pip<24.1 if you need to use this version",
    )


def install_failed_pg_config_missing(tool: str, command: str) -> BuildError:
    return BuildError(
        f"install-dependencies::{_id_part(tool)}",
        "Package installation failed since pg_config wasn't found.",
        f"""\
'{command}' failed ({tool}): psycopg2 is being built from source, which
needs PostgreSQL's client library and its 'pg_config' program ('pg_config
executable not found' in the output above), and the build has neither.

- Use a package with the library built in instead: 'psycopg2-binary', or
  psycopg 3 with 'psycopg[binary]'.
- Or make libpq available to the build: a build image with libpq-dev, or an
  apt buildpack installing libpq-dev before this one.""",
        detail="pg_config executable not found",
    )


def _dependency_file(tool: str) -> str:
    return {
        "pip": "requirements.txt",
        "Pipenv": "the Pipfile (then run 'pipenv lock')",
        "Poetry": "pyproject.toml (then run 'poetry lock')",
        "uv": "pyproject.toml (then run 'uv lock')",
        "PDM": "pyproject.toml (then run 'pdm lock')",
    }.get(tool, "the app's dependency file")


def hook_failed(name: str, returncode: int) -> BuildError:
    return BuildError(
        f"hooks::{_id_part(name)}",
        f"Failed to run the bin/{name} script.",
        f"""\
The app's bin/{name} script ran (the buildpack runs it to let apps customise
the build) and exited with status {returncode}. Its output above says why.

Fix the script, or remove or rename it if the app no longer needs it.""",
        detail=f"exit status {returncode}",
    )


def hook_crlf_shebang(name: str, interpreter: str) -> BuildError:
    return BuildError(
        f"hooks::{_id_part(name)}",
        f"The bin/{name} script has Windows line endings.",
        f"""\
The first line of bin/{name} ends in a carriage return (CRLF, Windows line
endings), so the system looks for an interpreter named '{interpreter}\\r',
which doesn't exist ("bad interpreter").

Convert the script to Unix line endings (LF) and commit it:
    dos2unix bin/{name}    (or: sed -i 's/\\r$//' bin/{name})
To stop git converting it again on Windows, add to .gitattributes:
    bin/* text eol=lf
or set: git config core.autocrlf input""",
        detail="crlf-line-endings",
    )


def hook_not_started(name: str, problem: str, interpreter: Optional[str]) -> BuildError:
    """`interpreter`: the #! interpreter, when that is what is missing."""
    if interpreter is not None:
        cause = f"""\
The interpreter its first line names (#!{interpreter}) doesn't exist in the
build image. Use one that does, such as '#!/usr/bin/env bash' (Python isn't
installed yet when bin/pre_compile runs)."""
    else:
        cause = """\
Make sure it is a script starting with an interpreter line, such as
'#!/usr/bin/env bash', or a program built for this system."""
    return BuildError(
        f"hooks::{_id_part(name)}",
        f"Unable to start the bin/{name} script.",
        f"""\
The app's bin/{name} script couldn't be started: {problem}.

{cause}""",
        detail="not-started",
    )


def environment_too_large(program: str, variables: Sequence[tuple[str, int]]) -> BuildError:
    """`variables`: the largest environment variables' names and sizes (never values)."""
    listed = "\n".join(f"    {name} ({_size(size)})" for name, size in variables)
    first = variables[0][0] if variables else "?"
    return BuildError(
        "build-env::variable-too-large",
        f"Unable to run {program}: the environment variable {first} is too large.",
        f"""\
The system refused to start '{program}' ("Argument list too long"): Linux
allows 128 KB for one environment variable, and about 2 MB for all of them.
The largest ones are:
{listed}
The app's config vars are passed to the build's hooks, collectstatic and
NLTK as environment variables.

Keep large values out of config vars: put the data in a file (in the app, or
fetched at build or run time) and set the config var to its path or URL:
    heroku config:unset {first}   (dokku: dokku config:unset <app> {first})""",
        detail=first,
    )


def _size(size: int) -> str:
    return f"{size // 1024} KB" if size >= 1024 else f"{size} bytes"


def config_vars_skipped_warning(skipped: dict[str, str]) -> str:
    listed = "\n".join(f"    {name}: {problem}" for name, problem in sorted(skipped.items()))
    return f"""\
Warning: Some config vars can't be read.

These entries of the build's config var directory (ENV_DIR) aren't config
var files, or are too large, so the build leaves them out:
{listed}
Check how the build system writes the app's config vars."""


def tool_setting_refused(name: str, where: str, reason: str) -> BuildError:
    return BuildError(
        "checks::tool-setting-refused",
        f"The {where} {name} isn't supported.",
        f"""\
{name} is set (as a {where}): {reason}.
The buildpack installs the dependency file in the app's root directory into
the app's Python, in the slug.

Unset it: heroku config:unset {name}  (dokku: dokku config:unset <app> {name})
or remove it from the build system's environment.""",
        detail=name,
    )


def tool_settings_ignored_warning(found: Sequence[tuple[str, str, str]]) -> str:
    """`found`: each setting's name, where it is set and why it is ignored."""
    listed = "\n".join(f"    {name} ({where}): {reason}" for name, where, reason in found)
    return f"""\
Warning: Some package manager settings are ignored during the build.

These settings would install the app's dependencies outside the slug, or
not into the app's Python, so the build runs without them:
{listed}
The buildpack decides where the dependencies go. Config vars still apply
when the app runs; unset these if they were set by mistake."""


def protected_config_vars_warning(names: Sequence[str]) -> str:
    return f"""\
Warning: Some config vars aren't used at build time.

These config vars would break the build's own tools and paths, so the
buildpack doesn't pass them to build hooks and collectstatic:
    {', '.join(names)}
They still apply when the app runs. Remove them if they were set by mistake."""


def collectstatic_failed(command: str) -> BuildError:
    return BuildError(
        "collectstatic::failed",
        "Unable to generate Django static files.",
        f"""\
'{command}' failed; Django's output and traceback above say why.

Common causes:
- the settings module can't be imported at build time (a setting read from
  an environment variable or a database that isn't there during the build);
- STATIC_ROOT isn't set, or a file that a stylesheet references is missing.

Fix the app, or turn collectstatic off with the config var
DISABLE_COLLECTSTATIC=1 (heroku config:set / dokku config:set).
DEBUG_COLLECTSTATIC=1 lists the names of the environment variables it ran
with (never their values) when it fails.""",
    )


def collectstatic_disabled_file_warning(path: str) -> str:
    return f"""\
Warning: The {path} file is deprecated.

The app turns Django's collectstatic off with this file. That still works,
but a future release of the buildpack will ignore the file. Set the config
var DISABLE_COLLECTSTATIC=1 instead, then delete the file:
    heroku config:set DISABLE_COLLECTSTATIC=1
    (dokku: dokku config:set <app> DISABLE_COLLECTSTATIC=1)
    git rm {path}
    git commit -m "Turn collectstatic off with DISABLE_COLLECTSTATIC"
"""


def procfile_needed_notice(hints: Sequence[str] = ()) -> str:
    found = "".join(f"\n{hint}\n" for hint in hints)
    return f"""\
Note: The app has no Procfile, so it has no web process.
{found}
Add a file named 'Procfile' to the app's root directory saying how to start
it, for example:
    web: gunicorn myproject.wsgi

Without a Procfile, the buildpack offers a web process only for:
- a Django project with a wsgi.py, and gunicorn installed;
- a FastAPI or Starlette app object in main.py or app.py, and uvicorn installed;
- a Flask app object (or create_app() factory) in main.py or app.py, and
  gunicorn installed."""


def web_server_missing_hint(file: str, app: str, missing: Sequence[str]) -> str:
    packages = " and ".join(missing)
    return (f"{file} has {app}, but {packages} {'is' if len(missing) == 1 else 'are'} not installed:\n"
            f"add {'it' if len(missing) == 1 else 'them'} to the app's dependencies to have it served.")


def several_apps_hint(file: str, names: Sequence[str]) -> str:
    listed = ", ".join(f"'{name}'" for name in names)
    return (f"{file} has several app objects ({listed}), none named 'app':\n"
            "name the one to serve 'app', or say which in the Procfile.")


def app_dir_server_hint(command: str, relative: str) -> str:
    return (f"'{command}' would serve the app in {relative}/, but it can't be told to start there:\n"
            "add a Procfile whose web command starts it from the repository's root.")


def app_python_missing() -> BuildError:
    return BuildError(
        "app-tests::python-missing",
        "The app's Python isn't on PATH.",
        "bin/test runs in the built app with its .profile.d scripts sourced; run "
        "bin/test-compile first, and source .profile.d/*.sh before bin/test.",
    )


def no_test_runner() -> BuildError:
    return BuildError(
        "app-tests::no-test-runner",
        "No test runner found.",
        """\
bin/test runs pytest when the app installs it, or Django's test runner for an
app with a manage.py, and found neither. Add pytest to the app's test
dependencies (requirements-test.txt, a dev group, or [dev-packages]), or set
the test command in app.json (scripts.test).""",
    )


def nltk_download_failed(names: Sequence[str]) -> BuildError:
    return BuildError(
        "nltk::download-failed",
        "Unable to download NLTK data.",
        f"""\
Downloading the NLTK packages listed in nltk.txt failed ({', '.join(names)});
NLTK's output above names the package and the cause.

Check each name against the NLTK data index (https://www.nltk.org/nltk_data/),
one or more names a line, and fix nltk.txt. A temporary network problem is
fixed by retrying the build; NLTK_DOWNLOAD_URL points NLTK at a mirror.""",
        detail=",".join(names),
    )


def export_not_writable_warning(path: str, problem: str) -> str:
    return f"""\
Warning: Unable to write the buildpack's export file.

{path}: {problem}
Buildpacks that run after this one won't find the app's Python on PATH.
Make the buildpack's directory writable by the build user."""


def app_symlink_warning(problem: str) -> str:
    return f"""\
Warning: Unable to link /app/.heroku/python to the build.

{problem}
Python is installed and used from the build directory instead, and the
paths in installed scripts are rewritten to /app/.heroku/python for run
time. Later buildpacks should use the export file to find Python."""


def cache_save_warning(problem: str) -> str:
    return f"""\
Warning: Unable to save the build cache.

{problem}
The app was built; the next build starts without a cache."""


def cache_no_space_warning(cache_dir: str) -> str:
    return f"""\
Warning: Unable to save the build cache: no space left on device.

The file system of the build cache ({cache_dir}) is full. The app was
built; the next build starts without a cache. Clearing the app's build
cache (heroku builds:cache:purge, dokku repo:purge-cache) or freeing space
on the builder's disk fixes it."""


def sbom_not_written_warning(path: str, problem: str) -> str:
    return f"""\
Warning: Unable to write the software bill of materials ({path}).

{problem}
The app was built and works as usual; its slug has no SBOM. If the disk
is full, freeing space fixes it; if a post_compile hook or an earlier
buildpack made something at {path}, remove it."""


def cache_busy_warning(seconds: float, saving: bool) -> str:
    outcome = (
        "This build's cache isn't saved; the next build uses the other build's."
        if saving else "This build doesn't use the cache: Python is installed afresh."
    )
    return f"""\
Warning: Another build of this app is using the build cache.

It held the cache's lock for more than {seconds:.0f} seconds (two builds of
one app were started at once, or the other build hangs). {outcome}"""
