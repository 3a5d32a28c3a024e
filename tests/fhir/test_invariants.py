"""Each invariant we check: one resource that keeps it and one that breaks it."""

from __future__ import annotations

from typing import Any

import pytest

from sip_tracker.fhir.invariants import ELE_1, INVARIANTS, check

PATIENT = {"reference": "Patient/p"}


def careplan(**fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "CarePlan",
        "id": "cp",
        "status": "active",
        "intent": "plan",
        "subject": PATIENT,
        **fields,
    }


def consent(**fields: Any) -> dict[str, Any]:
    base = {
        "resourceType": "Consent",
        "id": "c",
        "status": "active",
        "scope": {"coding": [{"system": SCOPE, "code": "patient-privacy"}]},
        "category": [{"text": "Samtycke"}],
        "patient": PATIENT,
        "policyRule": {"text": "SoL, HSL"},
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def appointment(**fields: Any) -> dict[str, Any]:
    base = {
        "resourceType": "Appointment",
        "id": "a",
        "status": "booked",
        "start": "2025-03-06T13:00:00+01:00",
        "end": "2025-03-06T14:00:00+01:00",
        "participant": [{"actor": PATIENT, "status": "accepted"}],
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def organization(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "Organization", "id": "o", **fields}


SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONTAINED_ORG = {"resourceType": "Organization", "id": "fk", "name": "Försäkringskassan"}
TEAM = {"resourceType": "CareTeam", "id": "t"}

# key: (keeps the rule, breaks it)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    ELE_1: (careplan(note=[{"text": "Ett"}]), careplan(note=[{}])),
    "dom-2": (
        careplan(contained=[CONTAINED_ORG], author={"reference": "#fk"}),
        careplan(
            contained=[{**CONTAINED_ORG, "contained": [{"resourceType": "Organization"}]}],
            author={"reference": "#fk"},
        ),
    ),
    "dom-3": (
        careplan(contained=[CONTAINED_ORG], author={"reference": "#fk"}),
        careplan(contained=[CONTAINED_ORG]),
    ),
    "dom-4": (
        careplan(contained=[CONTAINED_ORG], author={"reference": "#fk"}),
        careplan(
            contained=[{**CONTAINED_ORG, "meta": {"versionId": "2"}}],
            author={"reference": "#fk"},
        ),
    ),
    "dom-5": (
        careplan(contained=[CONTAINED_ORG], author={"reference": "#fk"}),
        careplan(
            contained=[{**CONTAINED_ORG, "meta": {"security": [{"code": "R"}]}}],
            author={"reference": "#fk"},
        ),
    ),
    "ext-1": (
        careplan(extension=[{"url": "https://x.test/a", "valueString": "ja"}]),
        careplan(
            extension=[
                {
                    "url": "https://x.test/a",
                    "valueString": "ja",
                    "extension": [{"url": "b", "valueString": "nej"}],
                }
            ]
        ),
    ),
    "ref-1": (
        careplan(contained=[CONTAINED_ORG], author={"reference": "#fk"}),
        careplan(author={"reference": "#fk"}),
    ),
    "per-1": (
        careplan(period={"start": "2025-03-01", "end": "2025-03-02"}),
        careplan(period={"start": "2025-03-02", "end": "2025-03-01"}),
    ),
    "cpt-2": (
        organization(name="Enhet", telecom=[{"system": "phone", "value": "08-123 45"}]),
        organization(name="Enhet", telecom=[{"value": "08-123 45"}]),
    ),
    "cpl-3": (
        careplan(activity=[{"reference": {"reference": "Task/t"}}]),
        careplan(
            activity=[{"reference": {"reference": "Task/t"}, "detail": {"status": "scheduled"}}]
        ),
    ),
    "ctm-1": (
        {
            **TEAM,
            "participant": [
                {"member": {"reference": "Practitioner/x"}, "onBehalfOf": {"reference": "O/1"}}
            ],
        },
        {
            **TEAM,
            "participant": [
                {"member": {"reference": "PractitionerRole/x"}, "onBehalfOf": {"reference": "O/1"}}
            ],
        },
    ),
    "gol-1": (
        {
            "resourceType": "Goal",
            "id": "g",
            "lifecycleStatus": "active",
            "description": {"text": "Sova bättre"},
            "subject": PATIENT,
            "target": [{"measure": {"text": "Timmar"}, "detailInteger": 7}],
        },
        {
            "resourceType": "Goal",
            "id": "g",
            "lifecycleStatus": "active",
            "description": {"text": "Sova bättre"},
            "subject": PATIENT,
            "target": [{"detailInteger": 7}],
        },
    ),
    "inv-1": (
        {
            "resourceType": "Task",
            "id": "t",
            "status": "ready",
            "intent": "plan",
            "authoredOn": "2025-03-01",
            "lastModified": "2025-03-02",
        },
        {
            "resourceType": "Task",
            "id": "t",
            "status": "ready",
            "intent": "plan",
            "authoredOn": "2025-03-02",
            "lastModified": "2025-03-01",
        },
    ),
    "ppc-1": (consent(), consent(policyRule=None)),
    "ppc-2": (consent(), consent(patient=None)),
    "ppc-3": (
        consent(scope={"coding": [{"system": SCOPE, "code": "research"}]}),
        consent(scope={"coding": [{"system": SCOPE, "code": "research"}]}, patient=None),
    ),
    "ppc-4": (
        consent(scope={"coding": [{"system": SCOPE, "code": "adr"}]}),
        consent(scope={"coding": [{"system": SCOPE, "code": "adr"}]}, patient=None),
    ),
    "ppc-5": (
        consent(scope={"coding": [{"system": SCOPE, "code": "treatment"}]}),
        consent(scope={"coding": [{"system": SCOPE, "code": "treatment"}]}, patient=None),
    ),
    "app-1": (
        appointment(),
        appointment(participant=[{"status": "accepted", "required": "required"}]),
    ),
    "app-2": (appointment(), appointment(end=None, status="proposed")),
    "app-3": (appointment(start=None, end=None, status="proposed"), appointment(end=None)),
    "app-4": (
        appointment(status="cancelled", cancelationReason={"text": "Sjuk"}),
        appointment(cancelationReason={"text": "Sjuk"}),
    ),
    "pat-1": (
        {"resourceType": "Patient", "id": "p", "contact": [{"name": {"text": "Jonas"}}]},
        {"resourceType": "Patient", "id": "p", "contact": [{"gender": "male"}]},
    ),
    "org-1": (organization(name="Enhet"), organization(active=True)),
    "org-2": (
        organization(name="Enhet", address=[{"use": "work", "text": "Storgatan 1"}]),
        organization(name="Enhet", address=[{"use": "home", "text": "Storgatan 1"}]),
    ),
    "org-3": (
        organization(name="Enhet", telecom=[{"system": "phone", "value": "1", "use": "work"}]),
        organization(name="Enhet", telecom=[{"system": "phone", "value": "1", "use": "home"}]),
    ),
}


def keys(resource: dict[str, Any]) -> list[str]:
    return [failure.key for failure in check(resource)]


def test_every_invariant_has_a_passing_and_a_failing_example():
    assert set(CASES) == {invariant.key for invariant in INVARIANTS} | {ELE_1}


@pytest.mark.parametrize("key", sorted(CASES))
def test_a_resource_that_keeps_the_rule_passes(key):
    kept, _broken = CASES[key]

    assert keys(kept) == []


@pytest.mark.parametrize("key", sorted(CASES))
def test_a_resource_that_breaks_the_rule_fails_on_it(key):
    _kept, broken = CASES[key]

    assert key in keys(broken)


def test_a_contained_resource_is_held_to_its_own_type_rules():
    plan = careplan(
        contained=[{"resourceType": "Organization", "id": "x", "active": True}],
        author={"reference": "#x"},
    )

    (failure,) = check(plan)

    assert (failure.key, failure.resource) == ("org-1", "CarePlan/cp#x")


def test_a_reference_with_only_a_display_keeps_ref_1():
    assert keys(careplan(author={"display": "Lisa Berg"})) == []


def test_checking_leaves_the_resource_as_it_was():
    plan = careplan(period={"start": "2025-03-01"})
    before = repr(plan)

    check(plan)

    assert repr(plan) == before
