from __future__ import annotations

from python_buildpack.config_vars import BuildConfig
from conftest import config_with


def test_app_config_leaves_out_protected_names_and_odd_values(tmp_path):
    config = config_with(tmp_path, {"SECRET_KEY": "s3cret\n", "PATH": "/evil", "LD_PRELOAD": "/evil.so",
                                    "CACHE_DIR": "/elsewhere", "BINARY": "a\0b", "not-a-name": "x"})
    found = config.app_config()
    assert found.values == {"SECRET_KEY": "s3cret"}
    assert found.protected == ["CACHE_DIR", "LD_PRELOAD", "PATH"] and found.skipped == {}


def test_a_config_var_wins_over_the_build_environment(tmp_path):
    (tmp_path / "CURL_TIMEOUT").write_text("90\n")
    (tmp_path / "EMPTY").write_text("")
    (tmp_path / "BINARY").write_text("a\0b")
    config = BuildConfig(tmp_path, {"CURL_TIMEOUT": "600", "EMPTY": "set", "BINARY": "env", "ONLY_ENV": "x", "BLANK": ""})
    assert config.get("CURL_TIMEOUT") == "90"
    assert config.get("ONLY_ENV") == "x"
    assert config.get("EMPTY") is None  # an empty config var unsets it
    assert config.get("BINARY") == "env"  # no environment variable can hold a NUL
    assert config.get("BLANK") is None and config.get("MISSING") is None
    assert BuildConfig(None, {"ONLY_ENV": "x"}).get("ONLY_ENV") == "x"


def test_matching_reads_both_and_drops_empty_values(tmp_path):
    (tmp_path / "PIP_EXTRA_INDEX_URL").write_text("https://extra/simple\n")
    (tmp_path / "PIP_FIND_LINKS").write_text("")
    config = BuildConfig(tmp_path, {"PIP_INDEX_URL": "https://env/simple", "PIP_EXTRA_INDEX_URL": "https://env-extra",
                                    "PIP_INDEX_URL_X": "not a full match"})
    assert config.matching(r"PIP_(INDEX_URL|EXTRA_INDEX_URL|FIND_LINKS)") == {
        "PIP_EXTRA_INDEX_URL": "https://extra/simple", "PIP_INDEX_URL": "https://env/simple"}

