"""A small check that release output is an empty document or a YAML mapping.

No YAML library is needed for what bin/release prints: nothing, or
`key:` lines at the top level.
"""

from __future__ import annotations

import re


def assert_yaml_mapping_or_empty(text: str) -> None:
    lines = [l for l in text.splitlines() if l.strip() and not l.startswith("#")]
    if lines and lines[0] == "---":
        lines = lines[1:]
    if not lines or lines == ["{}"]:
        return
    assert re.match(r"^[A-Za-z_][\w-]*:", lines[0]), f"not a YAML mapping:\n{text}"
