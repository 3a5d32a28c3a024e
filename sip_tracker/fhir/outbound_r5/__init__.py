"""Domain → FHIR R5 (5.0.0, fhir.resources' root package): the same resources as the R4
mapping, in R5's shape.

One mapping pass reads the domain objects (sip_tracker.fhir.outbound); its R4 JSON is the
building block, and this module changes only what R5 changed, resource by resource, so the
two versions cannot drift apart in content. Each result is validated by the fhir.resources
R5 model (unknown and missing required elements, datatypes). Our profiles and validator
are R4 (4.0.1): R5 output claims no profile (no meta.profile) and is not checked against
them, nor its codes against R5 value sets.

What differs from R4 here:
- CarePlan: author → custodian; activity.reference → activity.plannedActivityReference.
- CareTeam: participant.role is one CodeableConcept (the SIP role and participant kind
  become two codings of it).
- Consent: decision (deny by default, the permitted units are the exception in provision;
  the exclusions an exception to that), subject, date, grantor (who consented), grantee
  (the units), manager (the initiating unit), regulatoryBasis; scope becomes a category.
- Appointment: participant.required is a boolean; subject the person; the video link is
  a virtualService, not a contained virtual Location.
- Encounter: class is a list of CodeableConcept, participant.individual → actor (the
  person too, when present), period → actualPeriod, status finished → completed.
- PractitionerRole and a contained Organization: telecom / contact.name move into
  ExtendedContactDetail.
- Goal: expressedBy → source.
- Task, Patient, RelatedPerson, Organization, PlanDefinition: the same JSON.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from typing import Any

from fhir.resources.R4B.resource import Resource as R4Resource
from fhir.resources.resource import Resource as R5Resource

from sip_tracker.fhir import systems as fs

JSON = dict[str, Any]
FHIR_VERSION = fs.FHIR_VERSION_R5


def _careplan(body: JSON) -> JSON:
    if "author" in body:
        body["custodian"] = body.pop("author")
    body["activity"] = [
        {"plannedActivityReference": activity["reference"]}
        for activity in body.get("activity", [])
        if "reference" in activity
    ]
    return body


def _careteam(body: JSON) -> JSON:
    for participant in body.get("participant", []):
        roles = participant.pop("role", [])
        if roles:
            codings = [c for role in roles for c in role.get("coding", [])]
            participant["role"] = {"coding": codings}
    for contained in body.get("contained", []):
        _contact_details(contained)
    return body


def _goal(body: JSON) -> JSON:
    if "expressedBy" in body:
        body["source"] = body.pop("expressedBy")
    return body


def _contact_details(organization: JSON) -> None:
    """R5 Organization.contact is an ExtendedContactDetail: its name is a list."""
    for contact in organization.get("contact", []):
        if "name" in contact:
            contact["name"] = [contact["name"]]


def _consent(body: JSON) -> JSON:
    provision = body.pop("provision", {})
    exceptions: JSON = {"actor": provision.get("actor", [])}
    nested = [{"code": p["code"]} for p in provision.get("provision", []) if p.get("code")]
    if nested:
        exceptions["provision"] = nested
    units = [a["reference"] for a in exceptions["actor"] if "reference" in a.get("reference", {})]
    scope = body.pop("scope", None)
    result: JSON = {
        "resourceType": "Consent",
        "id": body["id"],
        "meta": body.get("meta"),
        "extension": body.get("extension"),
        "status": body["status"],
        "category": [*body.get("category", []), *([scope] if scope else [])],
        "subject": body.get("patient"),
        "date": body.get("dateTime"),
        "period": provision.get("period"),
        "grantor": body.get("performer"),
        "grantee": units or None,
        "manager": body.get("organization"),
        "regulatoryBasis": [body["policyRule"]] if "policyRule" in body else None,
        # Nothing is shared but with the units named: they are the exception, and what the
        # person excluded is an exception to that.
        "decision": "deny",
        "provision": [exceptions] if exceptions["actor"] or nested else None,
    }
    return {key: value for key, value in result.items() if value is not None}


def _appointment(body: JSON) -> JSON:
    # R5 has a place for the video link: virtualService, not a virtual Location.
    video = next((c for c in body.get("contained", []) if c.get("id") == "video"), None)
    if video is not None:
        body["contained"] = [c for c in body["contained"] if c is not video]
        body["participant"] = [
            p for p in body["participant"] if p.get("actor", {}).get("reference") != "#video"
        ]
        body["virtualService"] = [
            {"addressUrl": t["value"]} for t in video.get("telecom", []) if t["system"] == "url"
        ]
    for participant in body.get("participant", []):
        participant["required"] = participant.get("required", "required") != "information-only"
    patient = next(
        (
            p["actor"]
            for p in body.get("participant", [])
            if p.get("actor", {}).get("reference", "").startswith("Patient/")
        ),
        None,
    )
    if patient is not None:
        body["subject"] = patient
    return body


def _encounter(body: JSON) -> JSON:
    if "class" in body:
        body["class"] = [{"coding": [body["class"]]}]
    if "period" in body:
        body["actualPeriod"] = body.pop("period")
    if body.get("status") == "finished":
        body["status"] = "completed"
    participants = []
    attended = next(
        (
            e.get("valueBoolean")
            for e in body.get("extension", [])
            if e["url"] == fs.structure_definition(fs.EXT_PERSON_ATTENDED)
        ),
        False,
    )
    if attended and "subject" in body:
        participants.append({"actor": body["subject"]})  # R5 lets the person be a participant
    for participant in body.get("participant", []):
        moved = {k: v for k, v in participant.items() if k != "individual"}
        if "individual" in participant:
            moved["actor"] = participant["individual"]
        participants.append(moved)
    if participants:
        body["participant"] = participants
    return body


def _practitioner_role(body: JSON) -> JSON:
    telecom = body.pop("telecom", None)
    if telecom:
        body["contact"] = [{"telecom": telecom}]
    return body


def _same(body: JSON) -> JSON:
    return body


CONVERSIONS: dict[str, Callable[[JSON], JSON]] = {
    "CarePlan": _careplan,
    "CareTeam": _careteam,
    "Goal": _goal,
    "Task": _same,
    "Consent": _consent,
    "Patient": _same,
    "RelatedPerson": _same,
    "Organization": _same,
    "PractitionerRole": _practitioner_role,
    "Appointment": _appointment,
    "Encounter": _encounter,
    "PlanDefinition": _same,
}


def r5_model(resource_type: str) -> type[R5Resource]:
    """The fhir.resources R5 model class of a resource type."""
    module = importlib.import_module(f"fhir.resources.{resource_type.lower()}")
    model: type[R5Resource] = getattr(module, resource_type)
    return model


def r5_json(r4: JSON) -> JSON:
    """R4 JSON of one of our resources as R5 JSON, without a profile claim (not validated)."""
    body = copy.deepcopy(r4)
    meta = {k: v for k, v in body.pop("meta", {}).items() if k != "profile"}
    converted = CONVERSIONS[body["resourceType"]](body)
    if meta:
        converted["meta"] = meta
    else:
        converted.pop("meta", None)
    return {k: v for k, v in converted.items() if v not in (None, [], {})}


def to_r5(resource: R4Resource) -> R5Resource:
    """The R5 edition of a resource the R4 mapping built, validated by the R5 model."""
    body = r5_json(resource.model_dump(mode="json", exclude_none=True))
    return r5_model(body["resourceType"]).model_validate(body)
