"""Registering people and the people close to them."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from sip_tracker.audit.services import record
from sip_tracker.auth.models import User
from sip_tracker.changes import person_changed
from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.people.identifiers import parse_identifier
from sip_tracker.people.models import Person, RelatedPerson, RelationKind
from sip_tracker.versions import save_version

# The log's detail when the marking of skyddade personuppgifter changes (shown in words).
PROTECTED_ON = "protected_identity:on"
PROTECTED_OFF = "protected_identity:off"


def person_by_identifier(identifier: str) -> Person | None:
    digits = parse_identifier(identifier).digits
    return db.session.scalar(select(Person).where(Person.identifier == digits))


def create_person(
    *,
    user: User,
    identifier: str,
    given_name: str,
    family_name: str,
    phone: str | None,
    email: str | None,
    address: str | None,
) -> Person:
    """Register a person by personnummer or samordningsnummer; each number once."""
    parsed = parse_identifier(identifier)
    if db.session.scalar(select(Person.id).where(Person.identifier == parsed.digits)):
        raise DomainError(
            _("Det finns redan en person med nummer %(number)s.", number=parsed.formatted())
        )
    person = Person(
        identifier=parsed.digits,
        identifier_kind=parsed.kind,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        phone=(phone or "").strip() or None,
        email=(email or "").strip() or None,
        address=(address or "").strip() or None,
        registered_by_unit_id=user.unit_id,
    )
    db.session.add(person)
    db.session.flush()
    record("person.create", user=user, person_id=person.id)
    return person


def update_person(
    person: Person,
    *,
    user: User,
    given_name: str,
    family_name: str,
    phone: str | None,
    email: str | None,
    address: str | None,
    protected_identity: bool | None = None,
    lock_version: int | None = None,
) -> None:
    """Change the person's details, unless someone saved them since lock_version.

    protected_identity None leaves the marking as it is.
    """
    save_version(person, user=user, lock_version=lock_version, what=_("personuppgifterna"))
    person.given_name = given_name.strip()
    person.family_name = family_name.strip()
    person.phone = (phone or "").strip() or None
    person.email = (email or "").strip() or None
    person.address = (address or "").strip() or None
    detail = None
    if protected_identity is not None and protected_identity != person.protected_identity:
        person.protected_identity = protected_identity
        detail = PROTECTED_ON if protected_identity else PROTECTED_OFF
    db.session.flush()
    record("person.update", user=user, person_id=person.id, detail=detail)
    person_changed(person)


def add_related_person(
    person: Person,
    *,
    user: User,
    kind: RelationKind,
    name: str,
    relation: str | None,
    phone: str | None,
    email: str | None,
    address: str | None,
    identifier: str | None = None,
) -> RelatedPerson:
    """Add a vårdnadshavare or närstående, with contact details."""
    if not name.strip():
        raise DomainError(_("Ange ett namn."))
    related = RelatedPerson(
        kind=kind,
        name=name.strip(),
        relation=(relation or "").strip() or None,
        identifier=parse_identifier(identifier).digits if identifier else None,
        phone=(phone or "").strip() or None,
        email=(email or "").strip() or None,
        address=(address or "").strip() or None,
        recorded_by_unit_id=user.unit_id,
    )
    person.related.append(related)
    db.session.flush()
    record("person.related.add", user=user, person_id=person.id, detail=related.name)
    person_changed(person)
    return related


def update_related_person(
    person: Person,
    related: RelatedPerson,
    *,
    user: User,
    kind: RelationKind,
    name: str,
    relation: str | None,
    phone: str | None,
    email: str | None,
    address: str | None,
    identifier: str | None = None,
) -> None:
    """Change a vårdnadshavare's or närstående's details."""
    if related.person_id != person.id:
        raise DomainError(_("Personen är inte närstående till den här personen."))
    if not name.strip():
        raise DomainError(_("Ange ett namn."))
    related.kind = kind
    related.name = name.strip()
    related.relation = (relation or "").strip() or None
    if identifier:
        related.identifier = parse_identifier(identifier).digits
    related.phone = (phone or "").strip() or None
    related.email = (email or "").strip() or None
    related.address = (address or "").strip() or None
    db.session.flush()
    record("person.related.update", user=user, person_id=person.id, detail=related.name)
    person_changed(person)
