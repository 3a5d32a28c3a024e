"""Demo data: users of every role and about twenty cases spread over every stage.

Personnummer here use serial numbers 980–999, the range Skatteverket keeps for test
persons, with correct check digits. Dates are set relative to today so the overview
always has something due, overdue and upcoming.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from stdnum import luhn

from sip_tracker import clock
from sip_tracker.auth.models import Role, User
from sip_tracker.auth.services import create_user
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import (
    CaseRoleKind,
    ConsentGiver,
    ConsentMethod,
    NeedArea,
    Origin,
    Outcome,
    ParticipantKind,
    Response,
    Sakomrade,
    Stage,
)
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.handlingsplan.files import read_plan_file
from sip_tracker.handlingsplan.models import Activity
from sip_tracker.handlingsplan.services import import_plan, known_codes, link_activities
from sip_tracker.i18n import to_utc
from sip_tracker.inbox.reminders import run_reminders
from sip_tracker.meetings import services as meetings
from sip_tracker.messages import services as messages
from sip_tracker.organizations.models import Unit
from sip_tracker.people.models import Person, RelatedPerson, RelationKind
from sip_tracker.people.services import add_related_person, create_person
from sip_tracker.plans import services as plans

DEMO_PASSWORD = "demo-losenord-2026"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role
    unit: str
    reviews: tuple[str, ...] = ()


DEMO_USERS = (
    DemoUser(
        "anna.lind@stockholm.sip.example",
        "Anna Lind",
        Role.SAMORDNARE,
        "Socialtjänsten Stockholm, vuxenenheten",
    ),
    DemoUser("bo.ek@regionstockholm.sip.example", "Bo Ek", Role.SAMORDNARE, "Vårdcentral Rinkeby"),
    DemoUser(
        "cecilia.berg@huddinge.sip.example",
        "Cecilia Berg",
        Role.SAMORDNARE,
        "Biståndsenheten äldreomsorg Huddinge",
    ),
    DemoUser(
        "david.holm@regionstockholm.sip.example",
        "David Holm",
        Role.SAMORDNARE,
        "Geriatriska kliniken Huddinge",
    ),
    DemoUser(
        "eva.sund@nacka.sip.example",
        "Eva Sund",
        Role.SAMORDNARE,
        "Socialtjänsten Nacka, barn och unga",
    ),
    DemoUser(
        "fredrik.dahl@regionstockholm.sip.example",
        "Fredrik Dahl",
        Role.SAMORDNARE,
        "Barn- och ungdomspsykiatri (BUP) Nacka",
    ),
    DemoUser(
        "stina.strand@stockholm.sip.example",
        "Stina Strand",
        Role.SAMORDNARE,
        "Socialtjänsten Stockholm, vuxenenheten",
    ),
    DemoUser(
        "gun.granskare@regionstockholm.sip.example",
        "Gun Granath",
        Role.GRANSKARE,
        "Vårdcentral Rinkeby",
        reviews=(
            "Vårdcentral Rinkeby",
            "Geriatriska kliniken Huddinge",
            "Barn- och ungdomspsykiatri (BUP) Nacka",
        ),
    ),
    DemoUser(
        # The kommun's system administrator, at the unit whose inbox the demo fills.
        "admin@sip.example",
        "Ali Admin",
        Role.ADMINISTRATOR,
        "Socialtjänsten Stockholm, vuxenenheten",
    ),
)


def test_personnummer(born: date, serial: int) -> str:
    """A valid 12-digit personnummer in Skatteverket's test range (serial 980–999)."""
    nine = f"{born:%y%m%d}{serial:03d}"
    return f"{born:%Y}{nine[2:]}{luhn.calc_check_digit(nine)}"


@dataclass(frozen=True)
class DemoCase:
    given: str
    family: str
    born: date
    stage: Stage
    coordinator: str  # email of the initiating user
    partner_unit: str
    sakomrade: Sakomrade
    origin: Origin = Origin.ANNAN
    days_ago: int = 30  # when the need was identified


