from __future__ import annotations

import subprocess

from python_buildpack import editables
from python_buildpack.python_location import PythonLocation


def site_packages(root):
    path = root / ".heroku" / "python" / "lib" / "python3.12" / "site-packages"
    path.mkdir(parents=True)
    return path


def test_no_snippet_without_build_paths(tmp_path):
    site = site_packages(tmp_path)
    (site / "distutils-precedence.pth").write_text("import os\n")
    assert editables.runtime_fix(tmp_path, tmp_path / ".heroku" / "python") == ""


def test_runtime_fix_rewrites_the_build_dir_once(tmp_path):
    build = tmp_path / "build_1"
    site = site_packages(build)
    (site / "__editable__.mylib-0.1.pth").write_text(f"{build}/mylib/src\n")
    (site / "__editable___app_finder.py").write_text(f"MAPPING = {{'app': '{build}/app'}}\n")
    snippet = editables.runtime_fix(build, build / ".heroku" / "python")
    assert str(build) in snippet
    # At run time the slug lives elsewhere (HOME); sourcing twice is harmless.
    home = tmp_path / "app"
    build.rename(home)
    script = tmp_path / "fix.sh"
    script.write_text(snippet)
    result = subprocess.run(["bash", "-c", f"set -eo pipefail; source {script}; source {script}; echo ok"],
                            env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")
    site = home / ".heroku/python/lib/python3.12/site-packages"
    assert (site / "__editable__.mylib-0.1.pth").read_text() == f"{home}/mylib/src\n"
    assert (site / "__editable___app_finder.py").read_text() == f"MAPPING = {{'app': '{home}/app'}}\n"


def test_paths_into_the_python_install_name_app(tmp_path):
    install = tmp_path / "build" / ".heroku" / "python"
    site = site_packages(tmp_path / "build")
    (site / "__editable__.vcs.pth").write_text(f"{install}/src/vcs-package\n")
    editables.point_at_app_python(PythonLocation(install, tmp_path / "app" / ".heroku" / "python"))
    assert (site / "__editable__.vcs.pth").read_text() == "/app/.heroku/python/src/vcs-package\n"
