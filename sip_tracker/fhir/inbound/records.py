"""What a SIP Bundle says, as typed records: what parse.py reads and apply.py writes.

Parties are named by their entry (its index in the Bundle); apply.py turns them into units,
huvudmän and people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sip_tracker.cases.codes import (
    CaseRoleKind,
    ConsentMethod,
    NeedArea,
    Origin,
    Outcome,
    ParticipantKind,
    Response,
    Sakomrade,
    Stage,
)
from sip_tracker.fhir.inbound.bundle import Entries
from sip_tracker.people.identifiers import IdentifierKind
from sip_tracker.people.models import RelationKind

JSON = dict[str, Any]
# Who a participant is, the same in CareTeam, Appointment and Encounter: an entry
# (PractitionerRole of a unit, RelatedPerson) or, for another actor, the display.
PartyKey = tuple[str, int | str]


@dataclass(frozen=True)
class PersonData:
    path: str
    identifier: str  # 12 digits
    kind: IdentifierKind
    given_name: str
    family_name: str
    phone: str | None
    email: str | None
    address: str | None


@dataclass(frozen=True)
class RelatedData:
    entry: int
    path: str
    logical_id: str | None
    kind: RelationKind
    name: str
    relation: str | None
    identifier: str | None
    phone: str | None
    email: str | None
    address: str | None


@dataclass(frozen=True)
class OrganisationData:
    """A huvudman (it has a type) or a unit (it is partOf one), as sent."""

    entry: int
    path: str
    logical_id: str | None
    name: str
    is_huvudman: bool
    hsa_id: str | None
    hsa_path: str | None
    orgnr: str | None
    kommunkod: str | None
    part_of: int | None  # the huvudman's entry


@dataclass(frozen=True)
class RoleData:
    entry: int  # the PractitionerRole
    kind: CaseRoleKind
    unit: int  # Organization entry
    person_name: str


@dataclass(frozen=True)
class ParticipantData:
    key: PartyKey
    path: str
    kind: ParticipantKind
    entry: int | None  # the PractitionerRole (a unit) or RelatedPerson (a närstående)
    unit: int | None = None
    related: int | None = None
    name: str | None = None
    organisation: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ConsentData:
    entry: int
    path: str
    method: ConsentMethod
    given_on: date
    withdrawn_on: date | None
    guardian: int | None  # RelatedPerson entry when a vårdnadshavare gave it
    units: list[int]  # Organization entries
    other_organisations: str | None
    exclusions: str | None


@dataclass(frozen=True)
class GoalData:
    entry: int
    text: str
    outcome: Outcome | None
    status_date: date | None


@dataclass(frozen=True)
class InsatsData:
    entry: int
    path: str
    description: str
    owner: int  # Organization entry: a unit, or a huvudman
    starts_on: date | None
    ends_on: date | None
    outcome: Outcome | None


@dataclass(frozen=True)
class AtgardData:
    entry: int
    actor: str
    description: str


@dataclass(frozen=True)
class PlanData:
    goals: list[GoalData]
    insatser: list[InsatsData]
    atgarder: list[AtgardData]
    follow_up_method: str
    follow_up_on: date | None
    version: int | None
    established_at: datetime | None


@dataclass(frozen=True)
class MeetingData:
    appointment: int
    encounter: int | None
    path: str
    logical_id: str | None
    starts_at: datetime
    duration_minutes: int
    place: str | None
    video_link: str | None
    is_follow_up: bool
    kallelse_sent_at: datetime | None
    invitations: list[tuple[PartyKey, Response, str]]  # who, answer, path of the actor
    held_at: datetime | None = None
    person_attended: bool | None = None
    attended: frozenset[PartyKey] = frozenset()


@dataclass(frozen=True)
class NeedData:
    area: NeedArea
    description: str
    support: str | None


@dataclass(frozen=True)
class CaseData:
    entry: int
    path: str
    logical_id: str | None
    case_number: str | None
    stage: Stage
    stage_path: str
    origin: Origin
    utskrivningsklar_on: date | None
    sakomraden: list[Sakomrade]
    need_description: str
    what_matters: str
    needs: list[NeedData]
    created_at: datetime | None
    ended_at: datetime | None
    author: int | None  # PractitionerRole or Organization entry


@dataclass(frozen=True)
class SipBundle:
    """Everything a SIP Bundle says, by entry."""

    entries: Entries
    person: PersonData
    related: list[RelatedData]
    organisations: dict[int, OrganisationData]
    case: CaseData
    careteam: int
    roles: list[RoleData]
    participants: list[ParticipantData]
    consents: list[ConsentData]
    plan: PlanData | None
    meetings: list[MeetingData] = field(default_factory=list)
