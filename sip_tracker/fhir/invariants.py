"""The FHIR R4 invariants that matter for the resources we send, checked with FHIRPath.

fhir.resources checks structure and datatypes but no invariant (FHIR.md), so this module
evaluates the R4 (4.0.1) constraints of the elements we emit with fhirpathpy: each rule
applies to the nodes its context selects, and a node fails when the expression is false
for it. An empty result passes: R4's expressions were written for engines that give false
where FHIRPath gives empty, e.g. ref-1 on a reference that has only a display.

Expressions are the specification's own, except where fhirpathpy lacks a function or the
specification's expression is known to be wrong; ``adapted`` says what changed and why.
ele-1 is checked natively: its FHIRPath needs hasValue(), which fhirpathpy lacks.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhirpathpy import compile as compile_fhirpath
from fhirpathpy.models import models

MODEL = models["r4"]
ANY = "*"  # an invariant of a datatype or of every resource


@dataclass(frozen=True)
class Invariant:
    resource_type: str  # the resource it belongs to, or ANY
    key: str
    context: str  # FHIRPath from the resource to the nodes it constrains; "" = the resource
    expression: str
    human: str
    adapted: str | None = None  # how and why the expression differs from R4's


@dataclass(frozen=True)
class Failure:
    key: str
    human: str
    resource: str  # "Type/id", or "Type/id#contained" for a contained resource
    node: Any  # the element that broke the rule; None when it is the resource itself

    def __str__(self) -> str:
        where = "" if self.node is None else f" at {self.node!r}"
        return f"{self.resource}: {self.key} {self.human}{where}"


_CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
_SCOPE_NOTE = (
    "R4 tests system='something' (an error in the published expression, so the rule could"
    " never fire); the consentscope system is what it means"
)


def _scope_rule(key: str, code: str, label: str) -> Invariant:
    return Invariant(
        "Consent",
        key,
        "",
        f"patient.exists() or scope.coding.where(system='{_CONSENT_SCOPE}'"
        f" and code='{code}').exists().not()",
        f"IF Scope={label}, there must be a patient",
        _SCOPE_NOTE,
    )


INVARIANTS: tuple[Invariant, ...] = (
    # DomainResource: every resource we send.
    Invariant(
        ANY,
        "dom-2",
        "",
        "contained.contained.empty()",
        "If the resource is contained in another resource, it SHALL NOT contain nested Resources",
    ),
    Invariant(
        ANY,
        "dom-3",
        "",
        "contained.where((('#'+id in (%resource.descendants().reference"
        " | %resource.descendants().ofType(canonical) | %resource.descendants().ofType(uri)"
        " | %resource.descendants().ofType(url))) or descendants().where(reference = '#').exists()"
        " or descendants().where(as(canonical) = '#').exists()"
        " or descendants().where(as(canonical) = '#').exists()).not()).empty()",
        "If the resource is contained in another resource, it SHALL be referred to from"
        " elsewhere in the resource or SHALL refer to the containing resource",
        "R4 applies as() to a collection, which FHIRPath (and fhirpathpy) refuse: ofType()"
        " there; without trace('unmatched', id), which only logs",
    ),
    Invariant(
        ANY,
        "dom-4",
        "",
        "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()",
        "If a resource is contained in another resource, it SHALL NOT have a meta.versionId"
        " or a meta.lastUpdated",
    ),
    Invariant(
        ANY,
        "dom-5",
        "",
        "contained.meta.security.empty()",
        "If a resource is contained in another resource, it SHALL NOT have a security label",
    ),
    # Datatypes, wherever they occur.
    Invariant(
        ANY,
        "ext-1",
        "descendants().ofType(Extension)",
        "extension.exists() != value.exists()",
        "Must have either extensions or value[x], not both",
    ),
    Invariant(
        ANY,
        "ref-1",
        "descendants().ofType(Reference)",
        "reference.startsWith('#').not() or (reference.substring(1) in %rootResource.contained.id)",
        "SHALL have a contained resource if a local reference is provided",
        "without R4's trace('url') and trace('ids'), which only log",
    ),
    Invariant(
        ANY,
        "per-1",
        "descendants().ofType(Period)",
        "start.exists().not() or end.exists().not() or (start <= end)",
        "If present, start SHALL have a lower value than end",
        "hasValue() → exists(): fhirpathpy has no hasValue(); the same for JSON values",
    ),
    Invariant(
        ANY,
        "cpt-2",
        "descendants().ofType(ContactPoint)",
        "value.empty() or system.exists()",
        "A system is required if a value is provided.",
    ),
    # The resources we send.
    Invariant(
        "CarePlan",
        "cpl-3",
        "activity",
        "detail.empty() or reference.empty()",
        "Provide a reference or detail, not both",
    ),
    Invariant(
        "CareTeam",
        "ctm-1",
        "participant",
        "onBehalfOf.exists() implies"
        " (member.reference.empty() or member.reference.startsWith('Practitioner/'))",
        "CareTeam.participant.onBehalfOf can only be populated when"
        " CareTeam.participant.member is a Practitioner",
        "R4: member.resolve().iif(empty(), true, ofType(Practitioner).exists()); fhirpathpy"
        " has no resolve(), so the reference's type is read from its literal",
    ),
    Invariant(
        "Goal",
        "gol-1",
        "target",
        "(detail.exists() and measure.exists()) or detail.exists().not()",
        "Goal.target.measure is required if Goal.target.detail is populated",
    ),
    Invariant(
        "Task",
        "inv-1",
        "",
        "lastModified.exists().not() or authoredOn.exists().not() or lastModified >= authoredOn",
        "Last modified date must be greater than or equal to authored-on date.",
    ),
    Invariant(
        "Consent",
        "ppc-1",
        "",
        "policy.exists() or policyRule.exists()",
        "Either a Policy or PolicyRule",
    ),
    _scope_rule("ppc-2", "patient-privacy", "privacy"),
    _scope_rule("ppc-3", "research", "research"),
    _scope_rule("ppc-4", "adr", "adr"),
    _scope_rule("ppc-5", "treatment", "treatment"),
    Invariant(
        "Appointment",
        "app-1",
        "participant",
        "type.exists() or actor.exists()",
        "Either the type or actor on the participant SHALL be specified",
    ),
    Invariant(
        "Appointment",
        "app-2",
        "",
        "start.exists() = end.exists()",
        "Either start and end are specified, or neither",
    ),
    Invariant(
        "Appointment",
        "app-3",
        "",
        "(start.exists() and end.exists()) or (status in ('proposed' | 'cancelled' | 'waitlist'))",
        "Only proposed or cancelled appointments can be missing start/end dates",
    ),
    Invariant(
        "Appointment",
        "app-4",
        "",
        "Appointment.cancelationReason.exists() implies"
        " (Appointment.status='no-show' or Appointment.status='cancelled')",
        "Cancelation reason is only used for appointments that have been cancelled, or no-show",
    ),
    Invariant(
        "Patient",
        "pat-1",
        "contact",
        "name.exists() or telecom.exists() or address.exists() or organization.exists()",
        "SHALL at least contain a contact's details or a reference to an organization",
    ),
    Invariant(
        "Organization",
        "org-1",
        "",
        "(identifier.count() + name.count()) > 0",
        "The organization SHALL at least have a name or an identifier, and possibly more than one",
    ),
    Invariant(
        "Organization",
        "org-2",
        "address",
        "where(use = 'home').empty()",
        "An address of an organization can never be of use 'home'",
    ),
    Invariant(
        "Organization",
        "org-3",
        "telecom",
        "where(use = 'home').empty()",
        "The telecom of an organization can never be of use 'home'",
    ),
)
ELE_1 = "ele-1"
ELE_1_HUMAN = "All FHIR elements must have a @value or children"


@cache
def _compiled(invariant: Invariant) -> Any:
    """The FHIRPath that returns the nodes breaking the rule (all of them, or the resource)."""
    failing = f"({invariant.expression}).not()"
    if invariant.context:
        return compile_fhirpath(f"{invariant.context}.where({failing})", MODEL)
    return compile_fhirpath(f"where({failing})", MODEL)


def _applies(invariant: Invariant, resource_type: str, *, contained: bool) -> bool:
    if invariant.resource_type == ANY:
        return not contained  # evaluated once, over the container and all it contains
    return invariant.resource_type == resource_type


def check(
    resource: Mapping[str, Any], invariants: tuple[Invariant, ...] = INVARIANTS
) -> list[Failure]:
    """Every invariant the resource (JSON) and the resources it contains break."""
    root = copy.deepcopy(dict(resource))  # fhirpathpy annotates what it is given
    name = f"{root.get('resourceType')}/{root.get('id')}"
    failures = [Failure(ELE_1, ELE_1_HUMAN, name, node) for node in empty_elements(resource)]
    targets = [(root, name, False)] + [
        (inner, f"{name}#{inner.get('id')}", True) for inner in root.get("contained", [])
    ]
    env = {"resource": root, "rootResource": root}
    for target, label, contained in targets:
        for invariant in invariants:
            if not _applies(invariant, str(target.get("resourceType")), contained=contained):
                continue
            for node in _compiled(invariant)(target, {**env, "resource": target}):
                shown = node if invariant.context else None  # not the whole resource again
                failures.append(Failure(invariant.key, invariant.human, label, shown))
    return failures


def empty_elements(value: Any, *, top: bool = True) -> Iterator[Any]:
    """ele-1: an object with nothing but an id (or a type), an empty list or an empty string."""
    if isinstance(value, Mapping):
        if not top and not set(value) - {"id", "resourceType"}:
            yield value
        for item in value.values():
            yield from empty_elements(item, top=False)
    elif isinstance(value, list):
        if not value:
            yield value
        for item in value:
            yield from empty_elements(item, top=False)
    elif value == "":
        yield value
