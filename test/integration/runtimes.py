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
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

from stack_env import REPO

CACHE_ROOT = Path(os.environ.get("STACK_ROOTFS_CACHE", "/var/tmp/python-buildpack-stack"))
# The majors the suite builds apps with; each is packaged from this
# machine's newest CPython build of that major (pyenv).
RUNTIME_MAJORS = ("3.11", "3.12", "3.13")


@dataclass(frozen=True)
class RuntimeArchives:
    directory: Path
    versions: dict[str, str]  # major -> exact version
    # Archives built like Heroku's (no rpath: LD_LIBRARY_PATH is needed).
    heroku_style: Path


def pyenv_builds() -> dict[str, Path]:
    """The newest pyenv CPython build of each major in RUNTIME_MAJORS."""
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
    found: dict[str, tuple[tuple[int, ...], Path]] = {}
    for prefix in Path(root, "versions").iterdir():
        if not re.fullmatch(r"\d+\.\d+\.\d+", prefix.name):
            continue
        major = prefix.name.rsplit(".", 1)[0]
        key = tuple(int(p) for p in prefix.name.split("."))
        if major in RUNTIME_MAJORS and (major not in found or key > found[major][0]):
            found[major] = (key, prefix)
    return {major: prefix for major, (_key, prefix) in found.items()}


def package_archives(stack_name: str) -> RuntimeArchives:
    """Archives for RUNTIME_MAJORS, in a machine-level cache.

    Made once per machine (and tool change) with builds/package_runtime.py,
    under a lock, as pytest-xdist workers may ask at the same time.
    """
    tool = REPO / "builds" / "package_runtime.py"
    key = hashlib.sha256(tool.read_bytes()).hexdigest()[:12]
    directory = CACHE_ROOT / f"runtimes-{stack_name}-{key}"
    directory.mkdir(parents=True, exist_ok=True)
    heroku_style = CACHE_ROOT / f"runtimes-{stack_name}-{key}-heroku-style"
    builds = pyenv_builds()
    wanted = [(prefix, directory, []) for prefix in builds.values()]
    wanted.append((builds["3.12"], heroku_style, ["--no-rpath"]))
    with open(CACHE_ROOT / ".runtimes.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for prefix, target, options in wanted:
            if not list(target.glob(f"python-{prefix.name}-*.tar.zst")):
                subprocess.run(
                    [str(tool), str(prefix), str(target), "--stack", stack_name, "--level", "3", *options],
                    check=True, capture_output=True,
                )
    versions = {major: prefix.name for major, prefix in builds.items()}
    return RuntimeArchives(directory, versions, heroku_style)


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
