"""What an API token may see: cases its organisation takes part in, under consent covering it."""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    case,
    exists,
    func,
    select,
    true,
)
from sqlalchemy.orm import aliased

from sip_tracker.cases.access import taking_part_clause
from sip_tracker.cases.models import Consent, SipCase, consent_unit
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


def organisation_may_read(
    units: Select[tuple[int]],
    case_id: SQLColumnExpression[int | None],
    person_id: SQLColumnExpression[int | None],
) -> ColumnElement[bool]:
    """SQL for one stored resource: its case, or one of its person's cases, is visible to the
    organisation (`units`: the ids of its units); resources without personal data
    (organisations, activities) always are.

    The arguments are SQL (a subquery, columns), so the rule can sit inside the read path's
    single statement (fhir/read.py).
    """
    org_case = and_(taking_part_clause(units), consent_covers_organisation(units))
    return case(
        (case_id.is_not(None), exists().where(SipCase.id == case_id, org_case)),
        (person_id.is_not(None), exists().where(SipCase.person_id == person_id, org_case)),
        else_=true(),
    )


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
