"""Write the access log: one row per read or change of a person's data."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert

from sip_tracker.audit.models import AuditEvent
from sip_tracker.auth.models import User
from sip_tracker.db import db, utcnow


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
