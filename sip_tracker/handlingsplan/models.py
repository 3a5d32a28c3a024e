"""The county action plan as data: målområden, strategiska inriktningar, sakområden, activities.

Handlingsplan för god och nära vård och omsorg 2024–2030 (Region Stockholm and the 26
kommuner). The plan's content is data an administrator loads and edits, never code: each
year VIS decides a new list of prioritised activities. Identifiers are stable so that FHIR
PlanDefinition resources and links from cases keep pointing at the same activity.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sip_tracker.db import db, utcnow
from sip_tracker.versions import Versioned


class ActivityStatus(StrEnum):
    """Where an activity stands. PlanDefinition.status: planerad → draft, beslutad and
    pågående → active, avslutad and avbruten → retired."""

    PLANERAD = "planerad"
    BESLUTAD = "beslutad"
    PAGAENDE = "pagaende"
    AVSLUTAD = "avslutad"
    AVBRUTEN = "avbruten"


ACTIVITY_STATUS_LABELS = {
    ActivityStatus.PLANERAD: _l("Planerad"),
    ActivityStatus.BESLUTAD: _l("Beslutad"),
    ActivityStatus.PAGAENDE: _l("Pågående"),
    ActivityStatus.AVSLUTAD: _l("Avslutad"),
    ActivityStatus.AVBRUTEN: _l("Avbruten"),
}

# Activities a case can still be linked to.
OPEN_STATUSES = (ActivityStatus.PLANERAD, ActivityStatus.BESLUTAD, ActivityStatus.PAGAENDE)

# Identifiers and codes appear in URLs, files and FHIR ids: letters, digits, . _ -
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class Malomrade(Versioned, db.Model):  # type: ignore[name-defined]
    """One of the plan's five målområden (goal areas)."""

    __tablename__ = "malomrade"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    inriktningar: Mapped[list[StrategiskInriktning]] = relationship(
        back_populates="malomrade",
        order_by="StrategiskInriktning.position, StrategiskInriktning.id",
    )

    def __str__(self) -> str:
        return self.title


class StrategiskInriktning(Versioned, db.Model):  # type: ignore[name-defined]
    """A strategic direction within a målområde."""

    __tablename__ = "strategisk_inriktning"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    malomrade_id: Mapped[int] = mapped_column(ForeignKey("malomrade.id"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    malomrade: Mapped[Malomrade] = relationship(back_populates="inriktningar")


class PlanSakomrade(Versioned, db.Model):  # type: ignore[name-defined]
    """A sakområde (samrådsgrupp). The codes of the four a person's case can fall in are
    those of cases.codes.Sakomrade, so case links and filters meet in SQL."""

    __tablename__ = "plan_sakomrade"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return self.title


activity_malomrade = Table(
    "activity_malomrade",
    db.metadata,
    Column("activity_id", ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True),
    Column("malomrade_id", ForeignKey("malomrade.id", ondelete="CASCADE"), primary_key=True),
)

activity_sakomrade = Table(
    "activity_sakomrade",
    db.metadata,
    Column("activity_id", ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "sakomrade_code",
        ForeignKey("plan_sakomrade.code", ondelete="CASCADE", onupdate="CASCADE"),
        primary_key=True,
    ),
)


class Activity(Versioned, db.Model):  # type: ignore[name-defined]
    """A prioritised uppdrag or aktivitet of one year, or of several years in a row."""

    __tablename__ = "activity"
    __table_args__ = (CheckConstraint("year_to >= year_from", name="years_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    year_from: Mapped[int] = mapped_column(index=True)
    year_to: Mapped[int]
    responsible_group: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[ActivityStatus] = mapped_column(
        Enum(
            ActivityStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ActivityStatus.BESLUTAD,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    malomraden: Mapped[list[Malomrade]] = relationship(
        secondary=activity_malomrade, order_by="Malomrade.position"
    )
    sakomraden: Mapped[list[PlanSakomrade]] = relationship(
        secondary=activity_sakomrade, order_by="PlanSakomrade.position"
    )

    @property
    def years(self) -> str:
        if self.year_from == self.year_to:
            return str(self.year_from)
        return f"{self.year_from}–{self.year_to}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __str__(self) -> str:
        return f"{self.identifier} {self.title}"


class CaseActivity(db.Model):  # type: ignore[name-defined]
    """A case counted towards an activity of the plan."""

    __tablename__ = "case_activity"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("sip_case.id", ondelete="CASCADE"), primary_key=True
    )
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)

    activity: Mapped[Activity] = relationship()
