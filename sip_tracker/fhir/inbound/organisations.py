"""Find the organisations a Bundle names: huvudmän by kommunkod, organisationsnummer or name;
units by HSA-id, or by our logical id and name. Nothing is created: an organisation we do
not know is a 422 naming the element."""

from __future__ import annotations

import re

from sqlalchemy import select

from sip_tracker.db import db
from sip_tracker.fhir.inbound.bundle import unprocessable
from sip_tracker.fhir.inbound.records import OrganisationData, SipBundle
from sip_tracker.guards import database_id
from sip_tracker.organizations.models import Huvudman, Unit

_DB_ID = re.compile(r"^(?:unit|huvudman|related|meeting|sip)-(\d+)$")


def pk_of(logical_id: str | None) -> int | None:
    """The database id in one of our logical ids (unit-12 → 12); None for anything else,
    an id beyond the database's integers included."""
    match = _DB_ID.match(logical_id or "")
    return database_id(match[1]) if match else None


def _huvudman(data: OrganisationData) -> Huvudman:
    found = None
    if data.kommunkod:
        found = db.session.scalar(select(Huvudman).where(Huvudman.kommunkod == data.kommunkod))
    if found is None and data.orgnr:
        found = db.session.scalar(select(Huvudman).where(Huvudman.orgnr == data.orgnr))
    if found is None and (pk := pk_of(data.logical_id)) and data.logical_id.startswith("huvudman"):  # type: ignore[union-attr]
        candidate = db.session.get(Huvudman, pk)
        found = candidate if candidate is not None and candidate.name == data.name else None
    if found is None:
        found = db.session.scalar(select(Huvudman).where(Huvudman.name == data.name))
    if found is None:
        raise unprocessable(
            f"No huvudman here has kommunkod {data.kommunkod!r}, organisationsnummer"
            f" {data.orgnr!r} or the name {data.name!r}",
            f"{data.path}.identifier",
            code="not-found",
        )
    return found


def _unit(data: OrganisationData, parent: Huvudman | None) -> Unit:
    if data.hsa_id:
        found = db.session.scalar(select(Unit).where(Unit.hsa_id == data.hsa_id))
        if found is None:
            raise unprocessable(
                f"No unit here has HSA-id {data.hsa_id!r}",
                data.hsa_path or f"{data.path}.identifier",
                code="not-found",
            )
    else:
        found = None
        pk = pk_of(data.logical_id)
        if pk and str(data.logical_id).startswith("unit-"):
            candidate = db.session.get(Unit, pk)
            found = candidate if candidate is not None and candidate.name == data.name else None
        if found is None and parent is not None:
            found = db.session.scalar(
                select(Unit).where(Unit.huvudman_id == parent.id, Unit.name == data.name)
            )
        if found is None:
            raise unprocessable(
                f"The unit {data.name!r} has no HSA-id and is not known here by name",
                f"{data.path}.name",
                code="not-found",
            )
    if parent is not None and found.huvudman_id != parent.id:
        raise unprocessable(
            f"{found.name} is not a unit of {parent.name}", f"{data.path}.partOf", code="value"
        )
    return found


def resolve_organisations(sip: SipBundle) -> dict[int, Unit | Huvudman]:
    found: dict[int, Unit | Huvudman] = {}
    for index, data in sip.organisations.items():
        if data.is_huvudman:
            found[index] = _huvudman(data)
    for index, data in sip.organisations.items():
        if not data.is_huvudman:
            parent = found.get(data.part_of) if data.part_of is not None else None
            found[index] = _unit(data, parent if isinstance(parent, Huvudman) else None)
    return found


def as_unit(orgs: dict[int, Unit | Huvudman], index: int, path: str) -> Unit:
    org = orgs.get(index)
    if not isinstance(org, Unit):
        raise unprocessable("This must be a unit (an Organization partOf a huvudman)", path)
    return org
