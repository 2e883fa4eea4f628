#!/usr/bin/env python3
"""Assemble a CPython prefix from Debian's binary python3.X packages, once per machine.

    builds/cpython_from_debian_binaries.py [--major 3.14] [--suite forky] [--rootfs ROOTFS] [--refresh]

Prints the prefix (bin/, lib/, include/, ready for builds/package_runtime.py
with --check-in-rootfs ROOTFS) on stdout; progress goes to stderr.

Why: the fallback for build_cpython_from_debian.py where CPython's source
can't be downloaded (a proxy that serves Debian's binary packages and
indexes, but answers 404 for every source file: this project's machines).
The binaries are Debian's (python3.14-minimal, libpython3.14-minimal,
-stdlib, libpython3.14, -dev, python3.14-venv), unpacked with dpkg-deb and
laid out like an upstream install, with Debian's layout patches undone so
that it behaves like upstream CPython, as a Heroku runtime does:

- no EXTERNALLY-MANAGED, no sitecustomize.py (a link into /etc), no
  _distutils_system_mod.py (setuptools' hook for Debian's install layouts);
- sysconfig's default scheme is posix_prefix (Debian's is posix_local:
  PREFIX/local/lib/python3.X/dist-packages), site.getsitepackages() gives
  PREFIX/lib/python3.X/site-packages (Debian's: dist-packages). The site
  module is also frozen into the interpreter and libpython (as upstream
  freezes it), so the patched site.py is frozen in place of Debian's: its
  marshalled code overwrites the old one's bytes in both (it is shorter;
  marshal ignores the zero padding), and the check compares every frozen
  stdlib module with its source;
- ensurepip isn't refused for the system Python, and finds pip in its
  _bundled/ directory (Debian's has none: it uses /usr/share/python-wheels):
  the pip wheel upstream bundles (ensurepip's _PIP_VERSION) is downloaded
  from PyPI, checked against the sha256 PyPI's index gives.

Debian builds them against its own glibc (2.42 in forky), so they run only
where glibc is at least as new: the heroku-26 stand-in (forky), not this
bookworm host nor the heroku-22/24 stand-ins (glibc 2.36). So the result
is for heroku-26 only, and the checks that run the interpreter run chrooted
in ROOTFS (the heroku-26 stand-in; without --rootfs, on this machine).

Trust: the suite's InRelease is checked with gpgv against Debian's archive
keyring, InRelease gives the SHA256 of the Packages index, which gives
each .deb's. Cached in $CPYTHON_BUILD_CACHE (default $STACK_ROOTFS_CACHE,
else /var/tmp/python-buildpack-stack), under a lock; a finished prefix is
reused without looking at the archive again (--refresh looks for a newer
one). Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_cpython_from_debian import (  # noqa: E402
    CACHE, CHECKED_MODULES, MIRROR, MODULES_SINCE, BuildError, _elapsed,
    make_once, parse_stanzas, verified_index, version_key,
)

ARCH = "amd64"
TRIPLET = "x86_64-linux-gnu"
PACKAGES = ("python3.X-minimal", "libpython3.X-minimal", "libpython3.X-stdlib", "libpython3.X",
            "libpython3.X-dev", "python3.X-venv")
PYPI_SIMPLE = os.environ.get("PYPI_SIMPLE_URL", "https://pypi.org/simple").rstrip("/")
PIP_PIN = Path(__file__).resolve().parents[1] / "requirements" / "pip.txt"
# Changing this script makes a new prefix.
RECIPE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:8]


def say(message: str) -> None:
    print(f"cpython_from_debian_binaries: {message}", file=sys.stderr, flush=True)


def wanted_debs(packages_index: str, major: str) -> list[dict[str, str]]:
    """The stanzas of PACKAGES for `major`, all of one version."""
    names = {p.replace("3.X", major) for p in PACKAGES}
    found = {}
    for block in packages_index.split("\n\n"):
        name = block[len("Package: "):block.find("\n")] if block.startswith("Package: ") else ""
        if name in names:
            stanza = parse_stanzas(block)[0]
            if name not in found or version_key(_upstream(stanza["Version"])) > version_key(
                    _upstream(found[name]["Version"])):
                found[name] = stanza
    missing = sorted(names - set(found))
    if missing:
        raise BuildError(f"the Packages index lacks {', '.join(missing)}")
    versions = {stanza["Version"] for stanza in found.values()}
    if len(versions) != 1:
        raise BuildError(f"the python{major} packages differ in version: {sorted(versions)}")
    return [found[p.replace("3.X", major)] for p in PACKAGES]


def _upstream(debian_version: str) -> str:
    """3.14.8-1 -> 3.14.8 (a prerelease, 3.14.0~rc1-1, doesn't parse: refused)."""
    version = debian_version.split(":")[-1].rsplit("-", 1)[0]
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise BuildError(f"{debian_version} isn't a final CPython release")
    return version


def download_deb(stanza: dict[str, str], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    url = f"{MIRROR}/{stanza['Filename']}"
    path = directory / stanza["Filename"].rsplit("/", 1)[1]
    if not path.exists() or _sha256(path) != stanza["SHA256"]:
        say(f"downloading {url} ({int(stanza['Size']) // 1000} kB)")
        partial = path.with_suffix(".partial")
        urllib.request.urlretrieve(url, partial)
        if _sha256(partial) != stanza["SHA256"]:
            partial.unlink()
            raise BuildError(f"{url} doesn't match the SHA256 in the Packages index")
        partial.replace(path)
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _replace(path: Path, old: str, new: str) -> None:
    """Replace `old` (which must be there once) in `path`: a Debian patch undone."""
    text = path.read_text()
    if text.count(old) != 1:
        raise BuildError(f"{path}: Debian's patch isn't where expected (a new Debian release?): {old[:60]!r}")
    path.write_text(text.replace(old, new))


def lay_out(stage: Path, prefix: Path, major: str) -> None:
    """An upstream-like prefix from the unpacked packages in `stage`."""
    usr = stage / "usr"
    (prefix / "bin").mkdir(parents=True)
    shutil.copy2(usr / "bin" / f"python{major}", prefix / "bin" / f"python{major}")
    shutil.copy2(usr / "bin" / f"{TRIPLET}-python{major}-config", prefix / "bin" / f"python{major}-config")
    for link, to in (("python3", f"python{major}"), ("python", "python3"),
                     ("python3-config", f"python{major}-config")):
        (prefix / "bin" / link).symlink_to(to)
    stdlib = prefix / "lib" / f"python{major}"
    shutil.copytree(usr / "lib" / f"python{major}", stdlib, symlinks=True)
    for library in (usr / "lib" / TRIPLET).glob(f"libpython{major}.so*"):
        shutil.copy2(library, prefix / "lib" / library.name, follow_symlinks=False)
    config = next(stdlib.glob("config-*"))
    (config / f"libpython{major}.so").unlink()
    (config / f"libpython{major}.so").symlink_to(f"../../libpython{major}.so")
    include = prefix / "include" / f"python{major}"
    shutil.copytree(usr / "include" / f"python{major}", include)
    # Debian's pyconfig.h includes the multiarch one; upstream has that one.
    shutil.copy2(usr / "include" / TRIPLET / f"python{major}" / "pyconfig.h", include / "pyconfig.h")

    # Debian's patches undone: see the docstring.
    for debian_only in ("EXTERNALLY-MANAGED", "sitecustomize.py", "_distutils_system_mod.py"):
        (stdlib / debian_only).unlink()
    _replace(stdlib / "sysconfig" / "__init__.py",
             "        deb_build = os.environ.get('DEB_PYTHON_INSTALL_LAYOUT', 'posix_local')\n"
             "        if deb_build in ('deb', 'deb_system'):\n"
             "            prefix_scheme = 'deb_system'\n"
             "        else:\n"
             "            prefix_scheme = 'posix_local'\n",
             "        prefix_scheme = 'posix_prefix'\n")
    site = stdlib / "site.py"
    text = site.read_text()
    start = text.index("            if is_virtual_environment:\n")
    end = text.index("            for libdir in libdirs:\n", start)
    site.write_text(text[:start] + text[end:])
    _replace(site, '"dist-packages")', '"site-packages")')
    _replace(stdlib / "ensurepip" / "__init__.py", "\n    _ensurepip_is_disabled_in_debian_for_system()\n", "\n")
    for data in (d for d in stdlib.glob("_sysconfigdata_*.py") if not d.is_symlink()):
        _replace(data, "'WHEEL_PKG_DIR': '/usr/share/python-wheels/',", "'WHEEL_PKG_DIR': '',")
    (stdlib / "site-packages").mkdir()
    (stdlib / "site-packages" / "README.txt").write_text(
        "This directory exists so that 3rd party packages can be installed\nhere.  Read the source for site.py for"
        " more details.\n")


def bundled_pip_version(stdlib: Path) -> str:
    """The pip upstream bundles with this release (ensurepip's _PIP_VERSION),
    else the buildpack's pin."""
    match = re.search(r'^_PIP_VERSION = "([^"]+)"', (stdlib / "ensurepip" / "__init__.py").read_text(), re.M)
    if match:
        return match.group(1)
    return re.search(r"^pip==(\S+)", PIP_PIN.read_text(), re.M).group(1)


def add_pip_wheel(stdlib: Path, downloads: Path) -> None:
    version = bundled_pip_version(stdlib)
    name = f"pip-{version}-py3-none-any.whl"
    with urllib.request.urlopen(f"{PYPI_SIMPLE}/pip/", timeout=60) as response:
        page = html.unescape(response.read().decode())
    match = re.search(rf"/{re.escape(name)}#sha256=([0-9a-f]{{64}})", page)
    if not match:
        raise BuildError(f"{PYPI_SIMPLE}/pip/ doesn't list {name}")
    sha256 = match.group(1)
    wheel = downloads / name
    if not wheel.exists() or _sha256(wheel) != sha256:
        say(f"downloading {name} (pip download, hash-checked against {PYPI_SIMPLE}/pip/)")
        with tempfile.TemporaryDirectory() as work:
            requirement = Path(work) / "requirements.txt"
            requirement.write_text(f"pip=={version} --hash=sha256:{sha256}\n")
            result = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes",
                 "--disable-pip-version-check", "--quiet", "-r", str(requirement), "-d", work],
                capture_output=True, text=True)
            if result.returncode != 0 or _sha256(Path(work) / name) != sha256:
                raise BuildError(f"pip download of {name} failed:\n{result.stdout[-1500:]}{result.stderr[-1500:]}")
            downloads.mkdir(parents=True, exist_ok=True)
            shutil.copy(Path(work) / name, wheel)
    bundled = stdlib / "ensurepip" / "_bundled"
    bundled.mkdir(exist_ok=True)
    shutil.copy(wheel, bundled / name)
    say(f"{name}: SHA256 matches PyPI's; in {bundled}")


