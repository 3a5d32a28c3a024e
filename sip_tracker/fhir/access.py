"""What an API token may see: cases its organisation takes part in, under consent covering it."""

from __future__ import annotations

from functools import cache

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, exists, func, select
from sqlalchemy.orm import aliased

from sip_tracker.cases.access import taking_part_clause
from sip_tracker.cases.models import Consent, SipCase, consent_unit
from sip_tracker.db import db
from sip_tracker.fhir.models import ApiToken, StoredResource
from sip_tracker.organizations.models import Unit


def _unit_ids(token: ApiToken) -> Select[tuple[int]]:
    """The organisation's units, as a subquery (no extra round trip)."""
    return select(Unit.id).where(Unit.huvudman_id == token.huvudman_id)


def consent_covers_organisation(unit_ids: Select[tuple[int]]) -> ColumnElement[bool]:
    """The case's current, not withdrawn consent covers at least one of the units."""
    newer = aliased(Consent)
    latest = (
        select(func.max(newer.id))
        .where(newer.case_id == SipCase.id)
        .correlate(SipCase)
        .scalar_subquery()
    )
    return exists().where(
        Consent.id == latest,
        Consent.withdrawn_on.is_(None),
        consent_unit.c.consent_id == Consent.id,
        consent_unit.c.unit_id.in_(unit_ids),
    )


def case_clause(token: ApiToken) -> ColumnElement[bool]:
    """SQL over sip_case: the token's organisation takes part and the consent covers it."""
    units = _unit_ids(token)
    return and_(taking_part_clause(units), consent_covers_organisation(units))


def visible_cases(token: ApiToken) -> Select[tuple[int]]:
    """Ids of the cases the token's organisation may receive."""
    return select(SipCase.id).where(case_clause(token))


def visible_people(token: ApiToken) -> Select[tuple[int]]:
    return select(SipCase.person_id).where(case_clause(token))


@cache
def _read_checks() -> tuple[Select[tuple[bool]], Select[tuple[bool]]]:
    """The read path's checks, built once (after every model is mapped): constructing SQL
    expressions costs more than running them."""
    units = select(Unit.id).where(Unit.huvudman_id == bindparam("huvudman_id", type_=Integer))
    org_case = and_(taking_part_clause(units), consent_covers_organisation(units))
    by_case = select(exists().where(SipCase.id == bindparam("case_id", type_=Integer), org_case))
    by_person = select(
        exists().where(SipCase.person_id == bindparam("person_id", type_=Integer), org_case)
    )
    return by_case, by_person


def may_read(token: ApiToken, row: StoredResource) -> bool:
    """One stored resource: its case, or one of its person's cases, must be visible."""
    by_case, by_person = _read_checks()
    if row.case_id is not None:
        params = {"huvudman_id": token.huvudman_id, "case_id": row.case_id}
        return bool(db.session.scalar(by_case, params))
    if row.person_id is not None:
        params = {"huvudman_id": token.huvudman_id, "person_id": row.person_id}
        return bool(db.session.scalar(by_person, params))
    return True  # organisations and action plan activities hold no personal data


def visible_resources(token: ApiToken) -> ColumnElement[bool]:
    """SQL over fhir_resource: case resources of visible cases, the people of those cases,
    and organisations (which hold no personal data)."""
    cases = visible_cases(token).scalar_subquery()
    people = visible_people(token).scalar_subquery()
    return (
        StoredResource.case_id.in_(cases)
        | (StoredResource.case_id.is_(None) & StoredResource.person_id.in_(people))
        | (StoredResource.case_id.is_(None) & StoredResource.person_id.is_(None))
    )