D = date
DEMO_CASES = (
    DemoCase(
        "Karin",
        "Nilsson",
        D(1941, 3, 14),
        Stage.BEHOV_IDENTIFIERAT,
        "david.holm@regionstockholm.sip.example",
        "Biståndsenheten äldreomsorg Huddinge",
        Sakomrade.ALDRE,
        Origin.UTSKRIVNING,
        days_ago=1,
    ),
    DemoCase(
        "Olle",
        "Persson",
        D(1938, 11, 2),
        Stage.BEHOV_IDENTIFIERAT,
        "david.holm@regionstockholm.sip.example",
        "Kommunal hälso- och sjukvård Huddinge",
        Sakomrade.ALDRE,
        Origin.UTSKRIVNING,
        days_ago=6,
    ),
    DemoCase(
        "Sara",
        "Mohammed",
        D(1990, 6, 21),
        Stage.BEHOV_IDENTIFIERAT,
        "anna.lind@stockholm.sip.example",
        "Psykiatrisk öppenvård Södermalm",
        Sakomrade.PSYKISK_OHALSA,
        days_ago=2,
    ),
    DemoCase(
        "Leo",
        "Johansson",
        D(2012, 4, 8),
        Stage.FORBEREDELSE,
        "eva.sund@nacka.sip.example",
        "Barn- och ungdomspsykiatri (BUP) Nacka",
        Sakomrade.BARN_UNGA,
        days_ago=8,
    ),
    DemoCase(
        "Maja",
        "Karlsson",
        D(1985, 9, 30),
        Stage.FORBEREDELSE,
        "bo.ek@regionstockholm.sip.example",
        "Socialtjänsten Stockholm, vuxenenheten",
        Sakomrade.PSYKISK_OHALSA,
        days_ago=10,
    ),
    DemoCase(
        "Gösta",
        "Lundqvist",
        D(1936, 1, 19),
        Stage.KALLAD,
        "david.holm@regionstockholm.sip.example",
        "Biståndsenheten äldreomsorg Huddinge",
        Sakomrade.ALDRE,
        Origin.UTSKRIVNING,
        days_ago=4,
    ),
    DemoCase(
        "Amir",
        "Hassan",
        D(1979, 12, 5),
        Stage.KALLAD,
        "anna.lind@stockholm.sip.example",
        "Vårdcentral Rinkeby",
        Sakomrade.PSYKISK_OHALSA,
        days_ago=12,
    ),
    DemoCase(
        "Elsa",
        "Björk",
        D(2009, 2, 17),
        Stage.KALLAD,
        "fredrik.dahl@regionstockholm.sip.example",
        "Socialtjänsten Nacka, barn och unga",
        Sakomrade.BARN_UNGA,
        days_ago=15,
    ),
    DemoCase(
        "Tomas",
        "Wikström",
        D(1968, 7, 3),
        Stage.MOTE_HALLET,
        "stina.strand@stockholm.sip.example",
        "Psykiatrisk öppenvård Södermalm",
        Sakomrade.PSYKISK_OHALSA,
        days_ago=25,
    ),
    DemoCase(
        "Ingrid",
        "Sjöberg",
        D(1944, 5, 27),
        Stage.MOTE_HALLET,
        "cecilia.berg@huddinge.sip.example",
        "Geriatriska kliniken Huddinge",
        Sakomrade.ALDRE,
        Origin.UTSKRIVNING,
        days_ago=20,
    ),
    DemoCase(
        "Noah",
        "Eriksson",
        D(2015, 10, 11),
        Stage.PLAN_FASTSTALLD,
        "eva.sund@nacka.sip.example",
        "Barn- och ungdomspsykiatri (BUP) Nacka",
        Sakomrade.BARN_UNGA,
        days_ago=45,
    ),
    DemoCase(
        "Fatima",
        "Ali",
        D(1972, 8, 9),
        Stage.PLAN_FASTSTALLD,
        "bo.ek@regionstockholm.sip.example",
        "Socialtjänsten Stockholm, vuxenenheten",
        Sakomrade.FUNKTIONSNEDSATTNING,
        days_ago=60,
    ),
    DemoCase(
        "Per",
        "Gustafsson",
        D(1950, 3, 3),
        Stage.PLAN_FASTSTALLD,
        "david.holm@regionstockholm.sip.example",
        "Kommunal hälso- och sjukvård Huddinge",
        Sakomrade.ALDRE,
        Origin.UTSKRIVNING,
        days_ago=120,
    ),
    DemoCase(
        "Lina",
        "Håkansson",
        D(1995, 12, 24),
        Stage.UPPFOLJNING,
        "anna.lind@stockholm.sip.example",
        "Psykiatrisk öppenvård Södermalm",
        Sakomrade.PSYKISK_OHALSA,
        days_ago=150,
    ),
    DemoCase(
        "Erik",
        "Axelsson",
        D(1958, 6, 6),
        Stage.UPPFOLJNING,
        "cecilia.berg@huddinge.sip.example",
        "Geriatriska kliniken Huddinge",
        Sakomrade.ALDRE,
        days_ago=200,
    ),
    DemoCase(
        "Wilma",
        "Lindgren",
        D(2010, 1, 29),
        Stage.UPPFOLJNING,
        "fredrik.dahl@regionstockholm.sip.example",
        "Socialtjänsten Nacka, barn och unga",
        Sakomrade.FUNKTIONSNEDSATTNING,
        days_ago=240,
    ),
    DemoCase(
        "Hans",
        "Olofsson",
        D(1947, 9, 15),
        Stage.AVSLUTAD,
        "david.holm@regionstockholm.sip.example",
        "Biståndsenheten äldreomsorg Huddinge",
        Sakomrade.ALDRE,
        Origin.UTSKRIVNING,
        days_ago=300,
    ),
    DemoCase(
        "Sofia",
        "Berglund",
        D(1988, 4, 1),
        Stage.AVSLUTAD,
        "stina.strand@stockholm.sip.example",
        "Vårdcentral Rinkeby",
        Sakomrade.PSYKISK_OHALSA,
        days_ago=280,
    ),
    DemoCase(
        "Mats",
        "Engström",
        D(1963, 2, 12),
        Stage.AVBOJD,
        "anna.lind@stockholm.sip.example",
        "Vårdcentral Rinkeby",
        Sakomrade.PSYKISK_OHALSA,
        days_ago=40,
    ),
    DemoCase(
        "Kerstin",
        "Falk",
        D(1939, 8, 22),
        Stage.AVBRUTEN,
        "cecilia.berg@huddinge.sip.example",
        "Geriatriska kliniken Huddinge",
        Sakomrade.ALDRE,
        days_ago=90,
    ),
)


