"""The worlds the access matrix and the audit walk ask in: organisations, users, tokens and
cases in every relation (build_world), and one case for the audit walk (build_place).

kommun K: units A1 (starts the cases) and A2; region R: B1 (invited to C, covered by the
consent) and B2; kommun K2: D (takes no part in C; has its own case Y for C's person, under
consent); K3: E (invited to C, NOT covered by the consent; its own case Z for C's person,
without consent); K4: F (was covered by W's consent, since withdrawn).

Cases, each with a held meeting, an established plan, a follow-up meeting whose kallelse is
sent and spare participants, so that every id route has a real target:
C open and shared A1→B1; W (person Q) shared A1→F, consent withdrawn; X (person S) shared
A1→B1, closed. Y and Z (person P, as C) are what units D and E started with "Nytt ärende".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from sip_tracker import clock
from sip_tracker.audit.models import AuditEvent
from sip_tracker.audit.services import draw_sample
from sip_tracker.auth.models import Role, User
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import (
    CaseRoleKind,
    ConsentGiver,
    ConsentMethod,
    ParticipantKind,
    Response,
    Sakomrade,
)
from sip_tracker.cases.models import Participant, SipCase
from sip_tracker.db import db, utcnow
from sip_tracker.fhir.tokens import issue_token, revoke_token
from sip_tracker.handlingsplan import services as handlingsplan
from sip_tracker.handlingsplan.models import ActivityStatus
from sip_tracker.inbox.models import InboxKind
from sip_tracker.inbox.services import notify
from sip_tracker.meetings import services as meetings
from sip_tracker.messages import services as messages
from sip_tracker.organizations.models import HuvudmanKind, Unit
from sip_tracker.people.identifiers import format_identifier
from sip_tracker.people.models import RelationKind
from sip_tracker.people.services import add_related_person
from sip_tracker.plans import services as plans
from tests.factories import Factory, personnummer

# Who asks, for the HTML pages: a samordnare at each unit, two granskare, an administrator.
SAMORDNARE = ("A1", "A2", "B1", "B2", "D", "E", "F")
USERS = (*SAMORDNARE, "granskare-A1", "granskare-D", "admin-A2")
ANONYMOUS = "anonym"
EVERYONE = (*USERS, ANONYMOUS)

# Who asks, for the FHIR API: tokens by organisation and scope, a revoked one and none.
TOKENS = ("K-read", "K-write", "R-read", "R-write-only", "K2", "K3", "K4", "revoked")
NO_TOKEN = "no-token"
EVERY_TOKEN = (*TOKENS, NO_TOKEN)


@dataclass
class Furnished:
    """A case's ids that its routes name."""

    case_id: int
    person_id: int
    meeting_id: int  # the follow-up meeting: kallelse sent, not held
    version: int
    participant_id: int  # invited to the meetings, so it cannot be removed
    message_id: int  # the initiating unit's, asking the partners for kvittens
    # Participants invited to nothing, one per user who may remove one, so that each
    # removal in the matrix has its own target.
    spares: dict[str, int] = field(default_factory=dict)


@dataclass
class World:
    users: dict[str, int]
    tokens: dict[str, str]
    cases: dict[str, Furnished]
    case_ids: dict[str, int]  # the furnished cases' and Y's and Z's
    persons: dict[str, int]
    # What the other routes name: a unit, a user, an activity, action plan codes …
    named: dict[str, object]
    # The persons' names, numbers and telephone: no refusal may show them.
    secrets: list[str]


