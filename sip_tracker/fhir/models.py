"""What the FHIR adapter keeps: each resource's current validated JSON, and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
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
    # The same resource in FHIR R5, mapped from the same domain objects (None until mapped).
    content_r5: Mapped[bytes | None] = mapped_column(LargeBinary)


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


class ExportJob(db.Model):  # type: ignore[name-defined]
    """A Bulk Data $export: kicked off by a token, run in the background, polled, downloaded."""

    __tablename__ = "fhir_export_job"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a random UUID
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))  # "system" or "patient"
    types: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every type
    since: Mapped[datetime | None]
    # queued|running|done|failed, then expired once its files are deleted (bulk.py), or
    # deleted (`error` says why) when data it holds may no longer be shared (exports.py)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    request_url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by the job's thread when it starts and after each batch: a job whose process
    # ended (a restart, a crash) stops beating, and a poll then reports it interrupted.
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # [{"type": "CarePlan", "file": "CarePlan.ndjson", "count": 20}, ...]
    output: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class ExportSubject(db.Model):  # type: ignore[name-defined]
    """Whose data a Bulk Data export holds: one row per (person, case), as its audit rows.

    Each download of one of its files is logged for these people and cases, and a consent
    withdrawal finds the exports holding the case by them. Kept while the files are.
    """

    __tablename__ = "fhir_export_subject"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(
        ForeignKey("fhir_export_job.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int]
    # None for the person's own resources (Patient, RelatedPerson). No index: only the
    # live exports' rows are kept, and a withdrawal reads them once.
    case_id: Mapped[int | None]
