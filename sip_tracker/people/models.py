"""The person a SIP is for, and the people close to them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sip_tracker.db import db, utcnow
from sip_tracker.people.identifiers import IdentifierKind, parse_identifier
from sip_tracker.versions import Versioned


class RelationKind(StrEnum):
    VARDNADSHAVARE = "vardnadshavare"
    NARSTAENDE = "narstaende"


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


class Person(Versioned, db.Model):  # type: ignore[name-defined]
    """A person with a personnummer or samordningsnummer, stored as 12 digits."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(12), unique=True)
    identifier_kind: Mapped[IdentifierKind] = mapped_column(
        Enum(IdentifierKind, native_enum=False, length=20, values_callable=_values)
    )
    given_name: Mapped[str] = mapped_column(String(120))
    family_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(Text)
    # Skyddade personuppgifter (sekretessmarkering, skyddad folkbokföring): pages warn,
    # lists leave out the name, and the log review flags every access.
    protected_identity: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Who recorded the details: they stay theirs until a case shares them (cases/access.py).
    registered_by_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    related: Mapped[list[RelatedPerson]] = relationship(
        back_populates="person", order_by="RelatedPerson.id", cascade="all, delete-orphan"
    )

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def birth_date(self) -> date:
        return parse_identifier(self.identifier).birth_date

    def age_on(self, day: date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def is_child_on(self, day: date) -> bool:
        return self.age_on(day) < 18

    @property
    def guardians(self) -> list[RelatedPerson]:
        return [r for r in self.related if r.kind == RelationKind.VARDNADSHAVARE]

    @property
    def narstaende(self) -> list[RelatedPerson]:
        return [r for r in self.related if r.kind == RelationKind.NARSTAENDE]

    def __str__(self) -> str:
        return self.name


class RelatedPerson(db.Model):  # type: ignore[name-defined]
    """A vårdnadshavare (guardian of a child) or a närstående (someone close)."""

    __tablename__ = "related_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RelationKind] = mapped_column(
        Enum(RelationKind, native_enum=False, length=20, values_callable=_values)
    )
    name: Mapped[str] = mapped_column(String(160))
    relation: Mapped[str | None] = mapped_column(String(80))
    identifier: Mapped[str | None] = mapped_column(String(12))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(Text)
    recorded_by_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))

    person: Mapped[Person] = relationship(back_populates="related")

    def __str__(self) -> str:
        return self.name
