"""The stages of a SIP and which moves between them are allowed.

Each move is recorded as a StageEvent with time and user. What a move *needs* (consent
before a kallelse, a complete plan before it is established, …) is checked by the service
that makes it; this module only knows the shape of the road.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from sip_tracker.auth.models import User
from sip_tracker.cases.codes import FINAL_STAGES, STAGE_LABELS, Origin, Stage
from sip_tracker.cases.models import SipCase, StageEvent

S = Stage
ALLOWED_FROM: dict[Stage, frozenset[Stage]] = {
    S.FORBEREDELSE: frozenset({S.BEHOV_IDENTIFIERAT}),
    S.KALLAD: frozenset({S.BEHOV_IDENTIFIERAT, S.FORBEREDELSE}),
    S.MOTE_HALLET: frozenset({S.KALLAD}),
    S.PLAN_FASTSTALLD: frozenset({S.MOTE_HALLET}),
    S.UPPFOLJNING: frozenset({S.PLAN_FASTSTALLD}),
    S.AVSLUTAD: frozenset({S.PLAN_FASTSTALLD, S.UPPFOLJNING}),
    S.AVBOJD: frozenset({S.BEHOV_IDENTIFIERAT, S.FORBEREDELSE, S.KALLAD}),
    S.AVBRUTEN: frozenset(set(Stage) - FINAL_STAGES),
}

# Calendar days, as lag (2017:612) counts them: weekends and holidays count.
KALLELSE_DAYS_AFTER_UTSKRIVNINGSKLAR = 3


def can_move(case: SipCase, to: Stage) -> bool:
    return case.stage in ALLOWED_FROM.get(to, frozenset())


def move(
    case: SipCase, to: Stage, *, user: User, note: str | None = None, at: datetime | None = None
) -> StageEvent:
    """Move the case to a stage, recording who and when; refuse a move the road lacks.

    `at` is when it happened, for history recorded afterwards (an import); default now.
    """
    from sip_tracker.errors import InvalidTransition

    if not can_move(case, to):
        raise InvalidTransition(
            _(
                "Ärendet kan inte gå från %(from)s till %(to)s.",
                **{"from": STAGE_LABELS[case.stage], "to": STAGE_LABELS[to]},
            )
        )
    event = StageEvent(from_stage=case.stage, to_stage=to, user_id=user.id, note=note)
    if at is not None:
        event.at = at
    case.events.append(event)
    case.stage = to
    return event


def kallelse_deadline(case: SipCase) -> date | None:
    """When a discharge kallelse is due: three days after the utskrivningsklar date."""
    if case.origin != Origin.UTSKRIVNING or case.utskrivningsklar_on is None:
        return None
    return case.utskrivningsklar_on + timedelta(days=KALLELSE_DAYS_AFTER_UTSKRIVNINGSKLAR)


def kallelse_sent_on(case: SipCase) -> date | None:
    sent = [m.kallelse_sent_at for m in case.meetings if m.kallelse_sent_at and not m.is_follow_up]
    if not sent:
        return None
    from sip_tracker.i18n import local_date

    return local_date(min(sent))


def kallelse_overdue(case: SipCase, today: date) -> bool:
    """True when a discharge kallelse is late: not sent by the deadline, or sent after it."""
    deadline = kallelse_deadline(case)
    if deadline is None:
        return False
    sent = kallelse_sent_on(case)
    if sent is None:
        return case.stage not in FINAL_STAGES and today > deadline
    return sent > deadline


class DeadlineKind(StrEnum):
    """Which deadline a case's next due date is: it follows from the stage."""

    KALLELSE = "kallelse"
    MEETING = "mote"
    FOLLOW_UP = "uppfoljning"


DEADLINE_LABELS = {
    DeadlineKind.KALLELSE: _l("Kallelse senast"),
    DeadlineKind.MEETING: _l("Möte"),
    DeadlineKind.FOLLOW_UP: _l("Uppföljning"),
}


def deadline_kind(stage: Stage) -> DeadlineKind | None:
    """Which deadline a case in this stage waits for (what its next_due_on stands for)."""
    if stage in (S.BEHOV_IDENTIFIERAT, S.FORBEREDELSE):
        return DeadlineKind.KALLELSE
    if stage == S.KALLAD:
        return DeadlineKind.MEETING
    if stage in (S.PLAN_FASTSTALLD, S.UPPFOLJNING):
        return DeadlineKind.FOLLOW_UP
    return None


def next_deadline(case: SipCase) -> tuple[date, DeadlineKind] | None:
    """The next date someone must act by, given the stage, and which deadline it is."""
    kind = deadline_kind(case.stage)
    due: date | None = None
    if kind == DeadlineKind.KALLELSE:
        due = kallelse_deadline(case)
    elif kind == DeadlineKind.MEETING:
        from sip_tracker.i18n import local_date

        upcoming = [
            m
            for m in case.meetings
            if m.held_at is None and m.kallelse_sent_at and m.cancelled_at is None
        ]
        due = min((local_date(m.starts_at) for m in upcoming), default=None)
        if due is None:
            # A cancelled meeting no longer counts. The case stays called (the kallelse was
            # sent, and the road has no way back); with no meeting left, the kallelse
            # deadline (of a discharge) is again the date to act by: call a new meeting.
            due, kind = kallelse_deadline(case), DeadlineKind.KALLELSE
    elif kind == DeadlineKind.FOLLOW_UP:
        if case.follow_ups and case.follow_ups[-1].next_follow_up_on:
            due = case.follow_ups[-1].next_follow_up_on
        elif case.plan is not None and case.plan.current_version is not None:
            due = case.plan.current_version.follow_up_on
    if due is None or kind is None:
        return None
    return due, kind


def next_due(case: SipCase) -> date | None:
    """The next date someone must act by, given the stage."""
    deadline = next_deadline(case)
    return deadline[0] if deadline else None


def refresh_due(case: SipCase) -> None:
    case.next_due_on = next_due(case)
