"""The access log is kept five years, then deleted by age alone, whatever the rows name
(issue 8; triggers on audit_event refuse any other delete, append_only.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, delete, func, select

from sip_tracker.audit.append_only import RETENTION_YEARS
from sip_tracker.audit.models import AuditEvent
from sip_tracker.db import db

# The triggers (append_only.py) refuse to delete anything younger.
LOG_YEARS = RETENTION_YEARS


def old_log_rows(cutoff: datetime) -> Select[tuple[int]]:
    return select(func.count(AuditEvent.id)).where(AuditEvent.at < cutoff)


def purge_log(cutoff: datetime) -> int:
    """Delete the log rows written before the cutoff; return how many."""
    result = db.session.execute(
        delete(AuditEvent)
        .where(AuditEvent.at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))
