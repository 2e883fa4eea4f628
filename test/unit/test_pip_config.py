"""pip's settings outside requirement files: read as pip reads them, given
to uv as uv's, or left to pip (pip_config.py)."""

from __future__ import annotations

import os

import pytest

from python_buildpack import pip_config
from python_buildpack.pip_config import ENVIRONMENT, PipSetting, PipSettings


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def values(settings: PipSettings) -> dict[str, tuple[str, str]]:
    return {each.name: (each.value, each.where) for each in settings.settings}


def test_the_environments_pip_variables_as_pip_names_them(tmp_path):
    settings = pip_config.read({"HOME": str(tmp_path), "PIP_NO_BINARY": ":all:", "PIP_default_timeout": "60",
                                "PIP_PRE": "", "PIP_VERSION": "1", "PIP_HELP": "1", "PIP_CONFIG_FILE": os.devnull,
                                "PATH": "/usr/bin"})
    assert values(settings) == {"no-binary": (":all:", ENVIRONMENT), "default-timeout": ("60", ENVIRONMENT)}


def test_files_in_pips_order_then_the_environment(tmp_path):
    home, xdg = tmp_path / "home", tmp_path / "xdg"
    write(xdg / "pip" / "pip.conf", "[global]\ntimeout = 10\nretries = 1\ncert = /global.pem\n")
    write(home / ".pip" / "pip.conf", "[global]\ntimeout = 20\n[install]\nretries = 2\n")
    write(home / ".config" / "pip" / "pip.conf", "[global]\nretries = 3\n[freeze]\nall = true\n")
    environ = {"HOME": str(home), "XDG_CONFIG_DIRS": str(xdg), "PIP_CERT": "/env.pem"}
    assert values(pip_config.read(environ)) == {
        # [install] overrides [global] whatever file each is in; a later file, an earlier one.
        "timeout": ("20", str(home / ".pip" / "pip.conf")), "retries": ("2", str(home / ".pip" / "pip.conf")),
        "cert": ("/env.pem", ENVIRONMENT),
    }
    named = write(tmp_path / "named.conf", "[global]\nretries = 4\n")
    # PIP_CONFIG_FILE comes last, and the user's files are then not read.
    assert values(pip_config.read({**environ, "PIP_CONFIG_FILE": str(named)})) == {
        "timeout": ("10", str(xdg / "pip" / "pip.conf")), "retries": ("4", str(named)),
        "cert": ("/env.pem", ENVIRONMENT),
    }
    assert values(pip_config.read({**environ, "PIP_CONFIG_FILE": os.devnull})) == {"cert": ("/env.pem", ENVIRONMENT)}


def test_the_system_file(tmp_path, monkeypatch):
    system = write(tmp_path / "etc" / "pip.conf", "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
    monkeypatch.setattr(pip_config, "SYSTEM_FILES", (str(system),))
    assert values(pip_config.read({"HOME": str(tmp_path)})) == {
        "cert": ("/etc/ssl/certs/ca-certificates.crt", str(system))}


@pytest.mark.parametrize("make", [
    lambda path: path.mkdir(parents=True),
    lambda path: write(path, "index-url = https://no.section.example\n"),
    lambda path: write(path, "[global]\nindex-url = https://x.example\n[global]\n"),
    lambda path: (path.parent.mkdir(parents=True), path.symlink_to("/nonexistent")),
    lambda path: (path.parent.mkdir(parents=True), path.write_bytes(b"[global]\ncert = \xff\n")),
])
def test_a_file_the_build_cant_read_is_left_to_pip(tmp_path, make):
    path = tmp_path / "home" / ".config" / "pip" / "pip.conf"
    make(path)
    settings = pip_config.read({"HOME": str(tmp_path / "home")})
    assert settings.unreadable == (str(path),)
    assert pip_config.only_pip_honours(settings) == (
        f"the build can't read pip's configuration file {path}, which pip reads")


@pytest.mark.parametrize("name, value, expected", [
    ("index-url", " https://u:p@private.example/simple ", {"UV_DEFAULT_INDEX": "https://u:p@private.example/simple"}),
    ("extra-index-url", "https://a.example\n https://b.example", {"UV_INDEX": "https://a.example https://b.example"}),
    ("find-links", "/wheels /more", {"UV_FIND_LINKS": "/wheels,/more"}),
    ("trusted-host", "a.example b.example", {"UV_INSECURE_HOST": "a.example b.example"}),
    ("cert", "/ca.pem", {"SSL_CERT_FILE": "/ca.pem"}),
    ("client-cert", "/client.pem", {"SSL_CLIENT_CERT": "/client.pem"}),
    ("timeout", "7.5", {"UV_HTTP_TIMEOUT": "8"}),
    ("default-timeout", "60", {"UV_HTTP_TIMEOUT": "60"}),
    ("retries", "5", {"UV_HTTP_RETRIES": "5"}),
    ("proxy", "http://proxy:3128", {name: "http://proxy:3128"
                                    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")}),
    ("constraint", "c.txt  d.txt", {"UV_CONSTRAINT": "c.txt d.txt"}),
    ("build-constraint", "b.txt", {"UV_BUILD_CONSTRAINT": "b.txt"}),
    ("pre", "Yes", {"UV_PRERELEASE": "allow"}),
    ("pre", "off", {}),
    ("require-hashes", "1", {"UV_REQUIRE_HASHES": "1"}),
    ("require-hashes", "false", {}),
])
def test_uvs_equivalents(name, value, expected):
    setting = PipSetting(name, value, ENVIRONMENT)
    assert pip_config.as_uv([setting]) == expected
    assert pip_config.only_pip_honours(PipSettings((setting,))) is None


@pytest.mark.parametrize("name, value", [
    ("no-binary", ":all:"), ("only-binary", "numpy"), ("no-deps", "1"), ("upgrade", "1"), ("use-feature", "truststore"),
    ("timeout", "soon"), ("retries", "-1"), ("pre", "maybe"), ("report", "/tmp/report.json"),
])
def test_settings_only_pip_honours(name, value):
    setting = PipSetting(name, value, ENVIRONMENT)
    assert pip_config.as_uv([setting]) == {}
    assert pip_config.only_pip_honours(PipSettings((setting,))) == (
        f"{pip_config.environment_name(name)} is set, a pip setting uv has no equivalent for (without it, uv installs)")


def test_a_files_setting_is_named_with_the_file():
    setting = PipSetting("no-binary", "psycopg2", "/etc/pip.conf")
    assert pip_config.only_pip_honours(PipSettings((setting,))) == (
        "/etc/pip.conf sets no-binary, a pip setting uv has no equivalent for (without it, uv installs)")


@pytest.mark.parametrize("name", ["disable-pip-version-check", "no-cache-dir", "root-user-action", "progress-bar",
                                  "no-compile", "break-system-packages",
                                  # config_vars.TOOL_SETTINGS: ignored whichever installs.
                                  "target", "src", "user"])
def test_settings_that_change_nothing_the_build_leaves(name):
    setting = PipSetting(name, "1", "/etc/pip.conf")
    assert pip_config.only_pip_honours(PipSettings((setting,))) is None
    assert pip_config.as_uv([setting]) == {}