def _unit(name: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.name == name))
    if unit is None:
        raise LookupError(f"reference unit missing: {name}")
    return unit


def _moment(day: date, hour: int = 10) -> datetime:
    return to_utc(datetime.combine(day, time(hour, 0)))


def load_demo_data(today: date | None = None) -> tuple[int, int]:
    """Create the demo users and cases; the caller commits."""
    today = today or clock.today()
    users: dict[str, User] = {}
    for spec in DEMO_USERS:
        users[spec.email] = create_user(
            email=spec.email,
            name=spec.name,
            password=DEMO_PASSWORD,
            role=spec.role,
            unit=_unit(spec.unit),
            reviewed_units=[_unit(n) for n in spec.reviews],
        )
    built = {}
    for serial, case_spec in enumerate(DEMO_CASES, start=980):
        built[case_spec.given] = _build_case(case_spec, users[case_spec.coordinator], serial, today)
    coordinate_demo_cases(built, users, today)
    return len(users), len(DEMO_CASES)


def _by_email(users: dict[str, User], local: str) -> User:
    return next(user for email, user in users.items() if email.startswith(local + "@"))


def coordinate_demo_cases(built: dict[str, SipCase], users: dict[str, User], today: date) -> None:
    """The work between the units, so that every coordinator's Inkorg and Idag show
    something on first login: invitations answered and not, answers given by the unit
    and by telephone, messages with and without kvittens, and the reminders due today."""
    for user in users.values():
        if user.role == Role.SAMORDNARE and user.unit.functional_mailbox is None:
            user.unit.functional_mailbox = f"sip.enhet{user.unit.id}@funktion.sip.example"
    bo, cecilia, david = (_by_email(users, n) for n in ("bo.ek", "cecilia.berg", "david.holm"))
    eva, fredrik = _by_email(users, "eva.sund"), _by_email(users, "fredrik.dahl")

    # Amir: Vårdcentral Rinkeby (Bo) answers for itself and asks for a kvittens.
    amir = built["Amir"]
    meetings.answer_invitation(
        amir,
        amir.meetings[-1],
        user=bo,
        response=Response.KOMMER,
        attendee_names="Bo Ek, distriktssköterska Lina Ek",
        comment="Vi tar med aktuell läkemedelslista.",
        proposed_starts_at=None,
    )
    messages.send_message(
        amir,
        user=bo,
        body="Vi kommer till mötet. Har Amir fått hjälp med ansökan om boendestöd?",
        receipt_requested=True,
    )
    # Elsa: the mötesledare recorded by telephone that Nacka's socialtjänst comes.
    elsa = built["Elsa"]
    for invitation in elsa.meetings[-1].invitations:
        if invitation.participant.unit_id == eva.unit_id:
            meetings.record_response(elsa, invitation, user=fredrik, response=Response.KOMMER)
    asked = messages.send_message(
        elsa,
        user=fredrik,
        body="Kan skolan bjudas in till mötet? Vårdnadshavarna har sagt ja.",
        receipt_requested=True,
    )
    messages.acknowledge(elsa, asked, user=eva)
    messages.send_message(elsa, user=eva, body="Ja, jag pratar med rektorn i dag.")
    # Gösta: the Huddinge biståndsenhet has not answered the kallelse (Cecilia's Idag), and
    # the clinic writes about the discharge.
    messages.send_message(
        built["Gösta"],
        user=david,
        body="Gösta skrivs ut på fredag. Hemtjänsten behöver vara på plats från lördag.",
    )
    # Ingrid: a kvittens asked for five days ago is still missing (flagged to Cecilia).
    messages.send_message(
        built["Ingrid"],
        user=cecilia,
        body="Planen skrivs på mötet. Kan ni bekräfta att läkemedelsgenomgången är gjord?",
        receipt_requested=True,
        at=_moment(today - timedelta(days=5), 10),
    )
    run_reminders(today)


