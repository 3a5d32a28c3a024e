"""Huvudmän (the region and the kommuner) and their units."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sip_tracker.db import db
from sip_tracker.versions import Versioned


class HuvudmanKind(StrEnum):
    KOMMUN = "kommun"
    REGION = "region"


class Huvudman(db.Model):  # type: ignore[name-defined]
    """A principal responsible for care: a kommun or a region."""

    __tablename__ = "huvudman"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[HuvudmanKind] = mapped_column(
        Enum(
            HuvudmanKind,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # SCB kommunkod, four digits; None for a region.
    kommunkod: Mapped[str | None] = mapped_column(String(4), unique=True)
    orgnr: Mapped[str | None] = mapped_column(String(10), unique=True)

    units: Mapped[list[Unit]] = relationship(
        back_populates="huvudman", order_by="Unit.name", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class Unit(Versioned, db.Model):  # type: ignore[name-defined]
    """A unit (enhet) of one huvudman, identified by HSA-id where it has one."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    huvudman_id: Mapped[int] = mapped_column(ForeignKey("huvudman.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    hsa_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The unit's functional mailbox (funktionsbrevlåda): the address kallelser go to.
    functional_mailbox: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(default=True)

    huvudman: Mapped[Huvudman] = relationship(back_populates="units")

    def __str__(self) -> str:
        return f"{self.name} ({self.huvudman.name})"
