"""The reminder job: deadlines coming up or passed, put in the inboxes of those who act.

Run every hour by the worker (worker.py) and by `flask send-reminders`. Each reminder has a
dedupe key naming the deadline and its date, so a second run for the same day (or the
next hour's) makes nothing new; a reminder comes again only when the deadline moves, or
when a deadline that was near has passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, select

from sip_tracker.auth.models import User
from sip_tracker.cases.codes import FINAL_STAGES, CaseRoleKind, Origin, Response, Stage
from sip_tracker.cases.models import Participant, SipCase
from sip_tracker.cases.workflow import (
    KALLELSE_DAYS_AFTER_UTSKRIVNINGSKLAR,
    kallelse_deadline,
    kallelse_sent_on,
    next_due,
)
from sip_tracker.db import db
from sip_tracker.i18n import local_date, to_utc
from sip_tracker.inbox.models import InboxItem, InboxKind
from sip_tracker.inbox.services import notify
from sip_tracker.meetings.models import Invitation, Meeting
from sip_tracker.messages.models import CaseMessage, MessageReceipt

# A discharge kallelse is flagged one day before its deadline (and again once it passed).
KALLELSE_WARNING = timedelta(days=1)
# A follow-up is flagged a week before it is due (and again once it is late).
FOLLOW_UP_WARNING = timedelta(days=7)
# An invited unit that has not answered is reminded this many days before the meeting.
INVITATION_WARNING = timedelta(days=2)


def run_reminders(today: date) -> list[InboxItem]:
    """Put every reminder due on this day in the right inboxes; return the new items."""
    return [
        *_kallelse_deadlines(today),
        *_follow_ups_due(today),
        *_unanswered_invitations(today),
        *_missing_receipts(today),
    ]


def _phase(deadline: date, today: date) -> str:
    """'snart' while the deadline is today or ahead, 'passerad' after it."""
    return "snart" if deadline >= today else "passerad"


def _role_users(case: SipCase, *kinds: CaseRoleKind) -> list[User]:
    users = []
    for kind in kinds:
        role = case.role(kind)
        if role is not None and role.user is not None and role.user.active:
            users.append(role.user)
    return users


def _kallelse_deadlines(today: date) -> Iterable[InboxItem]:
    """Lag (2017:612): the kallelse is due three days after utskrivningsklar. Within a day
    of that, or after it, with no kallelse sent: the initiating unit, and its
    initiativtagare and mötesledare."""
    latest_utskrivningsklar = (
        today + KALLELSE_WARNING - timedelta(days=KALLELSE_DAYS_AFTER_UTSKRIVNINGSKLAR)
    )
    cases = db.session.scalars(
        select(SipCase)
        .where(
            SipCase.origin == Origin.UTSKRIVNING,
            SipCase.utskrivningsklar_on <= latest_utskrivningsklar,
            SipCase.stage.in_([Stage.BEHOV_IDENTIFIERAT, Stage.FORBEREDELSE]),
        )
        .order_by(SipCase.id)
    ).all()
    for case in cases:
        deadline = kallelse_deadline(case)
        if deadline is None or kallelse_sent_on(case) is not None:
            continue
        yield from notify(
            InboxKind.KALLELSE_DEADLINE,
            case,
            units=[case.initiating_unit_id],
            users=_role_users(case, CaseRoleKind.INITIATIVTAGARE, CaseRoleKind.MOTESLEDARE),
            dedupe_key=f"kallelse:{case.id}:{deadline.isoformat()}:{_phase(deadline, today)}",
        )


def _follow_ups_due(today: date) -> Iterable[InboxItem]:
    """A follow-up due within a week, or late: the huvudansvarig's unit and user (the
    initiating unit when no huvudansvarig is named)."""
    cases = db.session.scalars(
        select(SipCase)
        .where(
            SipCase.stage.in_([Stage.PLAN_FASTSTALLD, Stage.UPPFOLJNING]),
            SipCase.next_due_on <= today + FOLLOW_UP_WARNING,
        )
        .order_by(SipCase.id)
    ).all()
    for case in cases:
        due = next_due(case)
        if due is None or due > today + FOLLOW_UP_WARNING:
            continue
        role = case.role(CaseRoleKind.HUVUDANSVARIG)
        unit_id = role.unit_id if role is not None else case.initiating_unit_id
        yield from notify(
            InboxKind.FOLLOW_UP_DUE,
            case,
            units=[unit_id],
            users=_role_users(case, CaseRoleKind.HUVUDANSVARIG),
            dedupe_key=f"uppfoljning:{case.id}:{due.isoformat()}:{_phase(due, today)}",
        )


def _unanswered_invitations(today: date) -> Iterable[InboxItem]:
    """A kallelse sent, the meeting two days away or nearer, and the unit has not answered:
    the invited unit."""
    start = to_utc(datetime.combine(today, time()))
    end = to_utc(datetime.combine(today + INVITATION_WARNING + timedelta(days=1), time()))
    rows = db.session.execute(
        select(Invitation, Meeting, Participant.unit_id)
        .join(Meeting, Invitation.meeting_id == Meeting.id)
        .join(Participant, Invitation.participant_id == Participant.id)
        .where(
            Invitation.response == Response.OBESVARAD,
            Participant.unit_id.is_not(None),
            Meeting.kallelse_sent_at.is_not(None),
            Meeting.cancelled_at.is_(None),
            Meeting.held_at.is_(None),
            Meeting.starts_at >= start,
            Meeting.starts_at < end,
        )
        .order_by(Invitation.id)
    ).all()
    for invitation, meeting, unit_id in rows:
        case = db.session.get_one(SipCase, meeting.case_id)
        if case.stage in FINAL_STAGES:
            continue
        meeting_day = local_date(meeting.starts_at).isoformat()
        yield from notify(
            InboxKind.INVITATION_UNANSWERED,
            case,
            units=[unit_id],
            meeting=meeting,
            dedupe_key=f"obesvarad:{invitation.id}:{meeting_day}",
        )


def next_working_day(day: date) -> date:
    """The next weekday after the day (Saturday and Sunday skipped; holidays are not)."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _missing_receipts(today: date) -> Iterable[InboxItem]:
    """A message that asked for a kvittens, not acknowledged by a unit one whole working day
    after the day it was sent (sent on Friday: flagged on Tuesday): its sender."""
    unacknowledged = exists().where(
        MessageReceipt.message_id == CaseMessage.id, MessageReceipt.acknowledged_at.is_(None)
    )
    messages = db.session.scalars(
        select(CaseMessage)
        .where(
            CaseMessage.receipt_requested.is_(True),
            unacknowledged,
            CaseMessage.created_at < to_utc(datetime.combine(today - timedelta(days=1), time())),
        )
        .order_by(CaseMessage.id)
    ).all()
    for message in messages:
        due = next_working_day(local_date(message.created_at))
        if today <= due or not message.author.active:
            continue
        case = db.session.get_one(SipCase, message.case_id)
        yield from notify(
            InboxKind.RECEIPT_MISSING,
            case,
            users=[message.author],
            message=message,
            dedupe_key=f"kvittens:{message.id}:{due.isoformat()}",
        )
