"""The vendored libraries (vendor/python/): pinned, complete, and the ones
the buildpack imports, whatever else the Python it runs on has."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

from python_buildpack import poetry_constraints, pyproject, python_range, report

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "vendor" / "python"


def pins() -> dict[str, str]:
    text = (ROOT / "vendor" / "requirements.txt").read_text()
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.MULTILINE))


def module_file(obj) -> Path:
    return Path(sys.modules[obj.__module__].__file__).resolve()


def test_buildpack_imports_the_vendored_packaging():
    # The test venv has its own packaging (pytest needs it): the buildpack
    # modules must still get vendor/'s, first on sys.path (pytest.ini).
    assert importlib.metadata.version("packaging")
    read = python_range.pep440("requires-python", ">=3.12").alternatives[0]  # packaging is imported when used
    for obj in (poetry_constraints.SpecifierSet, poetry_constraints.Version, type(read)):
        assert module_file(obj).is_relative_to(VENDOR)


def test_tomllib_from_the_standard_library_or_vendored_tomli():
    tomllib = pyproject._tomllib()
    source = Path(tomllib.__file__).resolve()
    if sys.version_info >= (3, 11):
        assert tomllib.__name__ == "tomllib" and not source.is_relative_to(VENDOR)
    else:
        assert tomllib.__name__ == "tomli" and source.is_relative_to(VENDOR)


def test_vendored_versions_are_the_pinned_ones():
    import packaging
    import tomli

    assert pins() == {"packaging": packaging.__version__, "tomli": tomli.__version__}
    assert Path(tomli.__file__).resolve().is_relative_to(VENDOR)


def test_vendor_dir_holds_code_and_licences_only():
    assert not list(VENDOR.glob("*.dist-info")) and not (VENDOR / "bin").exists()
    for project in pins():
        assert (VENDOR / project / "__init__.py").is_file()
        assert any((VENDOR / "LICENSES" / project).iterdir()), project
    tracked = subprocess.run(["git", "ls-files", "vendor"], cwd=ROOT, capture_output=True, text=True)
    if tracked.returncode == 0:
        assert not [name for name in tracked.stdout.split() if "__pycache__" in name or name.endswith(".pyc")]


FAKE = {
    # Another packaging and tomli on the interpreter's path, which a .pth file
    # imports at start-up, as a build image's dist-packages could.
    "packaging/__init__.py": "__version__ = '0+fake'\n",
    "packaging/specifiers.py": "raise ImportError('the fake packaging was imported')\n",
    "packaging/version.py": "raise ImportError('the fake packaging was imported')\n",
    "tomli/__init__.py": "def loads(text):\n    raise RuntimeError('the fake tomli was used')\n",
    "fake-first.pth": "import packaging, tomli\n",
}


@pytest.fixture
def python_with_fake_packaging(tmp_path) -> Path:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python3*/site-packages"))
    for name, content in FAKE.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(content)
    python = venv / "bin" / "python"
    check = subprocess.run([str(python), "-I", "-c", "import packaging; print(packaging.__version__)"],
                           capture_output=True, text=True)
    assert check.stdout.strip() == "0+fake", "the fake packaging isn't imported at start-up"
    return python


def test_main_uses_the_vendored_libraries_under_isolated_mode(tmp_path, python_with_fake_packaging):
    """lib/main.py as lib/launch.sh runs it (python3 -I), on an interpreter
    whose site-packages has, and has already imported, another packaging."""
    build, cache, env, mirror = (tmp_path / name for name in ("build", "cache", "env", "mirror"))
    for directory in (build, cache, env, mirror):
        directory.mkdir()
    (build / "requirements.txt").write_text("")
    (build / "pyproject.toml").write_text("[project]\nname = 'x'\nrequires-python = '>=3.11,<3.13'\n")
    # A mirror without the version stops the build right after choosing it.
    (mirror / "SHA256SUMS").write_text("")
    (env / "PYTHON_RUNTIME_BASE_URL").write_text(mirror.as_uri())
    result = subprocess.run(
        [str(python_with_fake_packaging), "-I", str(ROOT / "lib" / "main.py"), "compile", build, cache, env],
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "STACK": "heroku-24", "NO_COLOR": "1"},
        capture_output=True, text=True,
    )
    output = result.stdout + result.stderr
    assert "fake" not in output and "Internal error" not in output, output
    assert "Using Python 3.12, the newest that requires-python '>=3.11,<3.13' in pyproject.toml allows" in output
    assert result.returncode == 1 and result.stderr.count(" !     Error: ") == 1, output
    assert report.read(build, cache)["error"]["id"] == "python-version::unknown-patch"


def test_package_runtime_imports_from_lib():
    # builds/package_runtime.py puts only lib/ on sys.path.
    result = subprocess.run([sys.executable, "-I", str(ROOT / "builds" / "package_runtime.py"), "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0 and "--stack" in result.stdout, result.stderr
