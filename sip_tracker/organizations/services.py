"""Looking up and changing huvudmän and units."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.organizations.models import Huvudman, HuvudmanKind, Unit
from sip_tracker.versions import save_version

if TYPE_CHECKING:
    from sip_tracker.auth.models import User


def find_unit(reference: str) -> Unit | None:
    """A unit by HSA-id, numeric id, or exact name (case-insensitive)."""
    reference = reference.strip()
    unit = db.session.scalar(select(Unit).where(Unit.hsa_id == reference))
    if unit is None and reference.isdigit():
        unit = db.session.get(Unit, int(reference))
    if unit is None:
        # Compared in Python: SQLite's lower() leaves Å, Ä and Ö as they are.
        wanted = reference.casefold()
        unit = next(
            (u for u in db.session.scalars(select(Unit)) if u.name.casefold() == wanted), None
        )
    return unit


def save_unit(
    unit: Unit | None,
    *,
    huvudman: Huvudman,
    name: str,
    hsa_id: str | None,
    active: bool,
    functional_mailbox: str | None = None,
    lock_version: int | None = None,
    user: User | None = None,
) -> Unit:
    """Create or update a unit; its HSA-id is unique, its name unique within the huvudman."""
    if unit is not None:
        save_version(unit, user=user, lock_version=lock_version, what=_("enheten"))
    name = name.strip()
    hsa_id = (hsa_id or "").strip() or None
    if hsa_id:
        taken = db.session.scalar(select(Unit).where(Unit.hsa_id == hsa_id))
        if taken is not None and taken is not unit:
            raise DomainError(
                _("HSA-id %(hsa)s används redan av %(unit)s.", hsa=hsa_id, unit=taken.name),
                "hsa_id",
            )
    # In Python: SQLite's lower() leaves Å, Ä and Ö alone. A huvudman has few units.
    if any(u is not unit and u.name.casefold() == name.casefold() for u in huvudman.units):
        raise DomainError(
            _(
                "%(huvudman)s har redan en enhet som heter %(name)s.",
                huvudman=huvudman.name,
                name=name,
            ),
            "name",
        )
    if unit is None:
        unit = Unit()
        db.session.add(unit)
    unit.huvudman = huvudman
    unit.name = name
    unit.hsa_id = hsa_id
    unit.active = active
    unit.functional_mailbox = (functional_mailbox or "").strip() or None
    db.session.flush()
    return unit


def add_huvudman(
    *, name: str, kind: HuvudmanKind, kommunkod: str | None, orgnr: str | None
) -> Huvudman:
    """Register a huvudman (a kommun or a region); its name is unique."""
    name = name.strip()
    if db.session.scalar(select(Huvudman.id).where(Huvudman.name == name)) is not None:
        raise DomainError(_("Det finns redan en huvudman som heter %(name)s.", name=name), "name")
    huvudman = Huvudman(name=name, kind=kind, kommunkod=kommunkod, orgnr=orgnr)
    db.session.add(huvudman)
    db.session.flush()
    return huvudman