def _ago(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def furnish(
    case: SipCase, user: User, partners: list[Unit], *, spares_for: tuple[str, ...] = ()
) -> Furnished:
    """Take the case through consent, a held meeting and an established plan, and call a
    follow-up meeting; partners are invited and covered by the consent."""
    cases.start_preparation(case, user=user)
    invited = [
        cases.add_participant(case, user=user, kind=ParticipantKind.ENHET, unit=unit)
        for unit in partners
    ]
    neighbour = cases.add_participant(
        case, user=user, kind=ParticipantKind.ANNAN, name="Grannen Bo Ström"
    )
    invited.append(neighbour)
    cases.record_consent(
        case,
        user=user,
        given_by=ConsentGiver.PERSON,
        guardian=None,
        method=ConsentMethod.SKRIFTLIGT,
        given_on=clock.today() - timedelta(days=10),
        units=[user.unit, *partners],
        other_organisations=None,
        exclusions=None,
    )
    first = meetings.schedule_meeting(
        case,
        user=user,
        starts_at=_ago(3),
        duration_minutes=60,
        place="Mötesrum 1",
        video_link=None,
        participants=invited,
        allow_past=True,
    )
    meetings.send_kallelse(case, first, user=user, at=_ago(8))
    meetings.record_responses(
        case, first, user=user, responses={i.id: Response.KOMMER for i in first.invitations}
    )
    meetings.record_meeting_held(
        case,
        first,
        user=user,
        held_at=_ago(2),
        person_attended=True,
        attended={i.id: True for i in first.invitations},
        notes=None,
    )
    cases.set_role(
        case, user=user, kind=CaseRoleKind.HUVUDANSVARIG, unit=user.unit, person_name=user.name
    )
    plan = plans.plan_for(case)
    plans.save_plan(
        case,
        user=user,
        lock_version=plan.lock_version,
        goals=["Jag vill bo kvar hemma."],
        insatser=[plans.InsatsInput("Hemtjänst", user.unit.huvudman, user.unit)],
        atgarder=[],
        follow_up_method="Uppföljande SIP-möte.",
        follow_up_on=clock.today() + timedelta(days=90),
    )
    version = plans.establish_plan(case, user=user)
    follow_up = meetings.schedule_meeting(
        case,
        user=user,
        starts_at=utcnow() + timedelta(days=30),
        duration_minutes=60,
        place="Mötesrum 2",
        video_link=None,
        participants=invited,
    )
    meetings.send_kallelse(case, follow_up, user=user, at=_ago(1))
    message = messages.send_message(
        case, user=user, body="Kallelsen till uppföljningen är skickad.", receipt_requested=True
    )
    spares = {who: _spare(case, user, who).id for who in spares_for}
    return Furnished(
        case.id, case.person_id, follow_up.id, version.number, neighbour.id, message.id, spares
    )


def _spare(case: SipCase, user: User, who: str) -> Participant:
    return cases.add_participant(
        case, user=user, kind=ParticipantKind.ANNAN, organisation=f"Reserv för {who}"
    )


def _close(case: SipCase, user: User) -> None:
    cases.close_case(case, user=user, reason="Målen är nådda.")


def _withdraw(case: SipCase, user: User) -> None:
    cases.withdraw_consent(case, user=user, withdrawn_on=clock.today(), note=None)


def _consent_own_unit(case: SipCase, user: User) -> None:
    cases.start_preparation(case, user=user)
    cases.record_consent(
        case,
        user=user,
        given_by=ConsentGiver.PERSON,
        guardian=None,
        method=ConsentMethod.SKRIFTLIGT,
        given_on=clock.today(),
        units=[user.unit],
        other_organisations=None,
        exclusions=None,
    )


def _action_plan(named: dict[str, object]) -> None:
    malomrade = handlingsplan.save_malomrade(
        None, code="MX", title="Målområde X", description="", position=1
    )
    inriktning = handlingsplan.save_inriktning(
        None, malomrade=malomrade, code="MX.1", title="Inriktning X", description="", position=1
    )
    sakomrade = handlingsplan.save_sakomrade(
        None, code="sx", title="Sakområde X", description="", position=1
    )
    activity = handlingsplan.save_activity(
        None,
        identifier="X-2026-1",
        title="Utveckla SIP",
        description="",
        year_from=2026,
        year_to=2026,
        malomraden=[malomrade],
        sakomraden=[sakomrade],
        responsible_group=None,
        status=ActivityStatus.BESLUTAD,
    )
    named.update(
        malomrade=malomrade.code,
        inriktning=inriktning.code,
        sakomrade=sakomrade.code,
        identifier=activity.identifier,
    )


def build_world(make: Factory) -> World:
    """Build every relation through the services, as users would have; the caller commits."""
    k = make.huvudman(name="Kommun K")
    r = make.huvudman(HuvudmanKind.REGION, name="Region R")
    k2, k3, k4 = (make.huvudman(name=f"Kommun {n}") for n in ("K2", "K3", "K4"))
    units = {
        "A1": make.unit(k, name="A1"),
        "A2": make.unit(k, name="A2"),
        "B1": make.unit(r, name="B1"),
        "B2": make.unit(r, name="B2"),
        "D": make.unit(k2, name="D"),
        "E": make.unit(k3, name="E"),
        "F": make.unit(k4, name="F"),
    }
    users = {key: make.user(units[key]) for key in SAMORDNARE}
    users["granskare-A1"] = make.user(
        units["A2"], role=Role.GRANSKARE, reviewed_units=[units["A1"]]
    )
    users["granskare-D"] = make.user(units["D"], role=Role.GRANSKARE, reviewed_units=[units["D"]])
    users["admin-A2"] = make.user(units["A2"], role=Role.ADMINISTRATOR)
    a1 = users["A1"]

    p = make.person(
        a1,
        identifier=personnummer(date(1944, 4, 4)),
        given_name="Petra",
        family_name="Pärsdotter",
        phone="070-100 00 01",
    )
    add_related_person(
        p,
        user=a1,
        kind=RelationKind.NARSTAENDE,
        name="Jonas Son",
        relation="son",
        phone="073-200 00 02",
        email=None,
        address=None,
    )
    c = make.case(a1, p, sakomraden=[Sakomrade.ALDRE])
    # E is invited but the person's consent does not cover it.
    cases.add_participant(c, user=a1, kind=ParticipantKind.ENHET, unit=units["E"])
    furnished = {"C": furnish(c, a1, [units["B1"]], spares_for=("A1", "B1"))}
    q = make.person(
        a1, identifier=personnummer(date(1955, 5, 5)), given_name="Quintus", family_name="Qvist"
    )
    w = make.case(a1, q)
    furnished["W"] = furnish(w, a1, [units["F"]], spares_for=("A1",))
    _withdraw(w, a1)
    s = make.person(
        a1, identifier=personnummer(date(1966, 6, 6)), given_name="Sigrid", family_name="Sten"
    )
    x = make.case(a1, s)
    furnished["X"] = furnish(x, a1, [units["B1"]])
    _close(x, a1)
    # "Nytt ärende" for C's person at D (then consent for D alone) and at E (no consent).
    y = make.case(users["D"], p)
    _consent_own_unit(y, users["D"])
    z = make.case(users["E"], p)

    tokens = {
        "K-read": issue_token(name="K läs", huvudman=k, read=True, write=False),
        "K-write": issue_token(name="K skriv", huvudman=k, read=True, write=True),
        "R-read": issue_token(name="R läs", huvudman=r, read=True, write=False),
        "R-write-only": issue_token(name="R bara skriv", huvudman=r, read=False, write=True),
        "K2": issue_token(name="K2", huvudman=k2, read=True, write=True),
        "K3": issue_token(name="K3", huvudman=k3, read=True, write=True),
        "K4": issue_token(name="K4", huvudman=k4, read=True, write=True),
        "revoked": issue_token(name="K återkallad", huvudman=k, read=True, write=True),
    }
    revoke_token(tokens["revoked"].row)

    named: dict[str, object] = {
        "unit_id": units["B2"].id,
        "user_id": users["B2"].id,
        "key": "started",
        "filename": "app.css",
        "person_id": p.id,
    }
    _action_plan(named)
    # An item in B1's inbox about case C (tests/test_access_matrix.py InboxItemRoute).
    [item] = notify(InboxKind.INVITATION, c, units=[units["B1"]], actor=a1)
    named["item_id"] = item.id
    db.session.flush()
    named["event_id"] = db.session.scalar(
        select(AuditEvent.id).where(AuditEvent.person_id == p.id).order_by(AuditEvent.id)
    )
    named["sample_id"] = draw_sample(
        user=users["admin-A2"], month=clock.today().replace(day=1), size=5, today=clock.today()
    ).id
    return World(
        users={key: user.id for key, user in users.items()},
        tokens={key: issued.secret for key, issued in tokens.items()},
        cases=furnished,
        case_ids={"Y": y.id, "Z": z.id} | {k: f.case_id for k, f in furnished.items()},
        persons={"P": p.id, "Q": q.id, "S": s.id},
        named=named,
        secrets=[
            text
            for person in (p, q, s)
            for text in (
                person.family_name,
                person.identifier,
                format_identifier(person.identifier),
            )
        ]
        + ["070-100 00 01", "Jonas Son"],
    )


# --- The audit walk's smaller world (tests/test_audit_walk.py) ---------------------------


@dataclass
class Place:
    """The ids a walk names: one case through its plan, and what its routes need."""

    case_id: int
    person_id: int
    identifier: str
    meeting_id: int  # kallelse sent, not held
    unsent_meeting_id: int
    participant_id: int  # invited: cannot be removed
    spare_id: int
    version: int
    partner_message_id: int  # the partner unit's, asking this unit for kvittens
    new_case_id: int  # just opened: can be taken into preparation
    unit_id: int
    partner_unit_id: int
    huvudman_id: int
    activity_id: int
    invitations: list[int]
    user_id: int
    admin_id: int
    partner_user_id: int  # of B1, invited to the case's meetings
    token: str


def build_place(make: Factory) -> Place:
    """One case of unit A1 through its plan (shared with B1), and what the walk's routes need."""
    kommun = make.huvudman(name="Kommun K")
    region = make.huvudman(HuvudmanKind.REGION, name="Region R")
    unit, partner = make.unit(kommun, name="A1"), make.unit(region, name="B1")
    user = make.user(unit)
    admin = make.user(unit, role=Role.ADMINISTRATOR)
    partner_user = make.user(partner)
    person = make.person(user, phone="070-100 00 01")
    add_related_person(
        person,
        user=user,
        kind=RelationKind.NARSTAENDE,
        name="Jonas Son",
        relation="son",
        phone=None,
        email=None,
        address=None,
    )
    case = make.case(user, person)
    furnished = furnish(case, user, [partner], spares_for=("A1",))
    unsent = meetings.schedule_meeting(
        case,
        user=user,
        starts_at=utcnow() + timedelta(days=40),
        duration_minutes=30,
        place="Mötesrum 3",
        video_link=None,
        participants=[p for p in case.participants if p.id == furnished.participant_id],
    )
    activity = handlingsplan.save_activity(
        None,
        identifier="W-2026-1",
        title="Utveckla SIP",
        description="",
        year_from=2026,
        year_to=2026,
        malomraden=[],
        sakomraden=[],
        responsible_group=None,
        status=ActivityStatus.BESLUTAD,
    )
    new_case = make.case(user, person)
    token = issue_token(name="K", huvudman=kommun, read=True, write=True).secret
    meeting = next(m for m in case.meetings if m.id == furnished.meeting_id)
    partner_message = messages.send_message(
        case, user=make.user(partner), body="Vi kommer. Kvittera, tack.", receipt_requested=True
    )
    make.commit()
    return Place(
        case_id=case.id,
        person_id=person.id,
        identifier=person.identifier,
        meeting_id=furnished.meeting_id,
        unsent_meeting_id=unsent.id,
        participant_id=furnished.participant_id,
        spare_id=furnished.spares["A1"],
        version=furnished.version,
        partner_message_id=partner_message.id,
        new_case_id=new_case.id,
        unit_id=unit.id,
        partner_unit_id=partner.id,
        huvudman_id=kommun.id,
        activity_id=activity.id,
        invitations=[i.id for i in meeting.invitations],
        user_id=user.id,
        admin_id=admin.id,
        partner_user_id=partner_user.id,
        token=token,
    )
