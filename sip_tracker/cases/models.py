"""The SIP case: its stage and history, roles, sakområden, consent, kartläggning, participants."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, Enum, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from sip_tracker.cases.codes import (
    CaseRoleKind,
    ConsentGiver,
    ConsentMethod,
    NeedArea,
    Origin,
    ParticipantKind,
    Sakomrade,
    Stage,
    values,
)
from sip_tracker.db import db, utcnow
from sip_tracker.versions import Versioned

if TYPE_CHECKING:
    from sip_tracker.auth.models import User
    from sip_tracker.meetings.models import Meeting
    from sip_tracker.organizations.models import Unit
    from sip_tracker.people.models import Person, RelatedPerson
    from sip_tracker.plans.models import FollowUp, Plan


def _enum(enum: type, length: int = 24) -> Enum:
    return Enum(enum, native_enum=False, length=length, values_callable=values)


class SipCase(Versioned, db.Model):  # type: ignore[name-defined]
    """One SIP for one person, from the identified need to its end.

    Its version covers what the case's own forms save: details, kartläggning and roles.
    """

    __tablename__ = "sip_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    stage: Mapped[Stage] = mapped_column(_enum(Stage), default=Stage.BEHOV_IDENTIFIERAT, index=True)
    origin: Mapped[Origin] = mapped_column(_enum(Origin), default=Origin.ANNAN)
    # Lag (2017:612): at discharge the kallelse is due three days after utskrivningsklar.
    utskrivningsklar_on: Mapped[date | None]
    need_description: Mapped[str] = mapped_column(Text, default="")
    initiating_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The next date someone must act by (kallelse deadline, meeting, follow-up);
    # kept by services.refresh_due so overviews sort and filter in SQL.
    next_due_on: Mapped[date | None] = mapped_column(index=True)
    # Kartläggning: "vad är viktigt för dig", in the person's own words.
    what_matters: Mapped[str] = mapped_column(Text, default="")
    end_reason: Mapped[str | None] = mapped_column(Text)

    person: Mapped[Person] = relationship()
    initiating_unit: Mapped[Unit] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    sakomraden: Mapped[list[CaseSakomrade]] = relationship(
        cascade="all, delete-orphan", order_by="CaseSakomrade.code"
    )
    roles: Mapped[list[CaseRole]] = relationship(cascade="all, delete-orphan")
    events: Mapped[list[StageEvent]] = relationship(
        cascade="all, delete-orphan", order_by="StageEvent.id"
    )
    needs: Mapped[list[Need]] = relationship(cascade="all, delete-orphan", order_by="Need.id")
    consents: Mapped[list[Consent]] = relationship(
        cascade="all, delete-orphan", order_by="Consent.id"
    )
    participants: Mapped[list[Participant]] = relationship(
        cascade="all, delete-orphan", order_by="Participant.id"
    )
    meetings: Mapped[list[Meeting]] = relationship(
        cascade="all, delete-orphan", order_by="Meeting.starts_at"
    )
    plan: Mapped[Plan | None] = relationship(cascade="all, delete-orphan", uselist=False)
    follow_ups: Mapped[list[FollowUp]] = relationship(
        cascade="all, delete-orphan", order_by="FollowUp.held_on"
    )
    # Loaded only by the overview (cases.queries.cases_for_overview): the user's unit was
    # invited and nobody of it has opened the case yet ("Ny").
    is_new: Mapped[bool | None] = query_expression()

    def role(self, kind: CaseRoleKind) -> CaseRole | None:
        return next((r for r in self.roles if r.kind == kind), None)

    @property
    def active_consent(self) -> Consent | None:
        """The latest consent, if it has not been withdrawn."""
        latest = self.consents[-1] if self.consents else None
        return latest if latest and latest.withdrawn_on is None else None

    @property
    def withdrawn_consent(self) -> Consent | None:
        latest = self.consents[-1] if self.consents else None
        return latest if latest and latest.withdrawn_on is not None else None


class CaseSakomrade(db.Model):  # type: ignore[name-defined]
    __tablename__ = "case_sakomrade"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("sip_case.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[Sakomrade] = mapped_column(_enum(Sakomrade, 32), primary_key=True)


class CaseRole(db.Model):  # type: ignore[name-defined]
    """Initiativtagare, mötesledare or huvudansvarig: a unit and a named person."""

    __tablename__ = "case_role"
    __table_args__ = (UniqueConstraint("case_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("sip_case.id", ondelete="CASCADE"))
    kind: Mapped[CaseRoleKind] = mapped_column(_enum(CaseRoleKind))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    person_name: Mapped[str] = mapped_column(String(160))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)

    unit: Mapped[Unit] = relationship()
    user: Mapped[User | None] = relationship()


class StageEvent(db.Model):  # type: ignore[name-defined]
    """A stage change: when, by whom, from where to where, and why."""

    __tablename__ = "stage_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("sip_case.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[Stage | None] = mapped_column(_enum(Stage))
    to_stage: Mapped[Stage] = mapped_column(_enum(Stage))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()


class Need(db.Model):  # type: ignore[name-defined]
    """A need found in the kartläggning, in one life area."""

    __tablename__ = "need"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("sip_case.id", ondelete="CASCADE"), index=True)
    area: Mapped[NeedArea] = mapped_column(_enum(NeedArea))
    description: Mapped[str] = mapped_column(Text)
    current_support: Mapped[str | None] = mapped_column(Text)


consent_unit = Table(
    "consent_unit",
    db.metadata,
    Column("consent_id", ForeignKey("consent.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True),
)


class Consent(db.Model):  # type: ignore[name-defined]
    """Samtycke: who gave it, how, when, which units it covers, what it excludes."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("sip_case.id", ondelete="CASCADE"), index=True)
    given_by: Mapped[ConsentGiver] = mapped_column(_enum(ConsentGiver))
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("related_person.id"))
    method: Mapped[ConsentMethod] = mapped_column(_enum(ConsentMethod))
    given_on: Mapped[date]
    other_organisations: Mapped[str | None] = mapped_column(Text)
    exclusions: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_on: Mapped[date | None]
    withdrawal_note: Mapped[str | None] = mapped_column(Text)
    withdrawal_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    units: Mapped[list[Unit]] = relationship(secondary=consent_unit)
    guardian: Mapped[RelatedPerson | None] = relationship()
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])

    def covers(self, unit_id: int) -> bool:
        return self.withdrawn_on is None and any(u.id == unit_id for u in self.units)


class Participant(db.Model):  # type: ignore[name-defined]
    """Someone who takes part in the SIP: a unit, a närstående, or another actor."""

    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("sip_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ParticipantKind] = mapped_column(_enum(ParticipantKind))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    related_person_id: Mapped[int | None] = mapped_column(ForeignKey("related_person.id"))
    # A contact person at the unit, or the name of another actor.
    name: Mapped[str | None] = mapped_column(String(160))
    organisation: Mapped[str | None] = mapped_column(String(160))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a user of the participating unit first opened the case: until then the case is
    # new to the unit ("Ny" in its lists).
    seen_at: Mapped[datetime | None]
    seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    unit: Mapped[Unit | None] = relationship()
    related_person: Mapped[RelatedPerson | None] = relationship()

    @property
    def display_name(self) -> str:
        if self.unit is not None:
            return f"{self.unit.name}" + (f", {self.name}" if self.name else "")
        if self.related_person is not None:
            return self.related_person.name
        return ", ".join(part for part in (self.name, self.organisation) if part)
