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
    kept = base.reset(root)
    assert kept is not None
    kept.tidy()  # nothing was reinstalled: none of the bytecode is kept
    assert tree(root) == before
    assert os.readlink(root / "bin/python") == "python3"


def tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_reset_keeps_the_bytecode_a_reinstall_reuses_and_tidy_removes_the_rest(tmp_path):
    root = tmp_path / "python"
    site = make_runtime(root)
    base = InstallBase.record(root)
    # Installed: flask (a package with a subpackage), six (a module), gone (a
    # package the changed requirements drop), a VCS checkout outside site-packages.
    for path in ("flask/__init__.py", "flask/json/__init__.py", "flask/old.py", "gone/sub/__init__.py", "six.py"):
        source = site / path
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(path)
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        pyc.parent.mkdir(exist_ok=True)
        pyc.write_text(f"bytecode of {path}")
    (site / "flask-3.1.dist-info").mkdir()
    (site / "flask-3.1.dist-info/RECORD").write_text("record")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.py").write_text("not the install's")
    (site / "flask/linked").symlink_to(outside)
    (root / "src/repo/__pycache__").mkdir(parents=True)
    (root / "src/repo/__pycache__/mod.cpython-312.pyc").write_text("bytecode")

    kept = base.reset(root)
    assert kept is not None
    # Sources, metadata and links are gone; the bytecode waits in its directories.
    assert sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()) == [
        "__pycache__/six.cpython-312.pyc", "flask/__pycache__/__init__.cpython-312.pyc",
        "flask/__pycache__/old.cpython-312.pyc", "flask/json/__pycache__/__init__.cpython-312.pyc",
        "gone/sub/__pycache__/__init__.cpython-312.pyc", "pip/__init__.py"]
    assert not (root / "src").exists()  # outside site-packages: removed whole
    assert (outside / "keep.py").exists()  # a link is removed, never followed

    # The reinstall: flask without old.py, no six, no gone.
    for path in ("flask/__init__.py", "flask/json/__init__.py", "flask-3.1.dist-info/RECORD"):
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(path)
    kept.tidy()
    assert sorted(str(p.relative_to(site)) for p in site.rglob("*")) == [
        "flask", "flask-3.1.dist-info", "flask-3.1.dist-info/RECORD", "flask/__init__.py", "flask/__pycache__",
        "flask/__pycache__/__init__.cpython-312.pyc", "flask/json", "flask/json/__init__.py",
        "flask/json/__pycache__", "flask/json/__pycache__/__init__.cpython-312.pyc",
        "pip", "pip/__init__.py"]
    assert (site / "flask/__pycache__/__init__.cpython-312.pyc").read_text() == "bytecode of flask/__init__.py"
    # What the reset removed was emptied in the background, beside the install; a link was removed, never followed.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside", "python"]
    assert (outside / "keep.py").read_text() == "not the install's"


def test_a_changed_base_is_not_reset(tmp_path):
    root = tmp_path / "python"
    site = make_runtime(root)
    base = InstallBase.record(root)
    add_dependencies(root, site)
    (site / "pip" / "__init__.py").write_text("another pip, longer")  # requirements.txt pinned pip
    assert base.reset(root) is None
    assert (site / "flask").exists()  # nothing removed
    (site / "pip" / "__init__.py").unlink()
    assert base.reset(root) is None


def test_text_round_trip_and_refusing_what_isnt_a_base(tmp_path):
    root = tmp_path / "python"
    make_runtime(root)
    base = InstallBase.record(root)
    assert InstallBase.from_text(base.to_text()) == base
    for text in ("", "f 1 2\n", "x 1 2 bin\n", "f a 2 bin\n", "f 1 2 /etc/passwd\n", "f 1 2 ../../etc\n"):
        assert InstallBase.from_text(text) is None, text
