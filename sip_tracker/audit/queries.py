"""Read the access log."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from sip_tracker.audit.models import AuditEvent


def events_for_person(person_id: int) -> Select[tuple[AuditEvent]]:
    """Every audit row about a person, newest first, with who did it and from which unit."""
    return (
        select(AuditEvent)
        .where(AuditEvent.person_id == person_id)
        .options(selectinload(AuditEvent.user), selectinload(AuditEvent.unit))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
