#!/usr/bin/env python3
"""Package an installed CPython as a runtime archive for a mirror.

    builds/package_runtime.py PREFIX MIRROR_DIR --stack heroku-24 [--arch amd64]

PREFIX is a CPython installed with --enable-shared (for example a pyenv
version). The tool copies it, leaves out what doesn't belong in a runtime
(site-packages contents such as pip or a machine's .pth files, test suites,
IDLE, scripts whose #! lines name PREFIX, static libraries), strips the
binaries, makes the interpreter find libpython relative to itself
(patchelf, rpath $ORIGIN/../lib; or, with --no-rpath, like Heroku's own
archives, through LD_LIBRARY_PATH only), checks the result runs from another
directory, and writes MIRROR_DIR/python-X.Y.Z-ubuntu-NN.04-ARCH.tar.zst.
With --check-in-rootfs ROOTFS, the interpreter runs (for its version and
those checks) chrooted in ROOTFS, not here: for binaries that need a newer
glibc than this machine's (Debian forky's python3.14 for heroku-26).
It then adds the archive's sha256 to MIRROR_DIR/SHA256SUMS, the manifest the
buildpack reads (see README: "Runtime mirrors").

Needs: patchelf, strip (binutils), zstd, tar.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from python_buildpack.runtime_mirror import (  # noqa: E402
    MANIFEST_NAME,
    archive_name,
    format_manifest,
    parse_manifest,
)
from python_buildpack.stack import SUPPORTED_STACKS, Stack  # noqa: E402

# Optional stdlib modules a runtime must have: apps rely on them.
REQUIRED_MODULES = (
    "_uuid", "bz2", "ctypes", "curses", "decimal", "lzma", "readline",
    "sqlite3", "ssl", "xml.parsers.expat", "zlib",
)
# Required from the given version on (like the classic buildpack's checks).
REQUIRED_SINCE = {"compression.zstd": (3, 14)}
# Also expected, but only reported when missing (local builds often lack gdbm).
EXPECTED_MODULES = ("dbm.gnu", "dbm.ndbm")
LEFT_OUT_DIRS = {"test", "tests", "idle_test", "idlelib", "__phello__"}


class PackagingError(Exception):
    pass


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=True, **kwargs)


def in_rootfs(rootfs: Path, directory: Path, args: list[str], env: dict[str, str]) -> list[str]:
    """`args` chrooted in `rootfs`, with `directory` at /tmp/runtime (a
    mount namespace of its own: /proc, /dev, a tmpfs /tmp)."""
    mounts = ('set -e; r=$1; d=$2; shift 2; mount -t proc proc "$r/proc"; mount --rbind /dev "$r/dev";'
              ' mount -t tmpfs tmpfs "$r/tmp"; mkdir "$r/tmp/runtime"; mount --bind "$d" "$r/tmp/runtime";'
              ' exec chroot "$r" "$@"')
    return ["unshare", "--mount", "--fork", "--propagation", "private", "bash", "-c", mounts, "in_rootfs",
            str(rootfs), str(directory), "/usr/bin/env", "-i", "PATH=/usr/bin:/bin",
            *(f"{k}={v}" for k, v in env.items()), *args]


def python_version(prefix: Path, rootfs: Optional[Path] = None) -> str:
    if rootfs is not None:
        args = ["/tmp/runtime/bin/python3", "-I", "-S", "-c", "import platform; print(platform.python_version())"]
        return run(in_rootfs(rootfs, prefix, args, {}), capture_output=True, text=True).stdout.strip()
    env = {**os.environ, "LD_LIBRARY_PATH": str(prefix / "lib")}
    env = {k: v for k, v in env.items() if not k.startswith("PYTHON")}
    result = run(
        [str(prefix / "bin" / "python3"), "-S", "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, env=env,
    )
    return result.stdout.strip()


def copy_runtime(prefix: Path, target: Path, major: str) -> None:
    stdlib = f"lib/python{major}"

    def ignore(directory: str, names: list[str]) -> set[str]:
        relative = Path(directory).relative_to(prefix).as_posix()
        left_out = {n for n in names if n in LEFT_OUT_DIRS and (Path(directory) / n).is_dir()}
        left_out |= {n for n in names if n.endswith(".a")}
        if relative == "bin":
            left_out |= {n for n in names if not n.startswith("python") or n.endswith("-gdb.py")}
        if relative == f"{stdlib}/site-packages":
            left_out |= {n for n in names if n != "README.txt"}
        return left_out

    shutil.copytree(prefix, target, symlinks=True, ignore=ignore)
    python = target / "bin" / "python"
    if not python.exists() and not python.is_symlink():
        python.symlink_to("python3")


def elf_files(root: Path) -> list[Path]:
    """Executables and shared libraries (ELF types 2 and 3), not object files."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as handle:
                header = handle.read(18)
            if header[:4] == b"\x7fELF" and header[16] in (2, 3):
                found.append(path)
    return found


def relocate(target: Path, prefix: Path, strip: bool, rpath: bool) -> None:
    """Point every ELF file that looks in PREFIX at target-relative paths.

    Without `rpath`, remove the search paths instead, as in Heroku's own
    archives: the interpreter then needs LD_LIBRARY_PATH=<install>/lib.
    """
    for path in elf_files(target):
        if strip:
            run(["strip", "--strip-unneeded", str(path)], capture_output=True)
        result = run(["patchelf", "--print-rpath", str(path)], capture_output=True, text=True)
        if str(prefix) in result.stdout or path.parent == target / "bin":
            if rpath:
                relative = os.path.relpath(target / "lib", path.parent)
                run(["patchelf", "--set-rpath", f"$ORIGIN/{relative}", str(path)])
            else:
                run(["patchelf", "--remove-rpath", str(path)])


