"""The inbox: what happened in a case that a unit (or one of its users) should know of,
who of the unit has read it, and the e-mails that announce it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sip_tracker.db import db, utcnow

if TYPE_CHECKING:
    from sip_tracker.auth.models import User
    from sip_tracker.cases.models import SipCase
    from sip_tracker.meetings.models import Meeting
    from sip_tracker.messages.models import CaseMessage
    from sip_tracker.organizations.models import Unit


class InboxKind(StrEnum):
    """What an inbox item is about. Reminders are the kinds the reminder job makes."""

    INVITATION = "inbjudan"
    MEETING_MOVED = "mote_flyttat"
    MEETING_CANCELLED = "mote_installt"
    ANSWER = "svar"
    MESSAGE = "meddelande"
    PLAN = "plan"
    CONSENT_WITHDRAWN = "samtycke_aterkallat"
    # Reminders
    KALLELSE_DEADLINE = "frist_kallelse"
    FOLLOW_UP_DUE = "frist_uppfoljning"
    INVITATION_UNANSWERED = "obesvarad_inbjudan"
    RECEIPT_MISSING = "kvittens_saknas"


REMINDER_KINDS = frozenset(
    {
        InboxKind.KALLELSE_DEADLINE,
        InboxKind.FOLLOW_UP_DUE,
        InboxKind.INVITATION_UNANSWERED,
        InboxKind.RECEIPT_MISSING,
    }
)

# What the item is, in the inbox list and (without anything personal) in the e-mail.
INBOX_KIND_LABELS = {
    InboxKind.INVITATION: _l("Inbjudan till SIP-möte"),
    InboxKind.MEETING_MOVED: _l("SIP-möte flyttat"),
    InboxKind.MEETING_CANCELLED: _l("SIP-möte inställt"),
    InboxKind.ANSWER: _l("Svar på kallelse"),
    InboxKind.MESSAGE: _l("Meddelande"),
    InboxKind.PLAN: _l("Plan fastställd eller ändrad"),
    InboxKind.CONSENT_WITHDRAWN: _l("Samtycke återkallat"),
    InboxKind.KALLELSE_DEADLINE: _l("Frist för kallelse vid utskrivning"),
    InboxKind.FOLLOW_UP_DUE: _l("Uppföljning snart eller försenad"),
    InboxKind.INVITATION_UNANSWERED: _l("Obesvarad inbjudan"),
    InboxKind.RECEIPT_MISSING: _l("Kvittens saknas"),
}


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


class InboxItem(db.Model):  # type: ignore[name-defined]
    """One thing for one unit's inbox, or for one user's (user_id set).

    An item for a unit is read per user (InboxRead): each member has their own unread mark,
    and the unit sees which members have read it.
    """

    __tablename__ = "inbox_item"
    __table_args__ = (Index("ix_inbox_item_unit_created", "unit_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InboxKind] = mapped_column(
        Enum(
            InboxKind, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]
        ),
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("sip_case.id", ondelete="CASCADE"), index=True
    )
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_message.id", ondelete="CASCADE")
    )
    # Who did what the item tells of (None for reminders).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Reminders carry a key naming the deadline and the day: the job makes each one once.
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)

    unit: Mapped[Unit] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    case: Mapped[SipCase | None] = relationship()
    meeting: Mapped[Meeting | None] = relationship()
    message: Mapped[CaseMessage | None] = relationship()
    reads: Mapped[list[InboxRead]] = relationship(
        cascade="all, delete-orphan", order_by="InboxRead.read_at"
    )


class InboxRead(db.Model):  # type: ignore[name-defined]
    """A user opened an inbox item."""

    __tablename__ = "inbox_read"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("inbox_item.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class EmailDelivery(db.Model):  # type: ignore[name-defined]
    """An e-mail announcing an inbox item to one user who asked for e-mail.

    Written in the same transaction as the item, so no e-mail is lost if the queue is
    down: the worker sends pending rows, retries failures, and marks the last failure.
    """

    __tablename__ = "email_delivery"
    __table_args__ = (UniqueConstraint("item_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inbox_item.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(
            DeliveryStatus,
            native_enum=False,
            length=16,
            values_callable=_values,
        ),
        default=DeliveryStatus.PENDING,
        index=True,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    # Why the last attempt failed: the SMTP error, never anything from the case.
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    item: Mapped[InboxItem] = relationship()
    user: Mapped[User] = relationship()
