from __future__ import annotations

import os

from python_buildpack import python_location
from python_buildpack.python_location import PythonLocation


def test_link_app_dir(tmp_path):
    build, app = tmp_path / "build", tmp_path / "app"
    build.mkdir()
    location = python_location.link_app_dir(build, app)
    assert location.home == app / ".heroku/python"
    assert os.readlink(app / ".heroku/python") == str(build / ".heroku/python")
    # A stale link from an earlier build is replaced.
    other = tmp_path / "build2"
    other.mkdir()
    python_location.link_app_dir(other, app)
    assert os.readlink(app / ".heroku/python") == str(other / ".heroku/python")


def test_link_app_dir_when_building_in_app(tmp_path):
    location = python_location.link_app_dir(tmp_path, tmp_path)
    assert location.home == location.install_dir and location.link_problem is None


def test_link_app_dir_falls_back_to_the_build_dir(tmp_path):
    build, app = tmp_path / "build", tmp_path / "app"
    (app / ".heroku" / "python").mkdir(parents=True)
    location = python_location.link_app_dir(build, app)
    assert location.home == build / ".heroku/python"
    assert "already exists" in location.link_problem


def test_rewrite_script_paths(tmp_path):
    install = tmp_path / "build/.heroku/python"
    (install / "bin").mkdir(parents=True)
    (install / "bin/gunicorn").write_text(f"#!{install}/bin/python\nimport sys\n")
    (install / "bin/python3").write_bytes(b"\x7fELF binary")
    (install / "bin/python").symlink_to("python3")
    python_location.rewrite_script_paths(PythonLocation(install, install))
    assert (install / "bin/gunicorn").read_text() == "#!/app/.heroku/python/bin/python\nimport sys\n"
    assert (install / "bin/python3").read_bytes() == b"\x7fELF binary"
