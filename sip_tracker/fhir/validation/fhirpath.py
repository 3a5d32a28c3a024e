"""Invariants: the FHIRPath of each constraint, evaluated with fhirpathpy."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from fhirpathpy import apply_parsed_path
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models
from fhirpathpy.parser import parse

_MODEL = models["r4"]

# Invariants not evaluated, and why. ele-1 is checked natively (same rule, and it holds
# for every element, so evaluating the FHIRPath for each would dominate the run time).
SKIPPED_INVARIANTS: dict[str, str] = {
    "ele-1": "checked natively: every object needs a value or a child besides id",
    "txt-1": "htmlChecks() is not implemented by fhirpathpy; the div is checked to be XHTML",
    "txt-2": "htmlChecks() is not implemented by fhirpathpy",
    "rng-2": "fhirpathpy cannot compare two Quantity values (low <= high)",
}

# Invariants evaluated in an equivalent form fhirpathpy accepts: (expression, why).
REWRITTEN_INVARIANTS: dict[str, tuple[str, str]] = {
    "dom-3": (
        "contained.where((('#'+id in (%resource.descendants().reference"
        " | %resource.descendants().ofType(canonical) | %resource.descendants().ofType(uri)"
        " | %resource.descendants().ofType(url))) or descendants().where(reference = '#').exists()"
        " or descendants().where(ofType(canonical) = '#').exists()"
        " or descendants().where(ofType(uri) = '#').exists()).not()).empty()",
        "as() on a collection is an error in fhirpathpy; ofType() is what is meant",
    ),
}


@cache
def _parsed(expression: str) -> Any:
    return parse(expression)


def _has_value(inputs: list[Any]) -> list[bool]:
    """FHIRPath hasValue(), which fhirpathpy lacks: a single primitive with a value."""
    return [len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], dict)]


def engine_options(resolve: Callable[[list[Any]], list[Any]]) -> dict[str, Any]:
    """fhirpathpy options: the functions it lacks (hasValue, resolve), and a quiet trace()."""
    return {
        "userInvocationTable": {"hasValue": {"fn": _has_value}, "resolve": {"fn": resolve}},
        "traceFn": lambda label, result: None,
    }


def evaluate(
    key: str,
    expression: str,
    value: Any,
    base: str | None,
    variables: dict[str, Any],
    options: dict[str, Any],
) -> list[Any]:
    """The result of an invariant's expression on value (of FHIR type or path base)."""
    expression = REWRITTEN_INVARIANTS.get(key, (expression, ""))[0]
    node = ResourceNode.create_node(value, base)
    return list(apply_parsed_path(node, _parsed(expression), variables, _MODEL, options))
