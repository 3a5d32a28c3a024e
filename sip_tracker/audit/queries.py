"""Read the access log: a person's rows, the filtered log, samples and reviews."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import selectinload

from sip_tracker.audit.models import AuditEvent, AuditReview, AuditSample, audit_sample_event
from sip_tracker.auth.models import User
from sip_tracker.i18n import to_utc
from sip_tracker.organizations.models import Unit


def events_for_person(person_id: int) -> Select[tuple[AuditEvent]]:
    """Every audit row about a person, newest first, with who did it and from which unit."""
    return (
        select(AuditEvent)
        .where(AuditEvent.person_id == person_id)
        .options(
            selectinload(AuditEvent.user).selectinload(User.unit),
            selectinload(AuditEvent.unit).selectinload(Unit.huvudman),
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )


@dataclass(frozen=True)
class LogFilters:
    """What the administrator narrowed the log to; dates are Stockholm calendar days."""

    person_id: int | None = None
    user_id: int | None = None
    unit_id: int | None = None
    first_day: date | None = None
    last_day: date | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The period as UTC moments: from the first day's midnight, to the next one after
        the last day (None where the period is open)."""
        since = day_start(self.first_day) if self.first_day else None
        until = day_start(self.last_day + timedelta(days=1)) if self.last_day else None
        return since, until


def day_start(day: date) -> datetime:
    """Midnight in Stockholm at the start of the day, in UTC."""
    return to_utc(datetime.combine(day, time()))


def log_entries(
    filters: LogFilters, only: ColumnElement[bool] | None = None
) -> Select[tuple[AuditEvent]]:
    """The log rows that match the filters (and `only`, such as the flags), newest first."""
    query = select(AuditEvent)
    if filters.person_id is not None:
        query = query.where(AuditEvent.person_id == filters.person_id)
    if filters.user_id is not None:
        query = query.where(AuditEvent.user_id == filters.user_id)
    if filters.unit_id is not None:
        query = query.where(AuditEvent.unit_id == filters.unit_id)
    since, until = filters.bounds()
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if only is not None:
        query = query.where(only)
    return _with_parties(query).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def _with_parties(query: Select[tuple[AuditEvent]]) -> Select[tuple[AuditEvent]]:
    return query.options(
        selectinload(AuditEvent.user).selectinload(User.unit),
        selectinload(AuditEvent.unit),
        selectinload(AuditEvent.person),
    )


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first moment of the Stockholm month and of the next one, in UTC."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return day_start(first), day_start(following)


def month_events(month: date) -> Select[tuple[int]]:
    """The ids of a month's rows about a person, in random order (for a sample)."""
    start, end = month_bounds(month)
    return (
        select(AuditEvent.id)
        .where(AuditEvent.at >= start, AuditEvent.at < end, AuditEvent.person_id.is_not(None))
        .order_by(func.random())
    )


def sample_entries(sample_id: int) -> Select[tuple[AuditEvent]]:
    """The rows drawn into a sample, newest first."""
    query = select(AuditEvent).join(
        audit_sample_event,
        (audit_sample_event.c.event_id == AuditEvent.id)
        & (audit_sample_event.c.sample_id == sample_id),
    )
    return _with_parties(query).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def samples() -> Select[tuple[AuditSample, int, int]]:
    """Every sample drawn, newest first, with how many rows it holds and how many are reviewed."""
    drawn = (
        select(func.count())
        .select_from(audit_sample_event)
        .where(audit_sample_event.c.sample_id == AuditSample.id)
        .scalar_subquery()
    )
    reviewed = (
        select(func.count())
        .select_from(audit_sample_event)
        .join(AuditReview, AuditReview.event_id == audit_sample_event.c.event_id)
        .where(audit_sample_event.c.sample_id == AuditSample.id)
        .scalar_subquery()
    )
    return (
        select(AuditSample, drawn, reviewed)
        .options(selectinload(AuditSample.drawn_by))
        .order_by(AuditSample.drawn_at.desc(), AuditSample.id.desc())
    )


def reviews_of(event_ids: list[int]) -> Select[tuple[AuditReview]]:
    """The reviews of the given rows."""
    return (
        select(AuditReview)
        .where(AuditReview.event_id.in_(event_ids))
        .options(selectinload(AuditReview.reviewer))
    )
