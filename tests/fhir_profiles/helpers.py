"""Shared helpers: the committed profile files and examples, and issue lookups."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sip_tracker.fhir import systems
from sip_tracker.fhir.validation import Issue, errors

PROFILES = Path(__file__).resolve().parents[2] / "fhir_profiles"
EXAMPLES = PROFILES / "examples"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def examples() -> list[dict[str, Any]]:
    return [load(p) for p in sorted(EXAMPLES.glob("*.json"))]


def example(resource_type: str, logical_id: str | None = None) -> dict[str, Any]:
    """A deep copy of one example, so a test can break it."""
    for resource in examples():
        if resource["resourceType"] == resource_type and logical_id in (None, resource["id"]):
            return copy.deepcopy(resource)
    raise LookupError(f"no example {resource_type}/{logical_id}")


def profile_url(profile_id: str) -> str:
    return systems.structure_definition(profile_id)


def extension(resource: dict[str, Any], ext_id: str) -> dict[str, Any]:
    url = systems.structure_definition(ext_id)
    return next(e for e in resource["extension"] if e["url"] == url)


def shown(issues: Iterable[Issue]) -> str:
    return "\n".join(str(i) for i in issues)


def error_at(issues: Iterable[Issue], path: str, *words: str) -> Issue:
    """The error at path whose message holds every word; fails with all errors shown."""
    found = errors(issues)
    for issue in found:
        if issue.path == path and all(word in issue.message for word in words):
            return issue
    raise AssertionError(f"no error at {path} with {words}; errors:\n{shown(found)}")
