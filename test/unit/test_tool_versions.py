from __future__ import annotations

import pytest

from python_buildpack import tool_versions


def test_pinned_versions(tmp_path):
    for tool in ("pip", "pipenv", "poetry", "uv"):
        assert tool_versions.pinned_version(tool).count(".") >= 1
    (tmp_path / "tool.txt").write_text("# comment\ntool==1.2.3  # pinned\n")
    assert tool_versions.pinned_version("tool", tmp_path) == "1.2.3"
    (tmp_path / "bad.txt").write_text("bad>=1\n")
    with pytest.raises(ValueError):
        tool_versions.pinned_version("bad", tmp_path)
