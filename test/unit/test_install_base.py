"""install_base.InstallBase: resetting an install to Python and its tool."""

from __future__ import annotations

import os

from python_buildpack.install_base import InstallBase


def make_runtime(root):
    site = root / "lib/python3.12/site-packages"
    (site / "pip").mkdir(parents=True)
    (site / "pip" / "__init__.py").write_text("pip")
    (root / "lib/python3.12/os.py").write_text("os")
    (root / "lib/python3.12/__pycache__").mkdir()
    (root / "bin").mkdir()
    (root / "bin/python3").write_text("elf")
    (root / "bin/python").symlink_to("python3")
    return site


def add_dependencies(root, site):
    (site / "flask").mkdir()
    (site / "flask" / "__init__.py").write_text("flask")
    (site / "six.py").write_text("six")
    (site / "__pycache__").mkdir()
    (site / "__pycache__" / "six.cpython-312.pyc").write_text("bytecode")
    (root / "bin/flask").write_text("#!/app/.heroku/python/bin/python")
    (root / "src/repo").mkdir(parents=True)
    (root / "bin/link").symlink_to("/nonexistent")


def test_reset_leaves_exactly_the_base(tmp_path):
    root = tmp_path / "python"
    site = make_runtime(root)
    (root / "lib/python3.12/__pycache__/os.cpython-312.pyc").write_text("stdlib bytecode")
    base = InstallBase.record(root)
    before = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    add_dependencies(root, site)
    assert base.reset(root)
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == before
    assert os.readlink(root / "bin/python") == "python3"


def test_a_changed_base_is_not_reset(tmp_path):
    root = tmp_path / "python"
    site = make_runtime(root)
    base = InstallBase.record(root)
    add_dependencies(root, site)
    (site / "pip" / "__init__.py").write_text("another pip, longer")  # requirements.txt pinned pip
    assert not base.reset(root)
    assert (site / "flask").exists()  # nothing removed
    (site / "pip" / "__init__.py").unlink()
    assert not base.reset(root)


def test_text_round_trip_and_refusing_what_isnt_a_base(tmp_path):
    root = tmp_path / "python"
    make_runtime(root)
    base = InstallBase.record(root)
    assert InstallBase.from_text(base.to_text()) == base
    for text in ("", "f 1 2\n", "x 1 2 bin\n", "f a 2 bin\n", "f 1 2 /etc/passwd\n", "f 1 2 ../../etc\n"):
        assert InstallBase.from_text(text) is None, text