def run_in(rootfs: Optional[Path], prefix: Path, script: str) -> str:
    """Run bash `script` with {python} as the prefix and {tmp} a scratch dir:
    chrooted in `rootfs` (its own mount namespace: /proc, /dev, a tmpfs /tmp,
    the prefix bound read-only at /tmp/python), else here."""
    if rootfs is None:
        with tempfile.TemporaryDirectory() as work:
            result = subprocess.run(["bash", "-c", script.format(python=prefix, tmp=work)],
                                    capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    else:
        mounts = ('set -e; r=$1; p=$2; shift 2; mount -t proc proc "$r/proc"; mount --rbind /dev "$r/dev";'
                  ' mount -t tmpfs tmpfs "$r/tmp"; mkdir "$r/tmp/python"; mount --bind -o ro "$p" "$r/tmp/python";'
                  ' exec chroot "$r" "$@"')
        args = ["unshare", "--mount", "--fork", "--propagation", "private", "bash", "-c", mounts, "in_rootfs",
                str(rootfs), str(prefix), "/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "bash", "-c",
                script.format(python="/tmp/python", tmp="/tmp")]
        result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"the check failed{f' in {rootfs}' if rootfs else ''}:\n{result.stdout}{result.stderr}")
    return result.stdout


FROZEN_STDLIB = ("abc", "codecs", "io", "_collections_abc", "_sitebuiltins", "genericpath", "ntpath",
                 "posixpath", "os", "site", "stat", "importlib.util", "importlib.machinery", "runpy", "zipimport")


