"""Builders shared by the outbound mapping: codings, references, and the plan's content."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import force_locale

from sip_tracker.cases.codes import (
    CASE_ROLE_LABELS,
    OUTCOME_LABELS,
    PARTICIPANT_KIND_LABELS,
    CaseRoleKind,
    Outcome,
    ParticipantKind,
)
from sip_tracker.cases.models import CaseRole, SipCase
from sip_tracker.fhir import systems as fs
from sip_tracker.i18n import local_datetime
from sip_tracker.people.models import Person
from sip_tracker.plans.models import Evaluation, PlanVersion

JSON = dict[str, Any]

SIP_DISPLAY = "Samordnad individuell plan"
PARTICIPANT_ROLE = "deltagare"  # CS_ROLE: on the team without a case role


def sv(label: object) -> str:
    """A lazy label in Swedish, the language of our code systems, whoever is signed in."""
    with force_locale("sv"):
        return str(label)


def coding(system: str, code: str, display: str | None = None) -> JSON:
    return {"system": system, "code": code, "display": display}


def concept(system: str, code: str, display: str | None = None) -> JSON:
    return {"coding": [coding(system, code, display)]}


def ref(resource_type: str, logical_id: str) -> JSON:
    return {"reference": f"{resource_type}/{logical_id}"}


def meta(profile: str) -> JSON:
    """Only the profile: the store sets versionId and lastUpdated."""
    return {"profile": [fs.structure_definition(profile)]}


def ext(name: str, **value: Any) -> JSON:
    """One of our extensions by id ("sip-…"), or a part of a complex one by its short name."""
    return {"url": fs.structure_definition(name) if name.startswith("sip-") else name, **value}


def telecom(phone: str | None, email: str | None) -> list[JSON] | None:
    points = [{"system": "phone", "value": phone}] if phone else []
    points += [{"system": "email", "value": email}] if email else []
    return points or None


def moment(stored: datetime | None) -> datetime | None:
    """A stored UTC moment as Stockholm wall-clock time with its offset."""
    return local_datetime(stored) if stored else None


def patient_ref(person: Person) -> JSON:
    return ref("Patient", fs.patient_id(person.id))


def unit_ref(unit_id: int) -> JSON:
    return ref("Organization", fs.organization_id_for_unit(unit_id))


def huvudman_ref(huvudman_id: int) -> JSON:
    return ref("Organization", fs.organization_id_for_huvudman(huvudman_id))


def careplan_ref(case: SipCase) -> JSON:
    return ref("CarePlan", fs.careplan_id(case.id))


def role_ref(case: SipCase, role: CaseRole) -> JSON:
    return ref("PractitionerRole", fs.practitioner_role_id(case.id, role.kind))


def roles_in_order(case: SipCase) -> list[CaseRole]:
    """Initiativtagare, mötesledare, huvudansvarig: those the case has."""
    return [role for kind in CaseRoleKind if (role := case.role(kind)) is not None]


def role_concepts(role: str, kind: ParticipantKind | None = None) -> list[JSON]:
    """The SIP role (CS_ROLE) and, for a participant, what kind of participant it is."""
    label = "Deltagare" if role == PARTICIPANT_ROLE else sv(CASE_ROLE_LABELS[CaseRoleKind(role)])
    concepts = [concept(fs.CS_ROLE, role, label)]
    if kind is not None:
        kind_label = sv(PARTICIPANT_KIND_LABELS[kind])
        concepts.append(concept(fs.CS_PARTICIPANT_KIND, kind, kind_label))
    return concepts


def outcome_coding(outcome: Outcome) -> JSON:
    return coding(fs.CS_OUTCOME, outcome, sv(OUTCOME_LABELS[outcome]))


# --- The plan's content: the latest established version, else the draft -------------------
@dataclass(frozen=True)
class PlanInsats:
    description: str
    huvudman_id: int
    unit_id: int | None
    starts_on: date | None
    ends_on: date | None


@dataclass(frozen=True)
class PlanContent:
    """What the plan says, read alike from a frozen version or from the draft."""

    version: PlanVersion | None
    goals: list[str]
    insatser: list[PlanInsats]
    atgarder: list[tuple[str, str]]  # (actor, description)
    follow_up_method: str
    follow_up_on: date | None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def plan_content(case: SipCase) -> PlanContent | None:
    """The plan as agreed (the latest PlanVersion.content), or the draft before the first.

    Positions in the version give the Goal and Task ids, so they hold as long as the version
    does. A draft is shared as a draft: CarePlan, Goals and Tasks all say so in their status.
    """
    plan = case.plan
    if plan is None:
        return None
    version = plan.current_version
    if version is None:
        return PlanContent(
            version=None,
            goals=[g.text for g in plan.goals],
            insatser=[
                PlanInsats(i.description, i.huvudman_id, i.unit_id, i.starts_on, i.ends_on)
                for i in plan.insatser
            ],
            atgarder=[(a.actor, a.description) for a in plan.atgarder],
            follow_up_method=plan.follow_up_method,
            follow_up_on=plan.follow_up_on,
        )
    content = version.content
    return PlanContent(
        version=version,
        goals=list(content["goals"]),
        insatser=[
            PlanInsats(
                i["description"],
                i["huvudman_id"],
                i["unit_id"],
                _day(i["starts_on"]),
                _day(i["ends_on"]),
            )
            for i in content["insatser"]
        ],
        atgarder=[(a["actor"], a["description"]) for a in content["atgarder"]],
        follow_up_method=content["follow_up_method"],
        follow_up_on=version.follow_up_on,
    )


def next_follow_up_on(case: SipCase, content: PlanContent) -> date | None:
    """When the plan is next followed up: the last follow-up's next date, else the plan's."""
    if content.version is not None and case.follow_ups and case.follow_ups[-1].next_follow_up_on:
        return case.follow_ups[-1].next_follow_up_on
    return content.follow_up_on


def latest_evaluation(
    case: SipCase, content: PlanContent, subject: str, text: str
) -> tuple[Evaluation, date] | None:
    """The latest follow-up's judgement of one goal or insats of the current version."""
    if content.version is None:
        return None
    for follow_up in reversed(case.follow_ups):
        if follow_up.plan_version_id != content.version.id:
            continue
        for evaluation in follow_up.evaluations:
            if evaluation.subject == subject and evaluation.subject_text == text:
                return evaluation, follow_up.held_on
    return None
