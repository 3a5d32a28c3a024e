"""The access log: every read and change of a person's data, and its review."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Enum, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sip_tracker.audit import append_only
from sip_tracker.auth.models import User
from sip_tracker.db import db, utcnow
from sip_tracker.organizations.models import Unit
from sip_tracker.people.models import Person


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """Who did what to whose data, from which unit, and when.

    Append-only: triggers in the database refuse UPDATE, and DELETE of a row younger than
    the log's retention period (append_only.py).
    """

    __tablename__ = "audit_event"
    # Bulk reads are counted per user over the hour before each row (audit/flags.py).
    __table_args__ = (Index("ix_audit_event_user_id_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    # Not foreign keys: the log outlives the rows it speaks of.
    person_id: Mapped[int | None] = mapped_column(index=True)
    case_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    person: Mapped[Person | None] = relationship(
        primaryjoin="foreign(AuditEvent.person_id) == Person.id", viewonly=True
    )


append_only.attach(AuditEvent.__table__)


class ReviewOutcome(StrEnum):
    OK = "ok"
    AVVIKELSE = "avvikelse"


audit_sample_event = Table(
    "audit_sample_event",
    db.metadata,
    Column("sample_id", ForeignKey("audit_sample.id", ondelete="CASCADE"), primary_key=True),
    # A row the retention command removes leaves the samples it was drawn into.
    Column("event_id", ForeignKey("audit_event.id", ondelete="CASCADE"), primary_key=True),
)


class AuditSample(db.Model):  # type: ignore[name-defined]
    """A random sample of one month's log rows, drawn for the monthly review."""

    __tablename__ = "audit_sample"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date]  # the first day of the month, in Stockholm
    size: Mapped[int]  # as asked for; a quiet month may hold fewer rows
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    drawn_by: Mapped[User] = relationship()
    events: Mapped[list[AuditEvent]] = relationship(
        secondary=audit_sample_event, order_by=AuditEvent.at.desc(), viewonly=True
    )


class AuditReview(db.Model):  # type: ignore[name-defined]
    """An administrator's verdict on one log row: in order, or an avvikelse with a note."""

    __tablename__ = "audit_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("audit_event.id", ondelete="CASCADE"), unique=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[ReviewOutcome] = mapped_column(
        Enum(
            ReviewOutcome,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    note: Mapped[str | None] = mapped_column(Text)

    reviewer: Mapped[User] = relationship()