def _written_consent(
    case: SipCase,
    user: User,
    partner: Unit,
    relative: RelatedPerson,
    child: bool,
    given_on: date,
    today: date,
) -> None:
    """The consent the demo cases get: written, covering the two units, from the guardian
    for a child."""
    cases.record_consent(
        case,
        user=user,
        given_by=ConsentGiver.VARDNADSHAVARE if child else ConsentGiver.PERSON,
        guardian=relative if child else None,
        method=ConsentMethod.SKRIFTLIGT,
        given_on=given_on,
        units=[user.unit, partner],
        other_organisations=None,
        exclusions=None,
        today=today,
    )


def _build_case(spec: DemoCase, user: User, serial: int, today: date) -> SipCase:
    person = create_person(
        user=user,
        identifier=test_personnummer(spec.born, serial),
        given_name=spec.given,
        family_name=spec.family,
        phone="070-123 45 67",
        email=None,
        address=None,
    )
    child = person.is_child_on(today)
    relative = add_related_person(
        person,
        user=user,
        kind=RelationKind.VARDNADSHAVARE if child else RelationKind.NARSTAENDE,
        name=f"{'Maria' if child else 'Jonas'} {spec.family}",
        relation="mamma" if child else "son",
        phone="073-765 43 21",
        email=None,
        address=None,
    )

    start = today - timedelta(days=spec.days_ago)
    case = cases.create_case(
        person=person,
        user=user,
        origin=spec.origin,
        utskrivningsklar_on=start if spec.origin == Origin.UTSKRIVNING else None,
        sakomraden=[spec.sakomrade],
        need_description=f"{spec.given} behöver samordnade insatser från kommun och region.",
        at=_moment(start, 8),
    )
    if spec.stage == Stage.BEHOV_IDENTIFIERAT:
        return case
    if spec.stage == Stage.AVBRUTEN:
        cases.abort_case(
            case,
            user=user,
            reason="Personen flyttade till en annan region.",
            at=_moment(start + timedelta(days=5)),
        )
        return case

    cases.start_preparation(case, user=user, at=_moment(start, 9))
    if spec.stage == Stage.AVBOJD:
        cases.decline_case(
            case,
            user=user,
            reason="Personen vill inte ha en SIP just nu.",
            at=_moment(start + timedelta(days=3)),
        )
        return case

    partner = _unit(spec.partner_unit)
    unit_participant = cases.add_participant(
        case, user=user, kind=ParticipantKind.ENHET, unit=partner, name="Kontaktperson"
    )
    relative_participant = cases.add_participant(
        case, user=user, kind=ParticipantKind.NARSTAENDE, related_person=relative
    )
    cases.save_kartlaggning(
        case,
        user=user,
        what_matters=f"Att få bo kvar hemma och känna mig trygg. ({spec.given})",
        needs=[
            cases.NeedInput(NeedArea.HALSA, "Behöver hjälp med läkemedel."),
            cases.NeedInput(NeedArea.VARDAG, "Behöver stöd med inköp och städning."),
        ],
    )
    if spec.stage == Stage.FORBEREDELSE:
        return case

    consent_day = start + timedelta(days=1)
    _written_consent(case, user, partner, relative, child, consent_day, today)
    # A called case's meeting is two days ahead: its invitations are due an answer.
    meeting_day = (
        start + timedelta(days=7) if spec.stage != Stage.KALLAD else today + timedelta(days=2)
    )
    meeting = meetings.schedule_meeting(
        case,
        user=user,
        starts_at=_moment(meeting_day, 13),
        duration_minutes=60,
        place="Mötesrum Ljuset, plan 2",
        video_link=None,
        participants=[unit_participant, relative_participant],
        allow_past=True,  # the demo's history
    )
    meetings.send_kallelse(
        case, meeting, user=user, at=_moment(min(start + timedelta(days=2), today), 11)
    )
    for invitation in meeting.invitations:
        # A called case's units answer for themselves (coordinate_demo_cases); the
        # närstående answered the coordinator by telephone.
        if spec.stage != Stage.KALLAD or invitation.participant.unit_id is None:
            meetings.record_response(case, invitation, user=user, response=Response.KOMMER)
    if spec.stage == Stage.KALLAD:
        return case

    meetings.record_meeting_held(
        case,
        meeting,
        user=user,
        held_at=_moment(meeting_day, 14),
        person_attended=True,
        attended={i.id: True for i in meeting.invitations},
        notes="Personen berättade om sin vardag. Alla parter var överens om insatserna.",
    )
    if spec.stage == Stage.MOTE_HALLET:
        return case

    cases.set_role(case, user=user, kind=CaseRoleKind.HUVUDANSVARIG, holder=user)
    plan = plans.plan_for(case)
    first_follow_up = meeting_day + timedelta(days=60)
    plans.save_plan(
        case,
        user=user,
        lock_version=plan.lock_version,
        goals=["Jag vill klara vardagen hemma.", "Jag vill må bättre och sova bättre."],
        insatser=[
            plans.InsatsInput(
                "Hemtjänst två gånger per dag",
                partner.huvudman if partner.huvudman.kind == "kommun" else user.unit.huvudman,
                partner if partner.huvudman.kind == "kommun" else user.unit,
            ),
            plans.InsatsInput(
                "Läkemedelsgenomgång och uppföljning",
                partner.huvudman if partner.huvudman.kind == "region" else user.unit.huvudman,
                partner if partner.huvudman.kind == "region" else user.unit,
            ),
        ],
        atgarder=[plans.AtgardInput(relative.name, "Handlar varje lördag.")],
        follow_up_method="Uppföljande SIP-möte med alla parter.",
        follow_up_on=first_follow_up,
    )
    version = plans.establish_plan(case, user=user, at=_moment(meeting_day, 15))
    if spec.stage == Stage.PLAN_FASTSTALLD:
        return case

    held = min(first_follow_up, today - timedelta(days=1))
    content = version.content
    plans.record_follow_up(
        case,
        user=user,
        held_on=held,
        evaluations=[plans.EvaluationInput("goal", g, Outcome.DELVIS) for g in content["goals"]]
        + [
            plans.EvaluationInput("insats", i["description"], Outcome.PAGAR)
            for i in content["insatser"]
        ],
        next_follow_up_on=held + timedelta(days=90),
        notes="Insatserna fungerar, sömnen är bättre.",
        today=today,
        at=_moment(held, 9),
    )
    if spec.stage == Stage.UPPFOLJNING:
        return case

    cases.close_case(
        case,
        user=user,
        reason="Målen är uppnådda.",
        at=_moment(min(held + timedelta(days=30), today), 9),
    )
    return case


