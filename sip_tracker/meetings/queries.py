"""Read queries for meetings across cases (the calendar, clashes). Each returns a Select."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import selectinload

from sip_tracker.auth.models import User
from sip_tracker.cases.access import visible_to
from sip_tracker.cases.codes import CaseRoleKind
from sip_tracker.cases.models import CaseRole, SipCase
from sip_tracker.cases.queries import holds_case_clause
from sip_tracker.meetings.models import Meeting

# The longest meeting the form allows: an earlier start cannot reach into the new one.
LONGEST_MEETING = timedelta(minutes=480)


def meetings_between(
    user: User, *, start: datetime, end: datetime, mine: bool
) -> Select[tuple[Meeting, SipCase]]:
    """Meetings from start (inclusive) to end (exclusive) of the cases the user sees: all of
    them (the unit's), or only those of cases the user started or holds a role in (mine)."""
    query = (
        select(Meeting, SipCase)
        .join(SipCase, Meeting.case_id == SipCase.id)
        .where(visible_to(user), Meeting.starts_at >= start, Meeting.starts_at < end)
        .options(selectinload(SipCase.person))
        .order_by(Meeting.starts_at, Meeting.id)
    )
    if mine:
        query = query.where(holds_case_clause(user))
    return query


def meetings_led_by(user: User) -> Select[tuple[Meeting]]:
    """Meetings the user leads, not cancelled nor held: as the case's mötesledare, or as
    the one who sent the kallelse when the case names no mötesledare with an account."""
    leader_role = exists().where(
        CaseRole.case_id == Meeting.case_id,
        CaseRole.kind == CaseRoleKind.MOTESLEDARE,
        CaseRole.user_id.is_not(None),
    )
    led_as_role = exists().where(
        CaseRole.case_id == Meeting.case_id,
        CaseRole.kind == CaseRoleKind.MOTESLEDARE,
        CaseRole.user_id == user.id,
    )
    return select(Meeting).where(
        or_(led_as_role, and_(Meeting.kallelse_sent_by_id == user.id, ~leader_role)),
        Meeting.cancelled_at.is_(None),
        Meeting.held_at.is_(None),
    )


def overlapping(
    query: Select[tuple[Meeting]], starts_at: datetime, ends_at: datetime
) -> Select[tuple[Meeting]]:
    """Narrow to meetings that may overlap the time; the caller checks each one's end
    (a meeting's end is its start plus its length, which SQL dialects add differently)."""
    return query.where(
        Meeting.starts_at < ends_at, Meeting.starts_at > starts_at - LONGEST_MEETING
    ).order_by(Meeting.starts_at)
