"""The plan: goals, insatser, åtgärder, follow-up; its established versions; follow-ups."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sip_tracker.cases.codes import Outcome, values
from sip_tracker.db import db, utcnow

if TYPE_CHECKING:
    from sip_tracker.auth.models import User
    from sip_tracker.organizations.models import Huvudman, Unit


class Plan(db.Model):  # type: ignore[name-defined]
    """The working draft of a case's plan; establishing it freezes a PlanVersion."""

    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("sip_case.id", ondelete="CASCADE"), unique=True)
    follow_up_method: Mapped[str] = mapped_column(Text, default="")
    follow_up_on: Mapped[date | None]
    # Bumped on every save; a save from a stale form is refused (no lost work).
    lock_version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    goals: Mapped[list[Goal]] = relationship(cascade="all, delete-orphan", order_by="Goal.position")
    insatser: Mapped[list[Insats]] = relationship(
        cascade="all, delete-orphan", order_by="Insats.position"
    )
    atgarder: Mapped[list[Atgard]] = relationship(
        cascade="all, delete-orphan", order_by="Atgard.position"
    )
    versions: Mapped[list[PlanVersion]] = relationship(
        cascade="all, delete-orphan", order_by="PlanVersion.number"
    )
    updated_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def current_version(self) -> PlanVersion | None:
        return self.versions[-1] if self.versions else None


class Goal(db.Model):  # type: ignore[name-defined]
    """A goal in the person's own words."""

    __tablename__ = "goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)


class Insats(db.Model):  # type: ignore[name-defined]
    """An insats and the huvudman and unit responsible for it."""

    __tablename__ = "insats"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(Text)
    huvudman_id: Mapped[int] = mapped_column(ForeignKey("huvudman.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]

    huvudman: Mapped[Huvudman] = relationship()
    unit: Mapped[Unit | None] = relationship()


class Atgard(db.Model):  # type: ignore[name-defined]
    """An åtgärd taken by someone other than the huvudmän: school, Försäkringskassan, family."""

    __tablename__ = "atgard"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    actor: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text)


class PlanVersion(db.Model):  # type: ignore[name-defined]
    """An established (fastställd) plan, frozen as it was agreed."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    established_at: Mapped[datetime] = mapped_column(default=utcnow)
    established_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    follow_up_on: Mapped[date]
    # The whole plan as agreed: goals, insatser, åtgärder, huvudansvar, follow-up.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)

    established_by: Mapped[User] = relationship()


class FollowUp(db.Model):  # type: ignore[name-defined]
    """A follow-up of the plan: how goals and insatser went, and the next date."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("sip_case.id", ondelete="CASCADE"), index=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_version.id"))
    held_on: Mapped[date]
    notes: Mapped[str | None] = mapped_column(Text)
    next_follow_up_on: Mapped[date | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    evaluations: Mapped[list[Evaluation]] = relationship(
        cascade="all, delete-orphan", order_by="Evaluation.id"
    )
    plan_version: Mapped[PlanVersion] = relationship()
    created_by: Mapped[User] = relationship()


class Evaluation(db.Model):  # type: ignore[name-defined]
    """How one goal or insats of the plan version went."""

    __tablename__ = "evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(
        ForeignKey("follow_up.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(16))  # "goal" or "insats"
    subject_text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[Outcome] = mapped_column(
        Enum(Outcome, native_enum=False, length=16, values_callable=values)
    )
    comment: Mapped[str | None] = mapped_column(Text)