# The action plan and a history for the indicators ------------------------------------

PLAN_FILE = Path(__file__).parent / "handlingsplan" / "data" / "handlingsplan.yaml"
SIP_ACTIVITY = "2024-sip-lifecare-sp"


def load_demo_plan() -> None:
    """Load the shipped action plan unless an administrator has loaded one already."""
    if db.session.scalar(select(Activity.id).limit(1)) is not None:
        return
    malomraden, sakomraden = known_codes()
    import_plan(read_plan_file(PLAN_FILE, known_malomraden=malomraden, known_sakomraden=sakomraden))


def link_demo_cases() -> int:
    """Count the demo cases that have had their SIP meeting towards the SIP activity."""
    activity = db.session.scalar(select(Activity).where(Activity.identifier == SIP_ACTIVITY))
    if activity is None:
        return 0
    met = (Stage.MOTE_HALLET, Stage.PLAN_FASTSTALLD, Stage.UPPFOLJNING, Stage.AVSLUTAD)
    linked = 0
    for case in db.session.scalars(select(SipCase).where(SipCase.stage.in_(met))):
        link_activities(case, user=case.created_by, activities=[activity])
        linked += 1
    return linked


# Units where no demo user works, so the history stays out of the demo users' lists while
# the indicators of their huvudmän (and of the county) have something to count.
HISTORY_UNITS = (
    ("Socialtjänsten Stockholm, barn och unga", Sakomrade.BARN_UNGA),
    ("Biståndsenheten äldreomsorg Stockholm", Sakomrade.ALDRE),
    ("Vårdcentral Tyresö", Sakomrade.ALDRE),
    ("Psykiatrisk öppenvård Södermalm", Sakomrade.PSYKISK_OHALSA),
    ("Habilitering Botkyrka", Sakomrade.FUNKTIONSNEDSATTNING),
    ("Vårdcentral Södertälje", Sakomrade.PSYKISK_OHALSA),
    ("Biståndsenheten äldreomsorg Nacka", Sakomrade.ALDRE),
    ("Socialtjänsten Solna, vuxenenheten", Sakomrade.PSYKISK_OHALSA),
    ("Biståndsenheten äldreomsorg Södertälje", Sakomrade.ALDRE),
    ("Kommunal hälso- och sjukvård Täby", Sakomrade.ALDRE),
    ("Socialtjänsten Botkyrka, barn och unga", Sakomrade.BARN_UNGA),
)
HISTORY_REGION_PARTNERS = ("Vårdcentral Tyresö", "Vårdcentral Södertälje", "Habilitering Botkyrka")
HISTORY_KOMMUN_PARTNERS = (
    "Biståndsenheten äldreomsorg Stockholm",
    "Socialtjänsten Solna, vuxenenheten",
    "Biståndsenheten äldreomsorg Södertälje",
    "Kommunal hälso- och sjukvård Täby",
)
GIVEN = (
    "Astrid",
    "Bengt",
    "Carina",
    "Dan",
    "Ebba",
    "Filip",
    "Greta",
    "Hugo",
    "Iris",
    "Jan",
    "Klara",
    "Lars",
    "Moa",
    "Nils",
    "Ove",
    "Pia",
    "Rut",
    "Sven",
    "Tea",
    "Ulf",
    "Vera",
)
FAMILY = (
    "Andersson",
    "Berg",
    "Ceder",
    "Dahlberg",
    "Ek",
    "Forsberg",
    "Gran",
    "Holm",
    "Isaksson",
    "Jansson",
    "Kvist",
    "Lund",
    "Molin",
    "Norberg",
    "Öberg",
    "Palm",
    "Rask",
    "Sandberg",
)


