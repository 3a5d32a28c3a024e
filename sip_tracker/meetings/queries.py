"""Read queries for meetings across cases (the calendar). Each returns a Select."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from sip_tracker.auth.models import User
from sip_tracker.cases.access import visible_to
from sip_tracker.cases.models import SipCase
from sip_tracker.cases.queries import holds_case_clause
from sip_tracker.meetings.models import Meeting


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
