"""What the FHIR adapter keeps: each resource's current validated JSON, and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sip_tracker.db import db, utcnow
from sip_tracker.organizations.models import Huvudman


class StoredResource(db.Model):  # type: ignore[name-defined]
    """The latest version of one FHIR resource, as validated JSON ready to serve.

    Like HAPI, we validate when a version is written and serve reads, searches and exports
    from these bytes, so the FHIR models stay off the hot path.
    """

    __tablename__ = "fhir_resource"
    __table_args__ = (
        UniqueConstraint("resource_type", "logical_id"),
        Index("ix_fhir_resource_type_updated", "resource_type", "last_updated"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(40))
    logical_id: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(default=1)
    last_updated: Mapped[datetime] = mapped_column(default=utcnow)
    # The case the resource belongs to (None for Patient, RelatedPerson, Organization).
    case_id: Mapped[int | None] = mapped_column(index=True)
    # The person whose data it is (None for Organization).
    person_id: Mapped[int | None] = mapped_column(index=True)
    # Search keys kept beside the JSON so searches run in SQL.
    status: Mapped[str | None] = mapped_column(String(32))
    # The resource's own period (CarePlan.period), for date searches.
    date_start: Mapped[datetime | None]
    date_end: Mapped[datetime | None]
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ApiToken(db.Model):  # type: ignore[name-defined]
    """A bearer token for one IT system, acting for one organisation (huvudman)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    huvudman_id: Mapped[int] = mapped_column(ForeignKey("huvudman.id"), index=True)
    # SHA-256 of the token: the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    can_read: Mapped[bool] = mapped_column(default=True)
    can_write: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    huvudman: Mapped[Huvudman] = relationship()