def check_runtime(target: Path, rpath: bool, version: str, rootfs: Optional[Path] = None) -> None:
    if rootfs is None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LD_LIBRARY_PATH"))}
        where = target
    else:
        env, where = {}, Path("/tmp/runtime")
    if not rpath:
        env["LD_LIBRARY_PATH"] = str(where / "lib")

    def command(args: list[str]) -> list[str]:
        args = [str(where / "bin" / "python3"), *args]
        return args if rootfs is None else in_rootfs(rootfs, target, args, env)

    numbers = tuple(int(part) for part in version.split(".")[:2])
    modules = [*REQUIRED_MODULES, *(m for m, since in REQUIRED_SINCE.items() if numbers >= since)]
    code = f"import {', '.join(modules)}, sys; print(sys.prefix)"
    result = subprocess.run(command(["-c", code]), capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise PackagingError(f"the packaged Python doesn't run:\n{result.stderr}")
    if Path(result.stdout.strip()).resolve() != where.resolve():
        raise PackagingError(f"the packaged Python still uses {result.stdout.strip()}")
    for module in EXPECTED_MODULES:
        probe = subprocess.run(command(["-c", f"import {module}"]), capture_output=True, env=env)
        if probe.returncode != 0:
            print(f"package_runtime: note: the runtime has no {module} module", file=sys.stderr)
    pth = [str(p) for p in target.rglob("*.pth")]
    if pth:
        raise PackagingError(f"foreign .pth files in the runtime: {pth}")


def make_archive(source: Path, destination: Path, level: int) -> None:
    partial = destination.with_suffix(".partial")
    with open(partial, "wb") as out:
        tar = subprocess.Popen(
            ["tar", "--create", "--format=pax", "--sort=name", "--owner=0", "--group=0",
             "--numeric-owner", "--directory", str(source), "."],
            stdout=subprocess.PIPE,
        )
        zstd = subprocess.run(
            ["zstd", "--quiet", "--threads=0", f"-{level}", "--long=27", "--stdout"],
            stdin=tar.stdout, stdout=out, check=False,
        )
        assert tar.stdout is not None
        tar.stdout.close()
        if tar.wait() != 0 or zstd.returncode != 0:
            partial.unlink()
            raise PackagingError("tar or zstd failed")
    partial.replace(destination)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def update_manifest(mirror: Path, archive: Path) -> None:
    manifest_path = mirror / MANIFEST_NAME
    existing = {}
    if manifest_path.exists():
        existing = parse_manifest(manifest_path.read_text(), str(manifest_path)).checksums
    existing[archive.name] = sha256_of(archive)
    temporary = manifest_path.with_suffix(".tmp")
    temporary.write_text(format_manifest(existing))
    temporary.replace(manifest_path)


def package(prefix: Path, mirror: Path, stack: Stack, level: int, strip: bool, rpath: bool,
            rootfs: Optional[Path] = None) -> Path:
    version = python_version(prefix, rootfs)
    major = ".".join(version.split(".")[:2])
    mirror.mkdir(parents=True, exist_ok=True)
    destination = mirror / archive_name(version, stack)
    with tempfile.TemporaryDirectory(prefix="runtime-", dir=mirror) as work:
        target = Path(work) / "python"
        copy_runtime(prefix, target, major)
        relocate(target, prefix, strip, rpath)
        check_runtime(target, rpath, version, rootfs)
        make_archive(target, destination, level)
    update_manifest(mirror, destination)
    return destination


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prefix", type=Path, help="an installed CPython (its bin/python3)")
    parser.add_argument("mirror", type=Path, help="the mirror directory to write into")
    parser.add_argument("--stack", required=True, choices=SUPPORTED_STACKS)
    parser.add_argument("--arch", default=None, help="amd64 or arm64 (default: this machine's)")
    parser.add_argument("--level", type=int, default=19, help="zstd level (default 19; 3 is fast)")
    parser.add_argument("--no-strip", action="store_true", help="keep debug symbols")
    parser.add_argument("--no-rpath", action="store_true",
                        help="like Heroku's archives: no library search path, LD_LIBRARY_PATH needed")
    parser.add_argument("--check-in-rootfs", type=Path, metavar="ROOTFS",
                        help="run the interpreter chrooted in ROOTFS, not here (binaries for a newer glibc)")
    options = parser.parse_args(argv)
    arch = options.arch or run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    for tool in ("patchelf", "zstd", "tar") + (() if options.no_strip else ("strip",)):
        if not shutil.which(tool):
            print(f"package_runtime: '{tool}' is needed (apt-get install patchelf binutils zstd)", file=sys.stderr)
            return 1
    try:
        path = package(options.prefix.resolve(), options.mirror.resolve(), Stack(options.stack, arch),
                       options.level, strip=not options.no_strip, rpath=not options.no_rpath,
                       rootfs=options.check_in_rootfs)
    except (PackagingError, subprocess.CalledProcessError) as error:
        print(f"package_runtime: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
