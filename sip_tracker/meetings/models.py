"""SIP meetings: the kallelse (schedule and invitations) and the meeting as held."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sip_tracker.cases.codes import Response, values
from sip_tracker.db import db, utcnow
from sip_tracker.versions import Versioned

if TYPE_CHECKING:
    from sip_tracker.auth.models import User
    from sip_tracker.cases.models import Participant


class Meeting(Versioned, db.Model):  # type: ignore[name-defined]
    """A SIP meeting: scheduled, called (kallelse sent), and held."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("sip_case.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(default=60)
    place: Mapped[str | None] = mapped_column(String(255))
    video_link: Mapped[str | None] = mapped_column(String(500))
    is_follow_up: Mapped[bool] = mapped_column(default=False)
    kallelse_sent_at: Mapped[datetime | None]
    kallelse_sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    held_at: Mapped[datetime | None]
    person_attended: Mapped[bool | None]
    narstaende_attended: Mapped[bool | None]
    notes: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # The iCalendar SEQUENCE: raised when the time or place of the meeting changes.
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    # When the time or place last changed after the kallelse was sent: answers given before
    # it are kept, and shown as given before the move.
    moved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="Invitation.id"
    )
    kallelse_sent_by: Mapped[User | None] = relationship(foreign_keys=[kallelse_sent_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


class Invitation(db.Model):  # type: ignore[name-defined]
    """One participant invited to one meeting: their answer, and whether they came."""

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("meeting_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    response: Mapped[Response] = mapped_column(
        Enum(Response, native_enum=False, length=16, values_callable=values),
        default=Response.OBESVARAD,
    )
    responded_at: Mapped[datetime | None]
    # Who gave the answer; on_behalf when the mötesledare recorded an answer the unit gave
    # by telephone ("registrerat av X för Y").
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    on_behalf: Mapped[bool] = mapped_column(default=False, server_default="0")
    attendee_names: Mapped[str | None] = mapped_column(String(255))
    comment: Mapped[str | None] = mapped_column(Text)
    proposed_starts_at: Mapped[datetime | None]
    attended: Mapped[bool | None]

    meeting: Mapped[Meeting] = relationship(back_populates="invitations")
    participant: Mapped[Participant] = relationship()
    answered_by: Mapped[User | None] = relationship()

    @property
    def answered_before_move(self) -> bool:
        moved_at = self.meeting.moved_at
        return (
            moved_at is not None and self.responded_at is not None and self.responded_at < moved_at
        )
