"""Runtime archives made from this machine's CPython builds, and a runtime
mirror serving them on 127.0.0.1 (no real runtime archive can be fetched
here)."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from stack_env import REPO, make_rootfs

CACHE_ROOT = Path(os.environ.get("STACK_ROOTFS_CACHE", "/var/tmp/python-buildpack-stack"))
# The majors the suite builds apps with: each is packaged from this
# machine's newest pyenv CPython build of that major, except the default
# major, 3.14, which pyenv here lacks: builds/build_cpython_from_debian.py
# builds it once per machine from the source tarball in Debian's archive.
# Where that can't be downloaded, builds/cpython_from_debian_binaries.py
# assembles it from Debian forky's binary packages instead, which need
# forky's glibc (2.42): for the stacks in DEBIAN_BINARY_STACKS only.
PYENV_MAJORS = ("3.11", "3.12", "3.13")
BUILT_MAJORS = ("3.14",)
RUNTIME_MAJORS = PYENV_MAJORS + BUILT_MAJORS
DEBIAN_BINARY_STACKS = {"heroku-26": "forky"}
# The tools whose output the archives are; changing one repackages them.
TOOLS = ("package_runtime.py", "build_cpython_from_debian.py", "cpython_from_debian_binaries.py")


class MissingPrerequisite(Exception):
    """Something the machine lacks, with what to install."""


@dataclass(frozen=True)
class RuntimeArchives:
    directory: Path
    versions: dict[str, str]  # major -> exact version
    # Archives built like Heroku's (no rpath: LD_LIBRARY_PATH is needed).
    heroku_style: Path
    # major -> why there is no archive of it (a build that can't be made here)
    unavailable: dict[str, str] = field(default_factory=dict)


def pyenv_builds(majors: tuple[str, ...] = PYENV_MAJORS) -> dict[str, Path]:
    """The newest pyenv CPython build of each of `majors`, each with its libpython."""
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        raise MissingPrerequisite(
            f"pyenv isn't installed: the tests need its CPython builds of {', '.join(majors)} "
            "(https://github.com/pyenv/pyenv; PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install <major>)")
    found: dict[str, tuple[tuple[int, ...], Path]] = {}
    for prefix in Path(root, "versions").glob("*"):
        if not re.fullmatch(r"\d+\.\d+\.\d+", prefix.name):
            continue
        major = prefix.name.rsplit(".", 1)[0]
        key = tuple(int(p) for p in prefix.name.split("."))
        if major in majors and (major not in found or key > found[major][0]):
            found[major] = (key, prefix)
    missing = [m for m in majors if m not in found]
    if missing:
        raise MissingPrerequisite(
            f"no pyenv CPython build of {', '.join(missing)} in {root}/versions: install "
            f"{'it' if len(missing) == 1 else 'them'} with "
            f"PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install {' '.join(missing)}")
    # package_runtime.py relocates a shared build (the interpreter finds
    # libpython through its rpath); a static one can't be packaged.
    static = [str(p) for _key, p in found.values() if not list((p / "lib").glob("libpython3*.so*"))]
    if static:
        raise MissingPrerequisite(
            f"these pyenv builds have no shared libpython: {', '.join(static)}; rebuild them with "
            "PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install --force <version>")
    return {major: prefix for major, (_key, prefix) in found.items()}


def built_cpython(major: str) -> Path:
    """The prefix of CPython `major` built from Debian's source (slow the first time)."""
    return _run_build_tool("build_cpython_from_debian.py", ["--major", major], f"CPython {major} couldn't be built")


def debian_binary_cpython(major: str, stack_name: str) -> tuple[Path, Path | None]:
    """CPython `major` assembled from Debian's binary packages for `stack_name`,
    and the rootfs its interpreter runs in (its checks run there)."""
    rootfs = make_rootfs(stack=stack_name)
    args = ["--major", major, "--suite", DEBIAN_BINARY_STACKS[stack_name]]
    args += ["--rootfs", str(rootfs)] if rootfs else []
    prefix = _run_build_tool("cpython_from_debian_binaries.py", args,
                             f"CPython {major} couldn't be assembled from Debian's binary packages either")
    return prefix, rootfs


