"""Messages between the units of a case, and the receipts (kvittenser) they ask for."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sip_tracker.audit import append_only
from sip_tracker.db import db, utcnow

if TYPE_CHECKING:
    from sip_tracker.auth.models import User
    from sip_tracker.organizations.models import Unit


class CaseMessage(db.Model):  # type: ignore[name-defined]
    """A message written on a case by a user of a unit taking part. Never edited after it
    is sent: a correction is a new message that names the one it corrects."""

    __tablename__ = "case_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("sip_case.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    author_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    body: Mapped[str] = mapped_column(Text)
    receipt_requested: Mapped[bool] = mapped_column(default=False)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("case_message.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship()
    author_unit: Mapped[Unit] = relationship()
    corrects: Mapped[CaseMessage | None] = relationship(remote_side=[id])
    receipts: Mapped[list[MessageReceipt]] = relationship(
        cascade="all, delete-orphan", order_by="MessageReceipt.id"
    )


class MessageReceipt(db.Model):  # type: ignore[name-defined]
    """One receiving unit's kvittens of a message that asked for one: made when the message
    is sent (one per unit taking part, the sender's own excepted), acknowledged with a click."""

    __tablename__ = "message_receipt"
    __table_args__ = (UniqueConstraint("message_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("case_message.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    acknowledged_at: Mapped[datetime | None]

    unit: Mapped[Unit] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()


# Sent messages and given receipts are never changed (audit/append_only.py).
append_only.attach(CaseMessage.__table__)
append_only.attach(MessageReceipt.__table__)