def refreeze_site(prefix: Path, major: str, rootfs: Optional[Path]) -> None:
    """Freeze the patched site.py in place of Debian's frozen site module."""
    code = ("import _imp, marshal; print(bytes(_imp.find_frozen('site', withdata=True)[0]).hex());"
            f" print(marshal.dumps(compile(open('{{python}}/lib/python{major}/site.py').read(), '<frozen site>',"
            " 'exec', dont_inherit=True)).hex())")
    old, new = (bytes.fromhex(h) for h in run_in(rootfs, prefix, f'{{python}}/bin/python3 -I -S -c "{code}"').split())
    if len(new) > len(old):
        raise BuildError(f"the patched site module ({len(new)} bytes) doesn't fit in Debian's ({len(old)})")
    for binary in (prefix / "bin" / f"python{major}", prefix / "lib" / f"libpython{major}.so.1.0"):
        data = binary.read_bytes()
        if data.count(old) != 1:
            raise BuildError(f"{binary}: Debian's frozen site module isn't there once ({data.count(old)} times)")
        binary.write_bytes(data.replace(old, new + bytes(len(old) - len(new))))


FROZEN_CHECK = """
import _imp, marshal, sys
for name in sys.argv[2:]:
    path = "%s/%s.py" % (sys.argv[1], name.replace(".", "/"))
    frozen = marshal.loads(bytes(_imp.find_frozen(name, withdata=True)[0]))
    if frozen != compile(open(path).read(), "<frozen %s>" % name, "exec", dont_inherit=True):
        print("the frozen", name, "differs from", path)
"""