def load_demo_history(today: date | None = None, cases: int = 240) -> int:
    """About a year and a half of made-up SIP work, for the indicators to count.

    Made by coordinators who have left (inactive accounts, no login), at units where no
    demo user works. Seeded, so every run makes the same history relative to today.
    """
    today = today or clock.today()
    rng = random.Random(2024)
    coordinators = []
    for index, (unit_name, sakomrade) in enumerate(HISTORY_UNITS, start=1):
        user = create_user(
            email=f"tidigare.samordnare{index}@sip.example",
            name=f"Tidigare samordnare {index}",
            password=secrets.token_urlsafe(24),  # no one logs in as them
            role=Role.SAMORDNARE,
            unit=_unit(unit_name),
            active=False,
        )
        coordinators.append((user, sakomrade))
    activity = db.session.scalar(select(Activity).where(Activity.identifier == SIP_ACTIVITY))
    taken = set(db.session.scalars(select(Person.identifier)))
    for number in range(cases):
        user, sakomrade = coordinators[number % len(coordinators)]
        child = sakomrade == Sakomrade.BARN_UNGA
        while True:
            born = (date(2008, 1, 1) if child else date(1932, 1, 1)) + timedelta(
                days=rng.randint(0, 3500 if child else 25000)
            )
            identifier = test_personnummer(born, 980 + rng.randint(0, 19))
            if identifier not in taken:
                taken.add(identifier)
                break
        case = _history_case(rng, user, sakomrade, identifier, today)
        if activity is not None and rng.random() < 0.6:
            link_activities(case, user=user, activities=[activity])
    return cases


