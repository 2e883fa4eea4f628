"""pip: installing the pinned pip, and the app's requirements.txt with it."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
from pathlib import Path
from typing import Mapping, Optional

from . import bundled_pip, errors, install_hints, output
from .commands import run_streamed
from .package_manager import Dependencies, InstallContext, PackageManager, installed_version
from .runtime_env import PythonLocation


class Pip(PackageManager):
    name = "pip"
    label = "pip"
    file_name = "requirements.txt"

    def dependencies(self, build_dir: Path) -> Dependencies:
        return inspect_requirements(build_dir)

    def install_tool(self, context: InstallContext) -> None:
        install_pip(context.location, self.version, context.env,
                    bundled_pip.pip_settings(context.config), context.cache.pip_dir)

    def install_dependencies(self, context: InstallContext) -> None:
        install_dependencies(context.location, context.build_dir, context.env,
                             bundled_pip.pip_settings(context.config), context.cache.pip_dir,
                             with_tests=context.install_test)


def install_pip(
    location: PythonLocation,
    version: str,
    env: Mapping[str, str],
    settings: Mapping[str, str],
    pip_cache_dir: Optional[Path],
) -> None:
    if installed_version(location.install_dir, "pip") == version:
        output.step(f"Using cached pip {version}")
        return
    output.step(f"Installing pip {version}")
    result = bundled_pip.install(location.python, location, [f"pip=={version}"], env, settings, pip_cache_dir)
    if not result.ok:
        raise errors.tool_install_failed("pip", version)


def install_dependencies(
    location: PythonLocation,
    build_dir: Path,
    env: Mapping[str, str],
    settings: Mapping[str, str],
    pip_cache_dir: Optional[Path],
    with_tests: bool = False,
) -> None:
    files = ["requirements.txt"]
    if with_tests and (build_dir / "requirements-test.txt").is_file():
        files.append("requirements-test.txt")
    requirement_args = [arg for name in files for arg in ("-r", name)]
    shown = f"pip install {' '.join(requirement_args)}"
    output.step(f"Installing dependencies using '{shown}'")
    args = [
        str(location.python), "-m", "pip", "install", *requirement_args,
        "--no-input", "--progress-bar=off", "--exists-action=w", "--root-user-action=ignore",
        f"--src={location.home / 'src'}", *bundled_pip.cache_args(pip_cache_dir),
    ]
    site_packages_note = re.compile(r" in (/app|\.|" + re.escape(str(build_dir)) + r")/\.heroku/python/lib/python[0-9.]+/site-packages")
    result = run_streamed(
        args,
        {**env, **settings},
        cwd=build_dir,
        line_filter=lambda line: site_packages_note.sub("", line),
    )
    if not result.ok:
        raise install_hints.install_error(result.output, "pip", shown)


_URL_OR_PATH = re.compile(r"(://|^file:|^[./~]|\.whl$|\.tar\.gz$|\.zip$|\s@\s|^[^\s;]+@)")


def inspect_requirements(build_dir: Path) -> Dependencies:
    """requirements.txt and the files it includes (-r, -c), and whether it
    names things pip can't see from the files alone (local paths, editables,
    URLs)."""
    digest = hashlib.sha256()
    reasons: list[str] = []
    _inspect_file(build_dir / "requirements.txt", build_dir, digest, reasons, set())
    return Dependencies(digest.hexdigest(), reasons[0] if reasons else None)


def _logical_lines(text: str) -> list[str]:
    joined = re.sub(r"\\\r?\n", " ", text)
    lines = []
    for line in joined.splitlines():
        line = re.sub(r"(^|\s+)#.*$", "", line).strip()
        if line:
            lines.append(line)
    return lines


def _option_value(tokens: list[str], index: int) -> Optional[str]:
    token = tokens[index]
    if "=" in token and token.startswith("--"):
        return token.split("=", 1)[1]
    if token.startswith("-") and not token.startswith("--") and len(token) > 2:
        return token[2:]
    return tokens[index + 1] if index + 1 < len(tokens) else None


def _inspect_file(path: Path, build_dir: Path, digest, reasons: list[str], seen: set[Path]) -> None:
    name = os.path.relpath(path, build_dir)
    try:
        content = path.read_bytes()
    except OSError:
        reasons.append(f"{name} can't be read")
        return
    digest.update(f"{name}\0{len(content)}\0".encode())
    digest.update(content)
    seen.add(path.resolve())
    for line in _logical_lines(content.decode("utf-8", errors="replace")):
        try:
            tokens = shlex.split(line)
        except ValueError:
            tokens = line.split()
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
                _inspect_file(target, build_dir, digest, reasons, seen)
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
