"""Each stack environment is what it claims to be: the python3 the buildpack's
own code runs on, and the shared libraries the Python runtimes need. And the
default Python builds and serves on it."""

from __future__ import annotations

import subprocess

from stack_env import run, stack_kind, stack_name

# /usr/bin/python3 of each stack: (major, has packaging, has tomllib). The
# stand-ins (chroot) differ from the real images only for heroku-24, whose
# Debian bookworm stand-in has 3.11 (the image has 3.12, with packaging).
SYSTEM_PYTHON = {
    "chroot": {"heroku-22": ("3.10", False, False), "heroku-24": ("3.11", True, True),
               "heroku-26": ("3.14", True, True)},
    "native": {"heroku-22": ("3.10", False, False), "heroku-24": ("3.12", True, True),
               "heroku-26": ("3.14", True, True)},
}
PROBE = """
import importlib.util, sys
print("%d.%d" % sys.version_info[:2], *(importlib.util.find_spec(m) is not None for m in ("packaging", "tomllib")))
"""
# Extension modules whose libraries no stack needs to have: tkinter (X11,
# Tk) and 3.10-3.12's nis (libnsl.so.2, which forky replaced with .so.3;
# the runtimes here are built on bookworm).
NOT_NEEDED = ("_tkinter.", "nis.")


def test_system_python_is_the_stacks(stack):
    major, packaging, tomllib = SYSTEM_PYTHON[stack_kind()][stack_name()]
    result = run(stack, ["/usr/bin/python3", "-I", "-c", PROBE], {"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.output
    assert result.stdout.split() == [major, str(packaging), str(tomllib)]


def test_runtimes_find_their_shared_libraries(stack, runtime_archives):
    archives = sorted(runtime_archives.directory.glob("*.tar.zst"))
    assert archives
    for archive in archives:
        inside = f"{stack.tmp_dir}/{archive.name.split('-')[1]}"
        target = stack.host_path(inside)
        target.mkdir()
        subprocess.run(["tar", "--zstd", "-xf", str(archive), "-C", str(target)], check=True)
        # Like the classic buildpack's runtime check: ldd over the
        # interpreter and every shared object; none may be "not found".
        script = (f"cd {inside} && for f in bin/python3 $(find . -name '*.so*' -type f); do "
                  f"ldd $f | sed \"s|^|$f: |\"; done")
        result = run(stack, ["bash", "-c", script], {"PATH": "/usr/bin:/bin"})
        assert result.returncode == 0, result.output
        missing = [line for line in result.stdout.splitlines()
                   if "not found" in line and not line.split(":")[0].rsplit("/", 1)[-1].startswith(NOT_NEEDED)]
        assert not missing, f"{archive.name} in {stack_name()}:\n" + "\n".join(missing)


def test_app_without_a_version_file_gets_the_default_python(herokuish, fixture_app, runtime_version):
    version = runtime_version("3.14")
    from test_builds import ok

    result = ok(herokuish.build(fixture_app("minimal_app", {".python-version": None})))
    assert "-----> No Python version was specified. Using the buildpack default: Python 3.14" in result.stdout
    assert f"-----> Installing Python {version}" in result.stdout
    check = herokuish.run_in_app('python -c "import sys, ssl, sqlite3, compression.zstd; print(sys.version.split()[0])"')
    assert check.stdout.strip() == version, check.output
    assert herokuish.fetch("/").text == "<p>minimal app</p>\n"

