"""Write the access log (one row per read or change of a person's data) and its review."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, insert, literal, select
from sqlalchemy.exc import IntegrityError

from sip_tracker.audit.models import (
    AuditEvent,
    AuditReview,
    AuditSample,
    ReviewOutcome,
    audit_sample_event,
)
from sip_tracker.audit.queries import month_events
from sip_tracker.auth.models import User
from sip_tracker.db import db, utcnow
from sip_tracker.errors import DomainError


def record(
    action: str,
    *,
    user: User | None,
    person_id: int | None,
    case_id: int | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Add an audit row to the current transaction: it commits or rolls back with the change."""
    event = AuditEvent(
        action=action,
        user_id=user.id if user else None,
        unit_id=user.unit_id if user else None,
        person_id=person_id,
        case_id=case_id,
        detail=detail,
    )
    db.session.add(event)
    return event


def record_many(
    action: str,
    *,
    user: User | None,
    subjects: Iterable[tuple[int | None, int | None]],
    detail: str | None = None,
) -> None:
    """One audit row per (person_id, case_id), written in one statement (lists of cases)."""
    rows = [
        {
            "action": action,
            "at": utcnow(),
            "user_id": user.id if user else None,
            "unit_id": user.unit_id if user else None,
            "person_id": person_id,
            "case_id": case_id,
            "detail": detail,
        }
        for person_id, case_id in subjects
    ]
    if rows:
        db.session.execute(insert(AuditEvent), rows)


def draw_sample(*, user: User, month: date, size: int, today: date) -> AuditSample:
    """Draw `size` of the month's rows at random, in SQL, and keep the draw to reopen."""
    if month.replace(day=1) > today.replace(day=1):
        raise DomainError(_("Månaden har inte börjat än."), field="month")
    sample = AuditSample(month=month.replace(day=1), size=size, drawn_by_id=user.id)
    db.session.add(sample)
    db.session.flush()
    drawn = month_events(sample.month).limit(size).subquery()
    db.session.execute(
        insert(audit_sample_event).from_select(
            ["sample_id", "event_id"], select(literal(sample.id), drawn.c.id)
        )
    )
    count = db.session.scalar(
        select(func.count())
        .select_from(audit_sample_event)
        .where(audit_sample_event.c.sample_id == sample.id)
    )
    if not count:
        raise DomainError(
            _("Loggen har inga händelser från %(month)s.", month=f"{sample.month:%Y-%m}"),
            field="month",
        )
    return sample


def review_event(
    event: AuditEvent, *, user: User, outcome: ReviewOutcome, note: str | None
) -> AuditReview:
    """Record an administrator's verdict on a log row, once; the review is itself logged."""
    note = (note or "").strip() or None
    if outcome == ReviewOutcome.AVVIKELSE and note is None:
        raise DomainError(_("Beskriv avvikelsen."), field="note")
    earlier = db.session.scalar(select(AuditReview).where(AuditReview.event_id == event.id))
    if earlier is not None:
        raise DomainError(_("Händelsen är redan granskad."))
    review = AuditReview(event_id=event.id, reviewer_id=user.id, outcome=outcome, note=note)
    try:
        with db.session.begin_nested():
            db.session.add(review)
    except IntegrityError:
        # Another administrator reviewed it in the same moment (PostgreSQL).
        raise DomainError(_("Händelsen är redan granskad.")) from None
    record(
        "audit.review",
        user=user,
        person_id=event.person_id,
        case_id=event.case_id,
        detail=f"{event.id}:{outcome.value}",
    )
    return review
