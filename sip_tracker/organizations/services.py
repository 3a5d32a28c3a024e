"""Looking up and changing huvudmän and units."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.organizations.models import Huvudman, Unit


def find_unit(reference: str) -> Unit | None:
    """A unit by HSA-id, numeric id, or exact name (case-insensitive)."""
    reference = reference.strip()
    unit = db.session.scalar(select(Unit).where(Unit.hsa_id == reference))
    if unit is None and reference.isdigit():
        unit = db.session.get(Unit, int(reference))
    if unit is None:
        unit = db.session.scalar(select(Unit).where(func.lower(Unit.name) == reference.lower()))
    return unit


def save_unit(
    unit: Unit | None, *, huvudman: Huvudman, name: str, hsa_id: str | None, active: bool
) -> Unit:
    """Create or update a unit; its HSA-id must be unique."""
    hsa_id = (hsa_id or "").strip() or None
    if hsa_id:
        taken = db.session.scalar(select(Unit).where(Unit.hsa_id == hsa_id))
        if taken is not None and taken is not unit:
            raise DomainError(
                _("HSA-id %(hsa)s används redan av %(unit)s.", hsa=hsa_id, unit=taken.name)
            )
    if unit is None:
        unit = Unit()
        db.session.add(unit)
    unit.huvudman = huvudman
    unit.name = name.strip()
    unit.hsa_id = hsa_id
    unit.active = active
    db.session.flush()
    return unit