def check(prefix: Path, major: str, rootfs: Optional[Path]) -> None:
    """It runs, has the stdlib modules, upstream's paths, and pip installs where upstream's would."""
    modules = list(CHECKED_MODULES) + [m for m, since in MODULES_SINCE.items() if version_key(major) >= since]
    modules.remove("dbm.gnu")  # Debian ships _gdbm apart (python3-gdbm); package_runtime notes its absence
    probe = (f"import {', '.join(modules)}, sys, sysconfig, site;"
             " print(sys.prefix, sysconfig.get_path('purelib'), sysconfig.get_path('scripts'),"
             " *site.getsitepackages())")
    bundled = prefix / "lib" / f"python{major}" / "ensurepip" / "_bundled"
    wheel = next(bundled.glob("pip-*.whl")).relative_to(prefix).as_posix()
    # pip, from the bundled wheel, into a writable copy of the prefix.
    script = ("set -e; {python}/bin/python3 -I -c \"%s\"; cp -a {python} {tmp}/copy;"
              " {tmp}/copy/bin/python3 -I {tmp}/copy/%s/pip install --quiet --no-index"
              " --disable-pip-version-check {tmp}/copy/%s; ls {tmp}/copy/lib/python%s/site-packages {tmp}/copy/bin"
              % (probe, wheel, wheel, major))
    stdlib = "{python}/lib/python%s" % major
    different = run_in(rootfs, prefix, "{python}/bin/python3 -I -S -c '%s' %s %s"
                       % (FROZEN_CHECK, stdlib, " ".join(FROZEN_STDLIB)))
    if different.strip():
        raise BuildError(different)
    output = run_in(rootfs, prefix, script).split()
    python = "/tmp/python" if rootfs else str(prefix)
    site_packages = f"{python}/lib/python{major}/site-packages"
    expected = [python, site_packages, f"{python}/bin", site_packages]
    if output[:4] != expected:
        raise BuildError(f"sys.prefix, sysconfig's purelib and scripts, and site.getsitepackages() are"
                         f" {output[:4]}; upstream's would be {expected}")
    if "pip" not in output[4:] or "pip3" not in output[4:]:
        raise BuildError(f"pip didn't install into lib/python{major}/site-packages and bin/: {output[4:]}")


def finished(major: str) -> list[Path]:
    found = [p for p in CACHE.glob(f"cpython-debian-binaries-{major}.*-{RECIPE}") if (p / ".complete").exists()]
    return sorted(found, key=lambda p: version_key(p.name.split("-")[3]))


def assemble(major: str, suite: str, rootfs: Optional[Path], refresh: bool) -> Path:
    done = finished(major)
    if done and not refresh:
        return done[-1]
    started = time.monotonic()
    index = f"main/binary-{ARCH}/Packages.xz"
    say(f"looking for python{major} in {MIRROR}/dists/{suite}/{index}")
    debs = wanted_debs(verified_index(suite, index), major)
    version = _upstream(debs[0]["Version"])
    prefix = CACHE / f"cpython-debian-binaries-{version}-{RECIPE}"
    if (prefix / ".complete").exists():
        return prefix
    say(f"assembling CPython {version} from Debian {suite}'s python{major} {debs[0]['Version']} into {prefix}"
        " (about 10 seconds, once per machine)")
    paths = [download_deb(stanza, CACHE / "downloads" / "debs") for stanza in debs]
    say(f"the {len(paths)} .debs match the SHA256 in the Packages index")
    shutil.rmtree(prefix, ignore_errors=True)  # an interrupted run's leftovers
    with tempfile.TemporaryDirectory(prefix=".debian-python-", dir=CACHE) as stage:
        for path in paths:
            subprocess.run(["dpkg-deb", "-x", str(path), stage], check=True)
        lay_out(Path(stage), prefix, major)
    refreeze_site(prefix, major, rootfs)
    add_pip_wheel(prefix / "lib" / f"python{major}", CACHE / "downloads")
    say(f"checking it{f' in {rootfs}' if rootfs else ''}: the stdlib modules, upstream's install paths, pip")
    check(prefix, major, rootfs)
    (prefix / ".complete").touch()
    say(f"CPython {version} assembled in {_elapsed(started)}")
    return prefix


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--major", default="3.14")
    parser.add_argument("--suite", default="forky", help="the Debian suite (default forky, the heroku-26 stand-in's)")
    parser.add_argument("--rootfs", type=Path, help="run the checks chrooted here (a rootfs of that suite)")
    parser.add_argument("--refresh", action="store_true", help="look for a newer release than a finished prefix")
    options = parser.parse_args(argv)
    return make_once(
        f".cpython-debian-binaries-{options.major}.lock",
        lambda: assemble(options.major, options.suite, options.rootfs, options.refresh), say,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
