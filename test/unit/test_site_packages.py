from __future__ import annotations

from python_buildpack import site_packages


def test_installed_version(tmp_path):
    site = tmp_path / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    assert site_packages.installed_version(tmp_path, "pip") is None
    (site / "pipenv-2026.10.3.dist-info").mkdir()  # another package whose name starts the same
    assert site_packages.installed_version(tmp_path, "pip") is None
    (site / "pip-26.3.dist-info").mkdir()
    assert site_packages.installed_version(tmp_path, "pip") == "26.3"
    assert site_packages.installed_version(tmp_path, "pipenv") == "2026.10.3"


def test_installed_version_in_a_target_dir(tmp_path):
    (tmp_path / "uv-0.13.9.dist-info").mkdir()
    assert site_packages.installed_version(tmp_path, "uv", ".") == "0.13.9"
    assert site_packages.installed_version(tmp_path, "uv") is None  # not in site-packages


def test_has_module(tmp_path):
    site = tmp_path / "lib" / "python3.13" / "site-packages"
    (site / "django").mkdir(parents=True)
    assert not site_packages.has_module(tmp_path, "django")  # no __init__.py: not the package
    (site / "django" / "__init__.py").write_text("")
    assert site_packages.has_module(tmp_path, "django")
    assert not site_packages.has_module(tmp_path, "nltk")


def test_python_version(tmp_path):
    assert site_packages.python_version(tmp_path) is None
    (tmp_path / "lib" / "python3.13").mkdir(parents=True)  # the stdlib alone: no site-packages
    assert site_packages.python_version(tmp_path) is None
    (tmp_path / "lib" / "python3.13" / "site-packages").mkdir()
    assert site_packages.python_version(tmp_path) == (3, 13)


def test_normalized_name():
    assert [site_packages.normalized_name(name) for name in ("Flask", "zope.interface", "typing_extensions",
                                                             "Foo__Bar-.baz")] == [
        "flask", "zope-interface", "typing-extensions", "foo-bar-baz"]
