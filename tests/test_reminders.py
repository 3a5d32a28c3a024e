"""The reminder job (issue 9, point 5): for a given day it puts exactly the due reminders in
the inboxes of those who act on them, once; a second run makes and sends nothing new."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from sip_tracker import clock
from sip_tracker.auth.models import User
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import CaseRoleKind, Origin, ParticipantKind, Response
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db, utcnow
from sip_tracker.i18n import to_utc
from sip_tracker.inbox.models import EmailDelivery, InboxItem, InboxKind
from sip_tracker.inbox.reminders import next_working_day, run_reminders
from sip_tracker.meetings import services as meetings
from sip_tracker.messages.models import CaseMessage, MessageReceipt
from sip_tracker.organizations.models import Unit
from sip_tracker.plans import services as plans
from sip_tracker.worker import SipQueue
from tests.factories import Factory

K = InboxKind


def _discharge(make: Factory, user: User, days_since_utskrivningsklar: int) -> SipCase:
    return make.case(
        user,
        origin=Origin.UTSKRIVNING,
        utskrivningsklar_on=clock.today() - timedelta(days=days_since_utskrivningsklar),
    )


def _meeting(case: SipCase, user: User, day: date, *, send: bool = True):
    invited = [p for p in case.participants if p.kind == ParticipantKind.ENHET]
    meeting = meetings.schedule_meeting(
        case,
        user=user,
        starts_at=to_utc(datetime.combine(day, time(10))),
        duration_minutes=60,
        place="Rum 1",
        video_link=None,
        participants=invited,
        allow_past=True,  # a meeting already held is history
    )
    if send:
        sent = min(utcnow(), meeting.starts_at - timedelta(days=1))
        meetings.send_kallelse(case, meeting, user=user, at=sent)
    return meeting


def _established(case: SipCase, user: User, follow_up_on: date, huvudansvarig: User) -> None:
    """Meeting held, plan established with its follow-up date, huvudansvarig a linked user."""
    meeting = _meeting(case, user, clock.today() - timedelta(days=3))
    meetings.record_meeting_held(
        case,
        meeting,
        user=user,
        held_at=utcnow() - timedelta(days=2),
        person_attended=True,
        attended={i.id: True for i in meeting.invitations},
        notes=None,
    )
    cases.set_role(
        case,
        user=user,
        kind=CaseRoleKind.HUVUDANSVARIG,
        unit=huvudansvarig.unit,
        person_name=huvudansvarig.name,
    )
    role = case.role(CaseRoleKind.HUVUDANSVARIG)
    assert role is not None
    role.user_id = huvudansvarig.id
    plan = plans.plan_for(case)
    plans.save_plan(
        case,
        user=user,
        lock_version=plan.lock_version,
        goals=["Jag vill bo kvar hemma."],
        insatser=[plans.InsatsInput("Hemtjänst", user.unit.huvudman, user.unit)],
        atgarder=[],
        follow_up_method="Uppföljande SIP-möte.",
        follow_up_on=follow_up_on,
    )
    plans.establish_plan(case, user=user)


def _message(case: SipCase, author: User, units: list[Unit], sent_on: date, acked: bool = False):
    """A message asking for a kvittens (the messages' own service is another part of issue
    9): one receipt per receiving unit, as that service makes them."""
    message = CaseMessage(
        case_id=case.id,
        author_id=author.id,
        author_unit_id=author.unit_id,
        body="Hur går det med hemtjänsten?",
        receipt_requested=True,
        created_at=to_utc(datetime.combine(sent_on, time(9))),
    )
    db.session.add(message)
    db.session.flush()
    for unit in units:
        db.session.add(
            MessageReceipt(
                message_id=message.id,
                unit_id=unit.id,
                acknowledged_by_id=author.id if acked else None,
                acknowledged_at=utcnow() if acked else None,
            )
        )
    db.session.flush()
    return message


@dataclass
class World:
    coordinator: User
    partner: User
    home: Unit
    partner_unit: Unit
    third_unit: Unit
    message_id: int
    meeting_id: int


def _world(make: Factory) -> World:
    today = clock.today()
    home = make.unit(name="Hemtjänst Norr")
    partner_unit = make.unit(name="Vårdcentral Solna")
    third_unit = make.unit(name="Psykiatri Solna")
    coordinator = make.user(home, email_notifications=True)
    partner = make.user(partner_unit, email_notifications=True)
    make.user(third_unit, email_notifications=True)

    _discharge(make, coordinator, 2)  # kallelse due tomorrow: remind
    _discharge(make, coordinator, 6)  # due three days ago: remind (passed)
    _discharge(make, coordinator, 1)  # due in two days: not yet
    called = make.shared_case(
        coordinator,
        partner_unit,
        origin=Origin.UTSKRIVNING,
        utskrivningsklar_on=today - timedelta(days=5),
    )
    _meeting(called, coordinator, today + timedelta(days=20))  # sent: no kallelse reminder

    soon = make.shared_case(coordinator, partner_unit)
    cases.add_participant(soon, user=coordinator, kind=ParticipantKind.ENHET, unit=third_unit)
    consent = soon.active_consent
    assert consent is not None
    cases.record_consent(
        soon,
        user=coordinator,
        given_by=consent.given_by,
        guardian=None,
        method=consent.method,
        given_on=today - timedelta(days=1),
        units=[home, partner_unit, third_unit],
        other_organisations=None,
        exclusions=None,
    )
    meeting = _meeting(soon, coordinator, today + timedelta(days=2))
    third = next(i for i in meeting.invitations if i.participant.unit_id == third_unit.id)
    meetings.record_response(soon, third, user=coordinator, response=Response.KOMMER)
    cancelled = _meeting(soon, coordinator, today + timedelta(days=1))
    cancelled.cancelled_at = utcnow()  # cancelled meetings want no answers
    _meeting(soon, coordinator, today + timedelta(days=1), send=False)  # no kallelse yet
    _meeting(soon, coordinator, today + timedelta(days=5))  # further off

    followed = make.shared_case(coordinator, partner_unit)
    _established(followed, coordinator, today + timedelta(days=5), huvudansvarig=partner)
    later = make.shared_case(coordinator, partner_unit)
    _established(later, coordinator, today + timedelta(days=30), huvudansvarig=partner)

    talk = make.shared_case(coordinator, partner_unit)
    old = _message(talk, coordinator, [partner_unit], today - timedelta(days=6))
    _message(talk, coordinator, [partner_unit], today - timedelta(days=6), acked=True)
    _message(talk, coordinator, [partner_unit], today - timedelta(days=1))
    return World(coordinator, partner, home, partner_unit, third_unit, old.id, meeting.id)


def _items() -> set[tuple[InboxKind, int, int | None]]:
    rows = db.session.execute(select(InboxItem.kind, InboxItem.unit_id, InboxItem.user_id))
    return {(kind, unit_id, user_id) for kind, unit_id, user_id in rows}


@pytest.fixture
def queue(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[SipQueue]:
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")  # deliveries are written
    queue = SipQueue(app, name="reminders-test", sqlite_path=str(tmp_path / "queue.db"))
    monkeypatch.setitem(app.extensions, "sip_queue", queue)
    yield queue
    queue.close()


def test_the_job_reminds_exactly_whom_each_due_deadline_concerns_once(
    make: Factory, queue: SipQueue
):
    world = _world(make)
    home, partner_unit = world.home.id, world.partner_unit.id
    coordinator = world.coordinator.id
    make.commit()

    made = run_reminders(clock.today())
    make.commit()

    assert Counter((i.kind, i.unit_id, i.user_id) for i in made) == Counter(
        [
            # two discharge kallelser: the initiating unit (its initiativtagare, one of
            # its users, sees the unit's item: one item, not two)
            (K.KALLELSE_DEADLINE, home, None),
            (K.KALLELSE_DEADLINE, home, None),
            # the follow-up in five days: the huvudansvarig's unit (the huvudansvarig in it)
            (K.FOLLOW_UP_DUE, partner_unit, None),
            # the meeting in two days that the partner unit has not answered
            (K.INVITATION_UNANSWERED, partner_unit, None),
            # the kvittens missing for six days: its sender
            (K.RECEIPT_MISSING, home, coordinator),
        ]
    )
    unanswered = next(i for i in made if i.kind == K.INVITATION_UNANSWERED)
    assert unanswered.meeting_id == world.meeting_id
    receipt = next(i for i in made if i.kind == K.RECEIPT_MISSING)
    assert receipt.message_id == world.message_id
    deliveries = db.session.scalar(select(func.count(EmailDelivery.id)))
    queued = queue.huey.pending_count()
    assert deliveries and queued == deliveries  # e-mail for the users who asked for it

    assert run_reminders(clock.today()) == []  # again, the same day: nothing new
    make.commit()
    assert db.session.scalar(select(func.count(EmailDelivery.id))) == deliveries
    assert queue.huey.pending_count() == queued

    # The next day, the kallelse due "tomorrow" has passed: one more reminder for it.
    later = run_reminders(clock.today() + timedelta(days=2))
    assert {(i.kind, i.unit_id, i.user_id) for i in later} >= {(K.KALLELSE_DEADLINE, home, None)}


def test_a_kvittens_is_due_one_working_day_after_the_message(make: Factory):
    today = clock.today()
    friday = today - timedelta(days=(today.weekday() - 4) % 7 + 7)
    user = make.user()
    partner = make.unit()
    case = make.shared_case(user, partner)
    _message(case, user, [partner], friday)

    def receipt_reminders(day: date) -> list[InboxItem]:
        return [i for i in run_reminders(day) if i.kind == K.RECEIPT_MISSING]

    assert next_working_day(friday) == friday + timedelta(days=3)
    assert receipt_reminders(friday + timedelta(days=3)) == []  # Monday: still within the day
    [item] = receipt_reminders(friday + timedelta(days=4))  # Tuesday: flagged
    assert (item.unit_id, item.user_id) == (user.unit_id, user.id)
    assert receipt_reminders(friday + timedelta(days=5)) == []  # once


def test_a_user_who_switched_email_off_gets_the_reminder_in_the_inbox_only(
    make: Factory, queue: SipQueue
):
    quiet = make.user()  # e-mail off
    _discharge(make, quiet, 3)
    make.commit()

    made = run_reminders(clock.today())

    assert {(i.kind, i.user_id) for i in made} == {(K.KALLELSE_DEADLINE, None)}
    assert db.session.scalar(select(func.count(EmailDelivery.id))) == 0


def test_flask_send_reminders_runs_the_job_for_a_given_day(app: Flask, make: Factory):
    user = make.user()
    _discharge(make, user, 2)
    make.commit()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["send-reminders", "--date", clock.today().isoformat()])
    again = runner.invoke(args=["send-reminders", "--date", clock.today().isoformat()])
    wrong = runner.invoke(args=["send-reminders", "--date", "igår"])

    assert (first.exit_code, first.output) == (0, "1 ny påminnelse.\n")
    assert (again.exit_code, again.output) == (0, "0 nya påminnelser.\n")
    assert wrong.exit_code == 2 and len(wrong.output.strip().splitlines()) == 1
    db.session.rollback()
    assert _items() == {(K.KALLELSE_DEADLINE, user.unit_id, None)}
