"""Gallring (`flask gallra`): cases that ended long ago go, with everything under them, and
their people with their last case; the access log stays five years. A dry run first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select, update

from sip_tracker import clock
from sip_tracker.audit.models import AuditEvent
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import CaseRoleKind, Outcome, ParticipantKind
from sip_tracker.cases.models import SipCase, StageEvent
from sip_tracker.config import ConfigError, load_config
from sip_tracker.db import db
from sip_tracker.fhir.models import StoredResource
from sip_tracker.handlingsplan.models import Activity, CaseActivity
from sip_tracker.meetings import services as meetings
from sip_tracker.people.models import Person, RelatedPerson, RelationKind
from sip_tracker.plans import services as plans
from tests.factories import Factory

NOW = datetime.now(UTC)
# Every table that holds part of a case: after a purge none may hold a row of it.
CASE_TABLES = (
    "stage_event",
    "case_role",
    "case_sakomrade",
    "need",
    "consent",
    "participant",
    "meeting",
    "plan",
    "follow_up",
    "case_activity",
)


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["gallra", *args])


def one_line(result: Result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def years_ago(years: float) -> datetime:
    return NOW - timedelta(days=365.25 * years)


def backdate(case_id: int, moment: datetime) -> None:
    """As if the case had ended, and last changed, at that moment."""
    db.session.execute(update(StageEvent).where(StageEvent.case_id == case_id).values(at=moment))
    db.session.execute(
        update(SipCase).where(SipCase.id == case_id).values(created_at=moment, updated_at=moment)
    )


def full_case(make: Factory, activity: Activity, person: Person | None = None) -> SipCase:
    """A case through its whole life: consent, kartläggning, meeting, plan, follow-up, end."""
    user = make.user()
    case = make.shared_case(user, make.unit(), **({"person": person} if person else {}))
    guardian = RelatedPerson(person=case.person, kind=RelationKind.NARSTAENDE, name="Anna Dotter")
    db.session.add(guardian)
    db.session.flush()
    cases.add_participant(case, user=user, kind=ParticipantKind.NARSTAENDE, related_person=guardian)
    cases.save_kartlaggning(
        case,
        user=user,
        what_matters="Att bo kvar hemma.",
        needs=[cases.NeedInput(area=next(iter(cases.NeedArea)), description="Hjälp med mat.")],
    )
    meeting = meetings.schedule_meeting(
        case,
        user=user,
        starts_at=NOW - timedelta(hours=3),
        allow_past=True,
        duration_minutes=60,
        place="Mötesrum 1",
        video_link=None,
        participants=list(case.participants),
    )
    meetings.send_kallelse(case, meeting, user=user, at=NOW - timedelta(days=1))
    meetings.record_meeting_held(
        case,
        meeting,
        user=user,
        held_at=NOW - timedelta(hours=2),
        person_attended=True,
        attended={i.id: True for i in meeting.invitations},
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
        follow_up_method="SIP-möte",
        follow_up_on=clock.today(),
    )
    plans.establish_plan(case, user=user)
    plans.record_follow_up(
        case,
        user=user,
        held_on=clock.today(),
        evaluations=[
            plans.EvaluationInput("goal", "Jag vill bo kvar hemma.", next(iter(Outcome))),
            plans.EvaluationInput("insats", "Hemtjänst", next(iter(Outcome))),
        ],
        next_follow_up_on=clock.today() + timedelta(days=90),
        notes=None,
    )
    db.session.add(CaseActivity(case_id=case.id, activity_id=activity.id))
    cases.close_case(case, user=user, reason="Målen är nådda.")
    return case


def declined_case(make: Factory, person: Person | None = None) -> SipCase:
    user = make.user()
    case = make.case(user, **({"person": person} if person else {}))
    cases.decline_case(case, user=user, reason="Vill inte ha en SIP.")
    return case


@dataclass
class World:
    old: int  # ended 11 years ago, everything under it: goes
    old_person: int
    old_declined: int  # avböjd 12 years ago, its person has a recent case: the case goes
    shared_person: int
    recent: int  # ended 2 years ago: stays
    open_old: int  # opened 15 years ago, never ended: stays
    names: list[str]


@pytest.fixture
def world(make: Factory) -> World:
    activity = Activity(identifier="2024-sip", title="SIP", year_from=2024, year_to=2024)
    db.session.add(activity)
    db.session.flush()
    old = full_case(make, activity)
    shared_person = make.person(given_name="Sven", family_name="Delad")
    old_declined = declined_case(make, person=shared_person)
    recent = declined_case(make, person=shared_person)
    open_old = make.case()
    db.session.flush()
    backdate(old.id, years_ago(11))
    backdate(old_declined.id, years_ago(12))
    backdate(recent.id, years_ago(2))
    backdate(open_old.id, years_ago(15))
    world = World(
        old=old.id,
        old_person=old.person_id,
        old_declined=old_declined.id,
        shared_person=shared_person.id,
        recent=recent.id,
        open_old=open_old.id,
        names=[old.person.given_name, old.person.family_name, old.person.identifier],
    )
    make.commit()
    return world


def snapshot() -> dict[str, Any]:
    db.session.expire_all()
    counts = {
        table: db.session.scalar(select(func.count()).select_from(db.metadata.tables[table]))
        for table in (*CASE_TABLES, "sip_case", "person", "related_person", "fhir_resource")
    }
    counts["audit_event"] = db.session.scalar(select(func.count(AuditEvent.id)))
    return counts


def test_a_dry_run_counts_and_changes_nothing(app: Flask, world: World):
    before = snapshot()
    result = run(app)
    assert result.exit_code == 0, result.output
    line = one_line(result)
    assert line.startswith("Provkörning, inget togs bort: 2 ärenden")
    assert "1 personer" in line and "--execute" in line
    cutoff = (NOW - timedelta(days=3653)).date()  # ten years, the default
    assert abs(date.fromisoformat(line.split("före ")[1][:10]) - cutoff) <= timedelta(days=3)
    for name in world.names:  # counts, never who
        assert name not in line
    assert snapshot() == before


def test_execute_removes_exactly_the_old_ended_cases_and_keeps_the_log(app: Flask, world: World):
    old_log = {
        row.id
        for row in db.session.scalars(
            select(AuditEvent).where(AuditEvent.case_id.in_([world.old, world.old_declined]))
        )
    }
    assert old_log
    db.session.rollback()

    result = run(app, "--execute")
    assert result.exit_code == 0, result.output
    assert one_line(result).startswith("Gallrat: 2 ärenden")

    db.session.expire_all()
    remaining = set(db.session.scalars(select(SipCase.id)))
    assert remaining == {world.recent, world.open_old}
    for table in CASE_TABLES:  # nothing under the purged cases is left
        column = db.metadata.tables[table].c.case_id
        left = db.session.scalar(
            select(func.count()).where(column.in_([world.old, world.old_declined]))
        )
        assert left == 0, table
    assert (
        db.session.scalar(select(func.count()).select_from(db.metadata.tables["plan_version"])) == 0
    )
    assert (
        db.session.scalar(select(func.count()).select_from(db.metadata.tables["invitation"])) == 0
    )
    stored = db.session.execute(select(StoredResource.case_id, StoredResource.person_id)).all()
    assert all(case_id not in (world.old, world.old_declined) for case_id, _ in stored)
    assert all(person_id != world.old_person for _, person_id in stored)
    # The person with no case left went, with their närstående; the other one stays.
    assert db.session.get(Person, world.old_person) is None
    assert db.session.scalar(select(func.count(RelatedPerson.id))) == 0
    assert db.session.get(Person, world.shared_person) is not None
    # The access log keeps every row about them, and says what was purged.
    kept = set(db.session.scalars(select(AuditEvent.id).where(AuditEvent.id.in_(old_log))))
    assert kept == old_log
    purged = db.session.execute(
        select(AuditEvent.case_id, AuditEvent.person_id).where(AuditEvent.action == "case.purge")
    ).all()
    assert sorted(purged) == sorted(
        [(world.old, world.old_person), (world.old_declined, world.shared_person)]
    )
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "person.purge", AuditEvent.person_id == world.old_person
            )
        )
        == 1
    )

    again = run(app)
    assert one_line(again).startswith("Provkörning, inget togs bort: 0 ärenden")


def test_the_log_is_kept_five_years_then_deleted(app: Flask, world: World):
    rows = {}
    for label, moment in (
        ("six years", years_ago(6)),
        ("five years and two days", years_ago(5) - timedelta(days=2)),
        ("four years", years_ago(4)),
    ):
        # Written with its time: the log refuses to have a row changed afterwards.
        row = AuditEvent(action="case.read", at=moment, person_id=world.old_person)
        db.session.add(row)
        db.session.flush()
        rows[label] = row.id
    db.session.commit()

    dry = one_line(run(app))
    assert "2 loggrader" in dry
    assert "2 loggrader" in one_line(run(app, "--execute"))
    db.session.expire_all()
    left = set(db.session.scalars(select(AuditEvent.id).where(AuditEvent.id.in_(rows.values()))))
    assert left == {rows["four years"]}


def test_the_english_name_runs_the_same_command(app: Flask, world: World):
    result = app.test_cli_runner().invoke(args=["purge-old-cases"])
    assert result.exit_code == 0
    assert one_line(result).startswith("Provkörning, inget togs bort: 2 ärenden")


def test_the_retention_time_comes_from_the_environment(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(app.config, "RETENTION_YEARS", 1)
    assert one_line(run(app)).startswith("Provkörning, inget togs bort: 3 ärenden")
    monkeypatch.setitem(app.config, "RETENTION_YEARS", 20)
    assert one_line(run(app)).startswith("Provkörning, inget togs bort: 0 ärenden")


def test_the_default_retention_is_ten_years(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.delenv("SIP_RETENTION_YEARS", raising=False)
    assert load_config(str(tmp_path))["RETENTION_YEARS"] == 10
    monkeypatch.setenv("SIP_RETENTION_YEARS", " 12 ")
    assert load_config(str(tmp_path))["RETENTION_YEARS"] == 12


@pytest.mark.parametrize("value", ["0", "-1", "ten", "2.5", "", "101", "١٠"])
def test_a_bad_retention_time_stops_the_app_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path, value: str
):
    monkeypatch.setenv("SIP_RETENTION_YEARS", value)
    with pytest.raises(ConfigError) as raised:
        load_config(str(tmp_path))
    assert "SIP_RETENTION_YEARS" in str(raised.value) and "\n" not in str(raised.value)


def test_a_bad_option_is_one_line(app: Flask):
    result = run(app, "--yes")
    assert result.exit_code == 2
    assert "--yes" in one_line(result)
