"""Domain → FHIR R4 (declared 4.0.1, built with fhir.resources' R4B models): pure functions.

Each function reads domain objects and returns a validated fhir.resources model; nothing
is written and nothing depends on today's date, so a case always maps to the same JSON.
The data is written in FHIR's own JSON shape (element names such as ``for`` and
``class``; dates where FHIR allows a partial dateTime) and validated by the model, which
rejects unknown elements, missing required ones and wrong datatypes. Ids come from
systems.py, references are "Type/id", meta carries only the profile (the store sets
versionId and lastUpdated). Our own codes carry their Swedish labels as display whatever
the user's language. fhir_profiles/MAPPING.md is the table of what goes where, and why.

An R5 mapping would be a sibling package over the same domain functions; see FHIR.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir.resources.R4B.domainresource import DomainResource

from sip_tracker.cases.models import SipCase
from sip_tracker.fhir.outbound.common import plan_content
from sip_tracker.fhir.outbound.meetings import appointment, encounter, meeting_resources
from sip_tracker.fhir.outbound.parties import (
    careteam,
    consent,
    consents,
    organizations,
    patient,
    practitioner_roles,
    related_people,
    related_person,
)
from sip_tracker.fhir.outbound.plan import careplan, careplan_status, goals, tasks
from sip_tracker.fhir.outbound.plandefinition import activity_url, plandefinition

__all__ = [
    "activity_url",
    "appointment",
    "careplan",
    "careplan_status",
    "careteam",
    "case_resources",
    "consent",
    "consents",
    "encounter",
    "goals",
    "meeting_resources",
    "organizations",
    "patient",
    "plan_content",
    "plandefinition",
    "practitioner_roles",
    "related_person",
    "resource_json",
    "tasks",
]


def case_resources(
    case: SipCase, *, handlingsplan_activities: Sequence[str] = ()
) -> list[DomainResource]:
    """Every resource of a case, in a stable order: plan, team, goals, tasks, consents,
    the person and relatives, organisations, staff, meetings.

    handlingsplan_activities: canonical URLs of the PlanDefinitions for the county action
    plan activities the case is linked to (CarePlan extension sip-handlingsplan-activity).
    """
    return [
        careplan(case, handlingsplan_activities=handlingsplan_activities),
        careteam(case),
        *goals(case),
        *tasks(case),
        *consents(case),
        patient(case.person),
        *(related_person(r) for r in related_people(case)),
        *organizations(case),
        *practitioner_roles(case),
        *meeting_resources(case),
    ]


def resource_json(resource: DomainResource) -> dict[str, Any]:
    """FHIR JSON as plain data (model_dump() alone would keep Python dates)."""
    return resource.model_dump(mode="json")