def _history_case(
    rng: Any, user: User, sakomrade: Sakomrade, identifier: str, today: date
) -> SipCase:
    """One case, moved through the workflow as far as its dates allow."""
    person = create_person(
        user=user,
        identifier=identifier,
        given_name=rng.choice(GIVEN),
        family_name=rng.choice(FAMILY),
        phone=None,
        email=None,
        address=None,
    )
    child = person.is_child_on(today)
    relative = add_related_person(
        person,
        user=user,
        kind=RelationKind.VARDNADSHAVARE if child else RelationKind.NARSTAENDE,
        name=f"{rng.choice(GIVEN)} {person.family_name}",
        relation="förälder" if child else "närstående",
        phone=None,
        email=None,
        address=None,
    )
    start = today - timedelta(days=rng.randint(20, 560))
    discharge = sakomrade == Sakomrade.ALDRE and rng.random() < 0.7
    case = cases.create_case(
        person=person,
        user=user,
        origin=Origin.UTSKRIVNING if discharge else Origin.ANNAN,
        utskrivningsklar_on=start if discharge else None,
        sakomraden=[sakomrade],
        need_description="Behöver samordnade insatser från kommun och region.",
        at=_moment(start, 8),
    )
    cases.start_preparation(case, user=user, at=_moment(start, 9))
    fate = rng.random()
    if fate < 0.07:
        ended = min(start + timedelta(days=rng.randint(1, 5)), today)
        cases.decline_case(
            case, user=user, reason="Personen vill inte ha en SIP.", at=_moment(ended, 9)
        )
        return case
    if fate < 0.11:
        ended = min(start + timedelta(days=rng.randint(2, 10)), today)
        cases.abort_case(case, user=user, reason="Personen flyttade.", at=_moment(ended, 9))
        return case
    region = user.unit.huvudman.kind == "region"
    partner = _unit(rng.choice(HISTORY_KOMMUN_PARTNERS if region else HISTORY_REGION_PARTNERS))
    unit_participant = cases.add_participant(
        case, user=user, kind=ParticipantKind.ENHET, unit=partner
    )
    relative_participant = cases.add_participant(
        case, user=user, kind=ParticipantKind.NARSTAENDE, related_person=relative
    )
    sent_day = start + timedelta(
        days=rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 6)) if discharge else rng.randint(2, 20)
    )
    if sent_day >= today:
        return case
    _written_consent(case, user, partner, relative, child, start, today)
    meeting_day = sent_day + timedelta(days=rng.randint(4, 21))
    meeting = meetings.schedule_meeting(
        case,
        user=user,
        starts_at=_moment(meeting_day, 13),
        duration_minutes=60,
        place="Mötesrum",
        video_link=None,
        participants=[unit_participant, relative_participant],
        allow_past=True,  # the demo's history
    )
    meetings.send_kallelse(case, meeting, user=user, at=_moment(sent_day, 11))
    if meeting_day >= today:
        return case
    meetings.record_meeting_held(
        case,
        meeting,
        user=user,
        held_at=_moment(meeting_day, 14),
        person_attended=rng.random() < 0.85,
        attended={
            i.id: i.participant_id != relative_participant.id or rng.random() < 0.55
            for i in meeting.invitations
        },
        notes=None,
    )
    # The history's coordinators have left (inactive): the role names them as text.
    cases.set_role(
        case, user=user, kind=CaseRoleKind.HUVUDANSVARIG, unit=user.unit, person_name=user.name
    )
    plan = plans.plan_for(case)
    due = meeting_day + timedelta(days=rng.randint(60, 90))
    plans.save_plan(
        case,
        user=user,
        lock_version=plan.lock_version,
        goals=["Jag vill klara vardagen."],
        insatser=[
            plans.InsatsInput(
                "Insats från kommunen", partner.huvudman if region else user.unit.huvudman
            ),
            plans.InsatsInput(
                "Insats från regionen", user.unit.huvudman if region else partner.huvudman
            ),
        ],
        atgarder=[],
        follow_up_method="Uppföljande SIP-möte.",
        follow_up_on=due,
    )
    version = plans.establish_plan(case, user=user, at=_moment(meeting_day, 15))
    timing = rng.random()
    if timing < 0.06:
        return case  # never followed up: overdue
    held = (
        due - timedelta(days=rng.randint(0, 7))
        if timing < 0.85
        else due + timedelta(days=rng.randint(5, 30))
    )
    if held >= today:
        return case
    plans.record_follow_up(
        case,
        user=user,
        held_on=held,
        evaluations=[
            plans.EvaluationInput("goal", g, Outcome.DELVIS) for g in version.content["goals"]
        ]
        + [
            plans.EvaluationInput("insats", i["description"], Outcome.PAGAR)
            for i in version.content["insatser"]
        ],
        next_follow_up_on=held + timedelta(days=90),
        notes=None,
        today=today,
        at=_moment(held, 9),
    )
    closed = held + timedelta(days=rng.randint(0, 20))
    if rng.random() < 0.75 and closed < today:
        cases.close_case(case, user=user, reason="Målen är uppnådda.", at=_moment(closed, 9))
    return case
