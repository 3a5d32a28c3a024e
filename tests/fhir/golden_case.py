"""One fully built SIP case with fixed dates, for the golden files and the mapping tests.

Built through the services, as a user would build it; every timestamp the mapping reads
is then set to a fixed moment, so only database ids vary between runs (the golden test
numbers those in order of appearance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sip_tracker.auth.models import User
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
)
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.i18n import to_utc
from sip_tracker.meetings import services as meetings
from sip_tracker.organizations.models import HuvudmanKind, Unit
from sip_tracker.people.models import RelatedPerson, RelationKind
from sip_tracker.plans import services as plans
from tests.factories import Factory, personnummer

TODAY = date(2025, 6, 1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Stockholm wall-clock time, stored as UTC like everything else."""
    return to_utc(datetime.combine(day, time(hour, minute)))


@dataclass
class Golden:
    case: SipCase
    user: User
    geriatrik: Unit  # the region's unit, where the case started
    bistand: Unit  # the kommun's unit: huvudansvarig, and owner of the first insats
    hsl: Unit  # covered by consent only


def build_golden_case(make: Factory) -> Golden:
    region = make.huvudman(HuvudmanKind.REGION, name="Region Stockholm", orgnr="2321000016")
    kommun = make.huvudman(name="Huddinge kommun", kommunkod="0126")
    geriatrik = make.unit(region, name="Geriatriska kliniken Huddinge", hsa_id="SE2321000016-A005")
    bistand = make.unit(kommun, name="Biståndsenheten äldreomsorg Huddinge")
    hsl = make.unit(kommun, name="Kommunal hälso- och sjukvård Huddinge")
    user = make.user(geriatrik, name="David Holm", email="david.holm@example.test")
    person = make.person(
        user,
        identifier=personnummer(date(1941, 3, 14), serial=982),
        given_name="Karin",
        family_name="Nilsson",
        phone="070-123 45 67",
        email="karin.nilsson@example.test",
        address="Storgatan 1, 141 30 Huddinge",
    )
    son = RelatedPerson(
        kind=RelationKind.NARSTAENDE, name="Jonas Nilsson", relation="son", phone="073-765 43 21"
    )
    person.related.append(son)
    db.session.flush()

    case = make.case(
        user,
        person,
        origin=Origin.UTSKRIVNING,
        utskrivningsklar_on=date(2025, 3, 3),
        sakomraden=[Sakomrade.ALDRE, Sakomrade.FUNKTIONSNEDSATTNING],
        need_description="Behöver hemtjänst och en läkemedelsgenomgång efter utskrivningen.",
    )
    case.created_at = at(date(2025, 3, 3), 8)
    cases.start_preparation(case, user=user)
    bistand_p = cases.add_participant(
        case,
        user=user,
        kind=ParticipantKind.ENHET,
        unit=bistand,
        name="Lisa Berg",
        email="lisa.berg@example.test",
    )
    son_p = cases.add_participant(
        case, user=user, kind=ParticipantKind.NARSTAENDE, related_person=son
    )
    fk_p = cases.add_participant(
        case,
        user=user,
        kind=ParticipantKind.ANNAN,
        name="Eva Ek",
        organisation="Försäkringskassan",
        phone="0771-524 524",
    )
    cases.add_participant(case, user=user, kind=ParticipantKind.ANNAN, name="Grannen Bo Ström")
    cases.save_kartlaggning(
        case,
        user=user,
        what_matters="Att få bo kvar hemma och känna mig trygg.",
        needs=[
            cases.NeedInput(NeedArea.HALSA, "Behöver hjälp med läkemedel.", "Dosett från apoteket"),
            cases.NeedInput(NeedArea.VARDAG, "Behöver stöd med inköp och städning."),
        ],
    )
    cases.record_consent(
        case,
        user=user,
        given_by=ConsentGiver.PERSON,
        guardian=None,
        method=ConsentMethod.SKRIFTLIGT,
        given_on=date(2025, 3, 4),
        units=[geriatrik, bistand, hsl],
        other_organisations="Försäkringskassan",
        exclusions="Anteckningar från psykiatrin",
        today=TODAY,
    )
    cases.set_role(
        case, user=user, kind=CaseRoleKind.MOTESLEDARE, unit=geriatrik, person_name="David Holm"
    )

    first = meetings.schedule_meeting(
        case,
        user=user,
        starts_at=at(date(2025, 3, 6), 13),
        allow_past=True,
        duration_minutes=90,
        place="Mötesrum Ljuset, plan 2",
        video_link=None,
        participants=[bistand_p, son_p, fk_p],
    )
    meetings.send_kallelse(case, first, user=user)
    first.kallelse_sent_at = at(date(2025, 3, 4), 11)
    by_participant = {
        bistand_p.id: Response.KOMMER,
        son_p.id: Response.KOMMER,
        fk_p.id: Response.KANSKE,
    }
    answers = {i.id: by_participant[i.participant_id] for i in first.invitations}
    meetings.record_responses(case, first, user=user, responses=answers)
    meetings.record_meeting_held(
        case,
        first,
        user=user,
        held_at=at(date(2025, 3, 6), 13, 5),
        person_attended=True,
        attended={i.id: i.participant_id != fk_p.id for i in first.invitations},
        notes="Alla parter var överens om insatserna.",
    )

    cases.set_role(
        case, user=user, kind=CaseRoleKind.HUVUDANSVARIG, unit=bistand, person_name="Lisa Berg"
    )
    plan = plans.plan_for(case)
    plans.save_plan(
        case,
        user=user,
        lock_version=plan.lock_version,
        goals=["Jag vill klara vardagen hemma.", "Jag vill sova bättre."],
        insatser=[
            plans.InsatsInput(
                "Hemtjänst två gånger per dag", kommun, bistand, starts_on=date(2025, 3, 10)
            ),
            plans.InsatsInput(
                "Läkemedelsgenomgång och uppföljning",
                region,
                None,
                starts_on=date(2025, 3, 17),
                ends_on=date(2025, 6, 30),
            ),
        ],
        atgarder=[plans.AtgardInput("Jonas Nilsson (son)", "Handlar varje lördag.")],
        follow_up_method="Uppföljande SIP-möte med alla parter.",
        follow_up_on=date(2025, 5, 15),
    )
    version = plans.establish_plan(case, user=user)
    version.established_at = at(date(2025, 3, 6), 15)
    plans.record_follow_up(
        case,
        user=user,
        held_on=date(2025, 5, 15),
        evaluations=[
            plans.EvaluationInput("goal", "Jag vill klara vardagen hemma.", Outcome.UPPNATT),
            plans.EvaluationInput("goal", "Jag vill sova bättre.", Outcome.DELVIS),
            plans.EvaluationInput("insats", "Hemtjänst två gånger per dag", Outcome.PAGAR),
            plans.EvaluationInput(
                "insats", "Läkemedelsgenomgång och uppföljning", Outcome.UPPNATT, "Klar i maj."
            ),
        ],
        next_follow_up_on=date(2025, 8, 15),
        notes="Hemtjänsten fungerar.",
        today=TODAY,
    )

    second = meetings.schedule_meeting(
        case,
        user=user,
        starts_at=at(date(2025, 8, 15), 10),
        allow_past=True,
        duration_minutes=60,
        place=None,
        video_link="https://meet.example.test/uppfoljning",
        participants=[bistand_p],
    )
    meetings.send_kallelse(case, second, user=user)
    second.kallelse_sent_at = at(date(2025, 8, 1), 9)
    db.session.flush()
    return Golden(case=case, user=user, geriatrik=geriatrik, bistand=bistand, hsl=hsl)
