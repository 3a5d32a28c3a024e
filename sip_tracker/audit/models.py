"""The access log: every read and change of a person's data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sip_tracker.auth.models import User
from sip_tracker.db import db, utcnow
from sip_tracker.organizations.models import Unit


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """Who did what to whose data, from which unit, and when."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    # Not foreign keys: the log outlives the rows it speaks of.
    person_id: Mapped[int | None] = mapped_column(index=True)
    case_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
