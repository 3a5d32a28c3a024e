"""Users, their roles and the units a reviewer reviews; their sessions and failed sign-ins."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Column, Enum, ForeignKey, Index, LargeBinary, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sip_tracker.db import db, utcnow
from sip_tracker.organizations.models import Unit
from sip_tracker.versions import Versioned


class Role(StrEnum):
    SAMORDNARE = "samordnare"
    GRANSKARE = "granskare"
    ADMINISTRATOR = "administrator"


review_units = Table(
    "user_review_unit",
    db.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Versioned, db.Model):  # type: ignore[name-defined]
    """A staff member at one unit of one huvudman."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    # The user's own choice: an e-mail (with no personal data) for each new inbox item.
    email_notifications: Mapped[bool] = mapped_column(default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Every session records the number it was started under; raising it (sign-out, a new
    # password, deactivation) ends all of the user's sessions at once, in any store.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    reviewed_units: Mapped[list[Unit]] = relationship(secondary=review_units, order_by=Unit.name)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users at login and load
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMINISTRATOR

    @property
    def is_reviewer(self) -> bool:
        return self.role == Role.GRANSKARE

    def __str__(self) -> str:
        return self.name


class WebSession(db.Model):  # type: ignore[name-defined]
    """A browser's session on the server: the cookie holds only its random id."""

    __tablename__ = "web_session"

    # SHA-256 of the cookie's id, so a copy of this table opens no session.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LoginFailure(db.Model):  # type: ignore[name-defined]
    """One refused sign-in, counted per e-mail address and per client address.

    Both are kept as keyed hashes: the table holds neither what was typed as an e-mail
    address nor where it came from, only enough to count.
    """

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_account_failed_at", "account_key", "failed_at"),
        Index("ix_login_failure_address_failed_at", "address_key", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(64))
    address_key: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)