def _run_build_tool(name: str, args: list[str], failure: str) -> Path:
    """Runs builds/NAME, which prints a prefix. Its progress lines pass
    through (the first time takes minutes); its error is kept for the message."""
    process = subprocess.Popen(["/usr/bin/python3", "-I", str(REPO / "builds" / name), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    errors = []
    for line in process.stderr:
        sys.stderr.write(line)
        if re.match(r"[a-z_]+: error:", line):
            errors.append(line.split("error:", 1)[1].strip())
    output = process.stdout.read() if process.stdout else ""
    if process.wait() != 0:
        raise MissingPrerequisite(f"{failure}: {' '.join(errors) or 'see its output'}")
    return Path(output.strip().splitlines()[-1])


def python_version(prefix: Path) -> str:
    """From its headers: Debian's binaries don't run on this host."""
    patchlevel = next(prefix.glob("include/python3.*/patchlevel.h")).read_text()
    return re.search(r'^#define PY_VERSION\s+"([^"]+)"', patchlevel, re.M).group(1)


def package_archives(stack_name: str) -> RuntimeArchives:
    """Archives for RUNTIME_MAJORS, in a machine-level cache.

    Made once per machine (and tool change) with builds/package_runtime.py,
    under a lock, as pytest-xdist workers may ask at the same time. A
    major whose build can't be made here is left out, with the reason.
    """
    tool = REPO / "builds" / "package_runtime.py"
    key = hashlib.sha256(b"".join((REPO / "builds" / name).read_bytes() for name in TOOLS)).hexdigest()[:12]
    directory = CACHE_ROOT / f"runtimes-{stack_name}-{key}"
    directory.mkdir(parents=True, exist_ok=True)
    heroku_style = CACHE_ROOT / f"runtimes-{stack_name}-{key}-heroku-style"
    builds = pyenv_builds()
    unavailable: dict[str, str] = {}
    # major -> package_runtime.py options for it (the rootfs its checks run in)
    options_of: dict[str, list[str]] = {}
    with open(CACHE_ROOT / ".runtimes.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for major in BUILT_MAJORS:
            try:
                builds[major] = built_cpython(major)
                continue
            except MissingPrerequisite as error:
                reason = str(error)
            if stack_name not in DEBIAN_BINARY_STACKS:
                unavailable[major] = (
                    f"{reason}; the fallback, Debian's binary python{major} packages, needs glibc 2.42"
                    f" ({', '.join(DEBIAN_BINARY_STACKS)} only): no {major} runtime for {stack_name}'s"
                    " glibc (2.36 in its bookworm stand-in) can be made here")
                continue
            print(f"runtimes: {reason}; falling back to Debian's binary packages for {stack_name}",
                  file=sys.stderr, flush=True)
            try:
                builds[major], rootfs = debian_binary_cpython(major, stack_name)
                options_of[major] = ["--check-in-rootfs", str(rootfs)] if rootfs else []
            except (MissingPrerequisite, RuntimeError) as error:
                unavailable[major] = f"{reason}; {error}"
        versions = {major: python_version(prefix) for major, prefix in builds.items()}
        wanted = [(prefix, versions[major], directory, options_of.get(major, [])) for major, prefix in builds.items()]
        wanted.append((builds["3.12"], versions["3.12"], heroku_style, ["--no-rpath"]))
        for prefix, version, target, options in wanted:
            if not list(target.glob(f"python-{version}-*.tar.zst")):
                started = time.monotonic()
                print(f"runtimes: packaging Python {version} for {stack_name} from {prefix} "
                      f"into {target} (about 10 seconds)", file=sys.stderr, flush=True)
                subprocess.run(
                    ["/usr/bin/python3", "-I", str(tool), str(prefix), str(target), "--stack", stack_name,
                     "--level", "3", *options],
                    check=True, capture_output=True,
                )
                print(f"runtimes: Python {version} packaged in {time.monotonic() - started:.0f}s",
                      file=sys.stderr, flush=True)
    return RuntimeArchives(directory, versions, heroku_style, unavailable)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class MirrorServer:
    """Serves runtime mirrors made from `archives` under `root`:

    /mirror        the archives and their SHA256SUMS
    /no-manifest   the archives only, like Heroku's bucket
    /bad-checksum  the archives with a SHA256SUMS whose checksums are wrong
    /heroku-style  an archive built like Heroku's, with its SHA256SUMS
    /simple        a private package index (PEP 503) holding one package,
                   buildpack-private-pkg 1.0, which PyPI doesn't have
    /nltk          an NLTK data index holding one corpus, tiny_corpus
    """

    def __init__(self, archives: RuntimeArchives, root: Path):
        source = archives.directory
        for kind, directory in (("mirror", source), ("no-manifest", source), ("bad-checksum", source),
                                ("heroku-style", archives.heroku_style)):
            (root / kind).mkdir(parents=True)
            for archive in directory.glob("*.tar.zst"):
                (root / kind / archive.name).symlink_to(archive)
        manifest = (source / "SHA256SUMS").read_text()
        (root / "mirror" / "SHA256SUMS").write_text(manifest)
        shutil.copy(archives.heroku_style / "SHA256SUMS", root / "heroku-style" / "SHA256SUMS")
        (root / "bad-checksum" / "SHA256SUMS").write_text(
            re.sub(r"^[0-9a-f]{64}", "0" * 64, manifest, flags=re.M)
        )
        _write_private_index(root / "simple")
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        _write_nltk_index(root / "nltk", self.url("nltk"))

    def url(self, kind: str = "mirror") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{kind}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


PRIVATE_PACKAGE = "buildpack-private-pkg"


def _write_private_index(index: Path) -> None:
    """A one-package index, its wheel made by hand (no build tools needed)."""
    name, module, version = PRIVATE_PACKAGE, "buildpack_private_pkg", "1.0"
    wheel_name = f"{module}-{version}-py3-none-any.whl"
    files = {
        f"{module}/__init__.py": "GREETING = 'hello from the private index'\n",
        f"{module}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{module}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},,\n" for path in files) + f"{module}-{version}.dist-info/RECORD,,\n"
    files[f"{module}-{version}.dist-info/RECORD"] = record
    project = index / name
    project.mkdir(parents=True)
    with zipfile.ZipFile(project / wheel_name, "w") as wheel:
        for path, content in files.items():
            wheel.writestr(path, content)
    (project / "index.html").write_text(f'<html><body><a href="{wheel_name}">{wheel_name}</a></body></html>\n')
    (index / "index.html").write_text(f'<html><body><a href="{name}/">{name}</a></body></html>\n')


def _write_nltk_index(index: Path, url: str) -> None:
    """An NLTK data index (index.xml) with one small corpus."""
    corpora = index / "packages" / "corpora"
    corpora.mkdir(parents=True)
    archive = corpora / "tiny_corpus.zip"
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("tiny_corpus/README", "A tiny corpus for the buildpack's tests.\n")
        package.writestr("tiny_corpus/words.txt", "buildpack\nheroku\n")
    data = archive.read_bytes()
    (index / "index.xml").write_text(f"""<?xml version="1.0"?>
<nltk_data>
  <packages>
    <package id="tiny_corpus" name="Tiny corpus" subdir="corpora" unzip="1"
      url="{url}/packages/corpora/tiny_corpus.zip" size="{len(data)}" unzipped_size="50"
      checksum="{hashlib.md5(data).hexdigest()}" />
  </packages>
  <collections />
</nltk_data>
""")
