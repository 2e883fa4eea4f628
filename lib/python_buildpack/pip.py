"""pip apps: requirements.txt, installed with uv (`uv pip install`) by
default, or with pip itself (PYTHON_INSTALLER=pip). Either way pip is
installed into the app's Python, at its pinned version: apps and one-off
commands run it.

uv is several times faster (parallel downloads and installs, a shared
cache). Where it would install something other than pip does, the build
uses pip and says why: uv can't check out an editable requirement from
version control (`-e git+...`) into the slug, as pip's --src does, and
expands ${VAR} only in URLs and paths (pip: anywhere), and has no
equivalent for some of pip's settings (pip_config.py). One --hash line puts
pip in hash-checking mode for every requirement: uv is told so
(--require-hashes).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from . import app_files, bundled_pip, errors, output, pip_config, site_packages, uv
from .build import Build
from .commands import CommandResult, run_streamed
from .package_manager import Dependencies, InstallContext, LockedFile, LockedFiles, PackageManager
from .tool_layer import ToolLayer

REQUIREMENTS = "requirements.txt"
TEST_REQUIREMENTS = "requirements-test.txt"
# The config var that chooses the installer of requirements.txt.
INSTALLER_SETTING = "PYTHON_INSTALLER"
UV, PIP = "uv", "pip"


class Pip(PackageManager):
    name = "pip"
    label = "pip"
    file_name = REQUIREMENTS
    test_files = (TEST_REQUIREMENTS,)
    # uv (the default installer) keeps its binary and downloads in the cache.
    cache_dirs = (uv.TOOL_DIR, uv.DOWNLOAD_CACHE)

    def dependencies(self, build_dir: Path) -> Dependencies:
        return inspect_requirements(build_dir)

    def installer(self, build: Build) -> str:
        return self._chosen(build)[1][0]

    def _chosen(self, build: Build) -> tuple[_Scan, tuple[str, Optional[str]]]:
        """requirements.txt as read, and the installer."""
        return scanned(build, self.file_name), choose_installer(build)

    def prefetch_tool(self, context: InstallContext) -> None:
        if self.installer(context.build) == UV:
            uv.prefetch(context)

    def tool_requirement(self) -> str:
        return f"pip=={self.version}"

    def packages_to_prefetch(self, build: Build) -> list[list[str]]:
        """Nothing: `uv pip install` downloads pip and the dependencies in
        parallel itself. Warming them while the runtime unpacked measured no
        faster (Django's first build, A/B in one run): the runtime unpacks in
        about the time uv's own download takes, and the warm-up's throwaway
        install competes with the unpack for the disk."""
        return []

    def install_tool(self, context: InstallContext) -> None:
        installer, why = self._chosen(context.build)[1]
        if why:
            output.info(why)
        # pip goes into the app's Python: apps and one-off commands run it.
        layer = ToolLayer(self.name, self.label, self.version, context.location.install_dir, owns_directory=False)
        if installer == UV:
            uv.ensure_uv(context)
        kept = site_packages.installed_version(context.location.install_dir, self.name) if context.install_kept else None
        if kept and kept != self.version:
            # The requirements (or a post_compile hook) installed another pip,
            # and the install is kept as that build left it: so is its pip.
            output.step(f"Using cached pip {kept}, as the last build left it")
        elif installer == UV:
            layer.ensure(lambda: uv.pip_install(context, context.location.python, [self.tool_requirement()]).ok)
        else:
            layer.ensure(lambda: bundled_pip.install(context, [self.tool_requirement()]).ok)

    def install_dependencies(self, context: InstallContext) -> None:
        files = [self.file_name]
        if self._installs_tests(context.build):
            scanned(context.build, TEST_REQUIREMENTS)  # its checks
            files.append(TEST_REQUIREMENTS)
        requirement_args = [arg for name in files for arg in ("-r", name)]
        scan, (installer, _why) = self._chosen(context.build)
        shown = f"{'uv pip' if installer == UV else 'pip'} install {' '.join(requirement_args)}"
        output.step(f"Installing dependencies using '{shown}'")
        if installer == UV:
            result = _uv_install(context, requirement_args, hash_checking=scan.hashes)
        else:
            result = _pip_install(context, requirement_args)
        if not result.ok:
            error = self.install_failed(result, shown)
            if installer == UV:
                error = errors.with_uv_installer_hint(error, self.file_name, "pip")
            raise error

    def locked_files(self, build: Build) -> LockedFiles:
        """The --hash options of the requirements installed, by name: pip
        took a file with one of them, not saying which."""
        names = [self.file_name, *([TEST_REQUIREMENTS] if self._installs_tests(build) else [])]
        found: LockedFiles = {}
        for name in names:
            for package, files in scanned(build, name).locked.items():
                found.setdefault(package, []).extend(files)
        return found

    def _installs_tests(self, build: Build) -> bool:
        return build.install_test and (build.app_dir / TEST_REQUIREMENTS).is_file()


def requested_installer(build: Build) -> str:
    """What the app asks to install with (PYTHON_INSTALLER): uv, or pip (for
    Pipenv apps, Pipenv's own install, which runs pip)."""
    value = (build.config.get(INSTALLER_SETTING) or UV).strip().lower()
    if value not in (UV, PIP):
        raise errors.installer_invalid(INSTALLER_SETTING, value)
    return value


def choose_installer(build: Build) -> tuple[str, Optional[str]]:
    """uv or pip, and why pip when the app didn't ask for it."""
    value = requested_installer(build)
    if value == UV:
        scan = scanned(build, REQUIREMENTS)
        if scan.vcs_editables:
            return PIP, (f"Installing with pip: {scan.vcs_editables[0]} has an editable requirement from version "
                         "control, which uv can't check out into the app (pip's --src does).")
        if scan.local_links_in_includes:
            return PIP, (f"Installing with pip: {scan.local_links_in_includes[0]} has a --find-links to a local "
                         "directory, which uv can't read in an included file.")
        if scan.variables:
            return PIP, (f"Installing with pip: {scan.variables[0]} has a ${{VAR}} in a requirement itself, "
                         "which uv expands only in URLs and paths.")
        unmatched = pip_config.only_pip_honours(pip_config.for_build(build))
        if unmatched:
            return PIP, f"Installing with pip: {unmatched}."
    return value, None


def _pip_install(context: InstallContext, requirement_args: list[str]) -> CommandResult:
    location = context.location
    args = [
        str(location.python), "-m", "pip", "install", *requirement_args,
        # --exists-action=w: a cached VCS checkout whose URL changed makes pip ask
        # "What to do? (s)witch, (i)gnore, (w)ipe, (b)ackup", which --no-input turns
        # into a failure; wipe it. --root-user-action=ignore: pip's "Running pip as
        # the 'root' user" warning (pypa/pip#10556) means nothing in a build.
        "--no-input", "--progress-bar=off", "--exists-action=w", "--root-user-action=ignore",
        # VCS editables are checked out into the slug: outside a venv pip's
        # default --src is "<current dir>/src", the build dir.
        f"--src={location.home / 'src'}", *bundled_pip.cache_args(context.pip_cache_dir),
    ]
    # pip names the site-packages each package is already in: noise in the build log.
    root = re.escape(str(context.build.dirs.build))
    site_packages_note = re.compile(rf" in (/app|\.|{root})/\.heroku/python/lib/python[0-9.]+/site-packages")
    return run_streamed(
        args,
        {**context.env, **context.pip_settings},
        cwd=context.build_dir,
        line_filter=lambda line: site_packages_note.sub("", line),
    )


def _uv_install(context: InstallContext, requirement_args: list[str], hash_checking: bool) -> CommandResult:
    """`uv pip install` with pip's index settings as uv's. uv looks for a
    package on the indexes in order, extra indexes first, and takes it from
    the first that has it ("first-index"): unlike pip, a package on a private
    extra index can't be replaced by a newer one of the same name on PyPI
    (dependency confusion). UV_INDEX_STRATEGY=unsafe-best-match chooses
    across all of them, as pip does."""
    # pip checks every requirement's hash once one line has a --hash; uv
    # only where it is asked to, unless told so.
    hashes = ["--require-hashes"] if hash_checking else []
    return uv.install_requirements(context, [*requirement_args, *hashes], uv.install_environment(context))


# An environment variable as pip expands it in requirement files.
_VARIABLE = re.compile(r"\$\{[A-Z0-9_]+\}")
# A requirement checked out from version control (pip's VCS URL schemes).
_VCS_URL = re.compile(r"^(git|hg|svn|bzr)\+", re.IGNORECASE)
_URL_OR_PATH = re.compile(r"(://|^file:|^[./~]|\.whl$|\.tar\.gz$|\.zip$|\s@\s|^[^\s;]+@)")


@dataclass
class _Scan:
    """What reading the requirement files found."""

    digest: Any = field(default_factory=hashlib.sha256)
    # Why the install must run even when the files are unchanged.
    reasons: list[str] = field(default_factory=list)
    seen: set[Path] = field(default_factory=set)
    # The files with an editable requirement from version control.
    vcs_editables: list[str] = field(default_factory=list)
    # The files that use ${VAR} in a requirement itself (not in a URL or path).
    variables: list[str] = field(default_factory=list)
    # Whether any line has a --hash (pip's hash-checking mode for all).
    hashes: bool = False
    # Included files (-r) with a --find-links to a local directory.
    local_links_in_includes: list[str] = field(default_factory=list)
    # The requirements' --hash options, by name (for the SBOM).
    locked: LockedFiles = field(default_factory=dict)


def inspect_requirements(build_dir: Path, file_name: str = REQUIREMENTS) -> Dependencies:
    """requirements.txt and the files it includes (-r, -c), and whether it
    names things pip can't see from the files alone (local paths, editables,
    URLs). Fails on what pip would choke on: bytes that aren't text, an
    included file that isn't one."""
    scan = _scan(build_dir, file_name)
    return Dependencies(scan.digest.hexdigest(), scan.reasons[0] if scan.reasons else None)


def scanned(build: Build, file_name: str) -> _Scan:
    """A requirements file of the app as read: once a build."""
    return build.once(_scan_of_build, file_name)


def _scan_of_build(build: Build, file_name: str) -> _Scan:
    return _scan(build.app_dir, file_name)


def _scan(build_dir: Path, file_name: str = REQUIREMENTS) -> _Scan:
    scan = _Scan()
    _inspect_file(build_dir / file_name, build_dir, scan)
    return scan


# pip's comments: from a '#' at the start of a line or after whitespace.
_COMMENT = re.compile(r"(?:^|\s)#")


def _logical_lines(text: str) -> list[str]:
    """The lines pip reads: continuations joined, comments and blank lines
    dropped. Linear in the text's length, whatever it holds (a pattern that
    backtracks took minutes on one long line)."""
    joined = re.sub(r"\\\r?\n", " ", text)
    lines = []
    for line in joined.splitlines():
        comment = _COMMENT.search(line)
        line = (line[:comment.start()] if comment else line).strip()
        if line:
            lines.append(line)
    return lines


# A shell word (as shlex.split reads one): unquoted characters, backslash
# escapes and quoted strings. Each alternative starts with a different
# character, so matching is linear (shlex.split itself is quadratic in a
# word's length, minutes for a 1 MB line: Lib/shlex.py's read_token grows
# the word with `self.token += nextchar`, a copy per character).
_WORD = re.compile(r"""(?:[^\s"'\\]|\\.|"(?:[^"\\]|\\.)*"|'[^']*')+""")
_QUOTED = re.compile(r"""\\(.)|"((?:[^"\\]|\\.)*)"|'([^']*)'""")


def _first_words(line: str, count: int = 2) -> list[str]:
    """The line's first words (an option and its value) as shlex.split
    gives them; with an unbalanced quote (shlex's error), split at whitespace."""
    if _WORD.sub("", line).strip():
        return line.split()[:count]
    return [_QUOTED.sub(_unquoted, match.group()) for match, _ in zip(_WORD.finditer(line), range(count))]


def _unquoted(match: re.Match) -> str:
    escaped, double, single = match.groups()
    if escaped is not None:
        return escaped
    if double is not None:
        return re.sub(r'\\([\\"])', r"\1", double)
    return single


def _option_value(tokens: list[str], index: int) -> Optional[str]:
    token = tokens[index]
    if "=" in token and token.startswith("--"):
        return token.split("=", 1)[1]
    if token.startswith("-") and not token.startswith("--") and len(token) > 2:
        return token[2:]
    return tokens[index + 1] if index + 1 < len(tokens) else None


def _inspect_file(
    path: Path, build_dir: Path, scan: _Scan, included_by: Optional[str] = None, written: str = "",
) -> None:
    """`included_by`: the file whose -r/-c line names this one as `written`."""
    name = os.path.relpath(path, build_dir)
    try:
        content = app_files.read_bytes(path)
    except app_files.NotUsable as problem:
        raise errors.requirements_include_unusable(
            written or name, included_by or REQUIREMENTS, str(problem)) from None
    except OSError as error:
        if included_by is None:
            raise errors.file_unreadable(name, error.strerror or str(error)) from None
        scan.reasons.append(f"{name} can't be read")  # pip's own error says why
        return
    bad = app_files.first_bad_byte_as_pip_reads(content)
    if bad is not None:
        raise errors.file_not_utf8(name, bad.offset, bad.line, included_by)
    scan.digest.update(f"{name}\0{len(content)}\0".encode())
    scan.digest.update(content)
    scan.seen.add(path.resolve())
    for line in _logical_lines(app_files.decoded(content)):
        tokens = _first_words(line)
        if not tokens:
            continue
        scan.hashes = scan.hashes or "--hash" in line
        if not tokens[0].startswith("-") and any(
                "://" not in word and not word.startswith((".", "/", "~"))
                for word in line.split() if _VARIABLE.search(word)):
            scan.variables.append(name)
        option = tokens[0].split("=", 1)[0]
        if option in ("-r", "--requirement", "-c", "--constraint") or re.match(r"^-[rc]\S", tokens[0]):
            included = _option_value(tokens, 0)
            if included is None or "://" in included:
                scan.reasons.append(f"{name} includes a file by URL")
                continue
            target = (path.parent / included)
            if target.resolve() not in scan.seen:
                _inspect_file(target, build_dir, scan, name, included)
        elif option in ("-e", "--editable") or re.match(r"^-e\S", tokens[0]):
            scan.reasons.append(f"{name} has an editable requirement")
            if _VCS_URL.match(_option_value(tokens, 0) or ""):
                scan.vcs_editables.append(name)
        elif option in ("-f", "--find-links") or re.match(r"^-f\S", tokens[0]):
            value = _option_value(tokens, 0) or ""
            if "://" not in value:
                scan.reasons.append(f"{name} finds packages in a local directory")
                if included_by is not None:
                    scan.local_links_in_includes.append(name)
        elif tokens[0].startswith("-"):
            continue
        else:
            _note_hashes(line, scan.locked)
            if _URL_OR_PATH.search(line):
                scan.reasons.append(f"{name} has a requirement given by path or URL")


# A requirement's name, extras and `==` pin; its --hash options (pip's
# `--hash=sha256:<hex>`, or with a space).
_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\]\s*)?(?:===?\s*([^\s;,\\]+))?")
_HASH_OPTION = re.compile(r"--hash[=\s]\s*([A-Za-z0-9]+:[0-9A-Fa-f]+)")


def _note_hashes(line: str, locked: LockedFiles) -> None:
    """A requirement line's --hash options, under its name (and its pinned
    version, if it has one)."""
    hashes = _HASH_OPTION.findall(line)
    requirement = _PINNED.match(line)
    if hashes and requirement:
        name, version = requirement.groups()
        locked.setdefault(site_packages.normalized_name(name), []).extend(LockedFile(each, version) for each in hashes)
