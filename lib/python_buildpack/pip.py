"""pip: installing the pinned pip, and the app's requirements.txt with it."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Optional

from . import app_files, bundled_pip, errors, output
from .commands import run_streamed
from .package_manager import Dependencies, InstallContext, PackageManager
from .tool_layer import ToolLayer

TEST_REQUIREMENTS = "requirements-test.txt"


class Pip(PackageManager):
    name = "pip"
    label = "pip"
    file_name = "requirements.txt"
    test_files = (TEST_REQUIREMENTS,)

    def dependencies(self, build_dir: Path) -> Dependencies:
        return inspect_requirements(build_dir)

    def install_tool(self, context: InstallContext) -> None:
        # pip goes into the app's Python: apps and one-off commands run it.
        layer = ToolLayer(self.name, self.label, self.version, context.location.install_dir, owns_directory=False)
        layer.ensure(lambda: bundled_pip.install(context, [f"pip=={self.version}"]).ok)

    def install_dependencies(self, context: InstallContext) -> None:
        files = [self.file_name]
        if context.install_test and (context.build_dir / TEST_REQUIREMENTS).is_file():
            inspect_requirements(context.build_dir, TEST_REQUIREMENTS)  # its checks only
            files.append(TEST_REQUIREMENTS)
        requirement_args = [arg for name in files for arg in ("-r", name)]
        shown = f"pip install {' '.join(requirement_args)}"
        output.step(f"Installing dependencies using '{shown}'")
        location = context.location
        args = [
            str(location.python), "-m", "pip", "install", *requirement_args,
            # --exists-action: a cached VCS checkout with another URL makes pip ask
            # "What to do? (s)witch, (i)gnore, (w)ipe, (b)ackup", which --no-input fails.
            # --root-user-action: a build run as root gets pip's "Running pip as the 'root'
            # user" warning outside a venv; this is its opt-out (pypa/pip#10556).
            "--no-input", "--progress-bar=off", "--exists-action=w", "--root-user-action=ignore",
            # VCS editables: pip's default outside a venv is "<current dir>/src" (pip
            # --src help), among the app's files and uncached; this is cached with Python.
            f"--src={location.home / 'src'}", *bundled_pip.cache_args(context.pip_cache_dir),
        ]
        # pip names the site-packages each package is already in: noise in the build log.
        site_packages_note = re.compile(
            r" in (/app|\.|" + re.escape(str(context.build_dir)) + r")/\.heroku/python/lib/python[0-9.]+/site-packages")
        result = run_streamed(
            args,
            {**context.env, **context.pip_settings},
            cwd=context.build_dir,
            line_filter=lambda line: site_packages_note.sub("", line),
        )
        if not result.ok:
            raise self.install_failed(result, shown)


_URL_OR_PATH = re.compile(r"(://|^file:|^[./~]|\.whl$|\.tar\.gz$|\.zip$|\s@\s|^[^\s;]+@)")


def inspect_requirements(build_dir: Path, file_name: str = "requirements.txt") -> Dependencies:
    """requirements.txt and the files it includes (-r, -c), and whether it
    names things pip can't see from the files alone (local paths, editables,
    URLs). Fails on what pip would choke on: bytes that aren't text, an
    included file that isn't one."""
    digest = hashlib.sha256()
    reasons: list[str] = []
    _inspect_file(build_dir / file_name, build_dir, digest, reasons, set())
    return Dependencies(digest.hexdigest(), reasons[0] if reasons else None)


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
    path: Path, build_dir: Path, digest, reasons: list[str], seen: set[Path], included_by: Optional[str] = None,
    written: str = "",
) -> None:
    """`included_by`: the file whose -r/-c line names this one as `written`."""
    name = os.path.relpath(path, build_dir)
    try:
        content = app_files.read_bytes(path)
    except app_files.NotUsable as problem:
        raise errors.requirements_include_unusable(
            written or name, included_by or "requirements.txt", str(problem)) from None
    except OSError as error:
        if included_by is None:
            raise errors.file_unreadable(name, error.strerror or str(error)) from None
        reasons.append(f"{name} can't be read")  # pip's own error says why
        return
    bad = app_files.first_bad_byte_as_pip_reads(content)
    if bad is not None:
        raise errors.file_not_utf8(name, bad.offset, bad.line, included_by)
    digest.update(f"{name}\0{len(content)}\0".encode())
    digest.update(content)
    seen.add(path.resolve())
    for line in _logical_lines(app_files.decoded(content)):
        tokens = _first_words(line)
        if not tokens:
            continue
        option = tokens[0].split("=", 1)[0]
        if option in ("-r", "--requirement", "-c", "--constraint") or re.match(r"^-[rc]\S", tokens[0]):
            included = _option_value(tokens, 0)
            if included is None or "://" in included:
                reasons.append(f"{name} includes a file by URL")
                continue
            target = (path.parent / included)
            if target.resolve() not in seen:
                _inspect_file(target, build_dir, digest, reasons, seen, name, included)
        elif option in ("-e", "--editable") or re.match(r"^-e\S", tokens[0]):
            reasons.append(f"{name} has an editable requirement")
        elif option in ("-f", "--find-links") or re.match(r"^-f\S", tokens[0]):
            value = _option_value(tokens, 0) or ""
            if "://" not in value:
                reasons.append(f"{name} finds packages in a local directory")
        elif tokens[0].startswith("-"):
            continue
        elif _URL_OR_PATH.search(line):
            reasons.append(f"{name} has a requirement given by path or URL")
