"""The CycloneDX JSON schema (test/cyclonedx/), for the unit and integration
tests that check the SBOM (test_sbom.py in both)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "cyclonedx"
SCHEMA = "bom-1.7.SNAPSHOT.schema.json"
# The schemas' own base: the main schema's $id, against which its
# references ("spdx.SNAPSHOT.schema.json") resolve.
BASE = "http://cyclonedx.org/schema/"


@lru_cache(maxsize=1)
def validator() -> Draft7Validator:
    """A validator of the vendored schema, offline: each file is known by the
    URL the main schema's references resolve to. Formats (date-time, ...) are
    checked where jsonschema can without optional packages."""
    schemas = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in SCHEMA_DIR.glob("*.json")}
    registry = Registry().with_resources(
        (BASE + name, Resource.from_contents(schema, default_specification=DRAFT7))
        for name, schema in schemas.items()
    )
    return Draft7Validator(schemas[SCHEMA], registry=registry, format_checker=FormatChecker())


def problems(document: Any) -> list[str]:
    """What makes `document` not a valid CycloneDX 1.7 BOM, one line each;
    also what the schema can't say: every bom-ref unique."""
    found = [f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message[:300]}"
             for error in validator().iter_errors(document)]
    refs = [component.get("bom-ref") for component in document.get("components", [])]
    found += [f"bom-ref {ref!r} is used twice" for ref in {ref for ref in refs if refs.count(ref) > 1}]
    return found
