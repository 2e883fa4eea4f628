from __future__ import annotations

from conftest import config_with


def test_app_config_leaves_out_protected_names_and_odd_values(tmp_path):
    config = config_with(tmp_path, {"SECRET_KEY": "s3cret\n", "PATH": "/evil", "LD_PRELOAD": "/evil.so",
                                    "CACHE_DIR": "/elsewhere", "BINARY": "a\0b", "not-a-name": "x"})
    found = config.app_config()
    assert found.values == {"SECRET_KEY": "s3cret"}
    assert found.protected == ["CACHE_DIR", "LD_PRELOAD", "PATH"] and found.skipped == {}
