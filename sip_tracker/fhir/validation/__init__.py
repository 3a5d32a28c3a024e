"""Validate FHIR R4 JSON against StructureDefinitions: the core specification and our profiles.

The validator reads the snapshots in fhir_profiles/ (ours) and fhir_profiles/base/ (the
core definitions, see fhir_profiles/README.md) and checks, for every element it meets:

- structure: unknown elements, JSON arrays exactly where the element repeats, primitive
  values of the right JSON type and matching the type's regex, no empty objects (ele-1);
- cardinality (min/max) of elements, slices, nested backbone elements and datatypes;
- fixed[x] and pattern[x] values; slicing by value/pattern discriminators, closed slicing;
- required bindings against the ValueSets we hold (core and ours), and codes of any
  CodeSystem we hold (an unknown code there is an error, a wrong display a warning);
- reference targets: the resource type a reference names must be one the element allows;
- invariants (the FHIRPath in each element's constraint, evaluated with fhirpathpy);
- extensions: the definition for the url must be known (a foreign one is a warning), its
  value type and parts as defined, and used in the context it was defined for.

What it does not do: terminology it does not hold (mimetypes, currencies, LOINC, SNOMED
...), the invariants in SKIPPED_INVARIANTS, discriminators other than value/pattern,
ordered slicing, and resolving references outside the resources it is given.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sip_tracker.fhir import systems
from sip_tracker.fhir.validation.definitions import (
    CORE,
    REFERENCE,
    Definitions,
    ElementDef,
    default_definitions,
)
from sip_tracker.fhir.validation.fhirpath import REWRITTEN_INVARIANTS, SKIPPED_INVARIANTS
from sip_tracker.fhir.validation.instance import InstanceValidation, Issue, errors

__all__ = [
    "CORE",
    "REWRITTEN_INVARIANTS",
    "SKIPPED_INVARIANTS",
    "Definitions",
    "ElementDef",
    "Issue",
    "default_definitions",
    "errors",
    "main",
    "operation_outcome",
    "validate",
    "validate_resources",
]


def validate(
    resource: Mapping[str, Any],
    profiles: Iterable[str] | None = None,
    definitions: Definitions | None = None,
) -> list[Issue]:
    """Validate a resource against its core definition and profiles; return the issues.

    Profiles default to those the resource claims in meta.profile; pass [] for the core
    definition alone. The resource is not changed.
    """
    run = InstanceValidation(definitions or default_definitions(), resource)
    run.resource(resource, str(resource.get("resourceType", "Resource")), profiles)
    return list(dict.fromkeys(run.issues))


def validate_resources(
    resources: Iterable[Mapping[str, Any]], definitions: Definitions | None = None
) -> dict[str, list[Issue]]:
    """Validate each resource, and check that references between them reach resources
    that conform to the profiles the referring element asks for. Keyed by Type/id."""
    definitions = definitions or default_definitions()
    by_key = {f"{r.get('resourceType')}/{r.get('id')}": r for r in resources}
    report = {key: validate(r, definitions=definitions) for key, r in by_key.items()}
    conforms: dict[tuple[str, str], bool] = {}
    for key, resource in by_key.items():
        for profile in resource.get("meta", {}).get("profile", []):
            tree = definitions.tree(profile)
            if tree is None:
                continue
            for path, target, wanted in _profiled_references(tree, resource, str(tree.path)):
                ours = [w for w in wanted if w.startswith(systems.CANONICAL)]
                if target not in by_key or not ours:
                    continue
                ok = False
                for profile_url in ours:
                    cache_key = (target, profile_url)
                    if cache_key not in conforms:
                        conforms[cache_key] = not errors(
                            validate(by_key[target], [profile_url], definitions)
                        )
                    ok = ok or conforms[cache_key]
                if not ok:
                    report[key].append(
                        Issue(
                            "error",
                            path,
                            f"{target} does not conform to {' or '.join(ours)}",
                            "value",
                        )
                    )
    return report


def _profiled_references(
    element: ElementDef, value: Any, path: str
) -> Iterator[tuple[str, str, list[str]]]:
    """(path, Type/id, target profiles) of each relative reference the profile constrains."""
    if not isinstance(value, dict):
        return
    for child in element.children:
        items = value.get(child.name)
        if items is None:
            continue
        for index, item in enumerate(items if isinstance(items, list) else [items]):
            item_path = f"{path}.{child.name}" + (f"[{index}]" if isinstance(items, list) else "")
            targets = [t for ref in child.types for t in ref.targets]
            if targets and isinstance(item, dict) and isinstance(item.get("reference"), str):
                match = REFERENCE.match(item["reference"])
                if match:
                    yield item_path, f"{match['type']}/{match['id']}", targets
            if child.children:
                yield from _profiled_references(child, item, item_path)


def operation_outcome(issues: Iterable[Issue]) -> dict[str, Any]:
    """The issues as an OperationOutcome (JSON); one informational issue when there are none."""
    entries = [
        {
            "severity": issue.severity,
            "code": issue.code,
            "diagnostics": issue.message,
            # A slice name is not FHIRPath: the location is the sliced element.
            "expression": [re.sub(r":[^.\[]+", "", issue.path)],
        }
        for issue in issues
    ]
    if not entries:
        entries = [{"severity": "information", "code": "informational", "diagnostics": "No issues"}]
    return {"resourceType": "OperationOutcome", "issue": entries}


def main(argv: list[str] | None = None) -> int:
    """Validate JSON files from the command line: `python -m sip_tracker.fhir.validation`."""
    parser = argparse.ArgumentParser(description="Validate FHIR R4 JSON against the SIP profiles")
    parser.add_argument("files", nargs="+", type=Path, help="resources or Bundles, JSON")
    parser.add_argument("--profile", action="append", help="a profile URL (default: meta.profile)")
    args = parser.parse_args(argv)
    failed = False
    for file in args.files:
        issues = validate(json.loads(file.read_text(encoding="utf-8")), args.profile)
        for issue in issues:
            print(f"{file}: {issue}")
        failed = failed or bool(errors(issues))
    return 1 if failed else 0
