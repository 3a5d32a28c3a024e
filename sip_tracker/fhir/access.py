"""What an API token may see: cases its organisation takes part in, under consent covering it.

The rule is cases/access.py's `shares_case` for the organisation's units (its SQL twin
`shared_clause`): the same rule the importer applies before it changes anything.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, case, exists, select, true

from sip_tracker.cases.access import organisation_units, shared_clause
from sip_tracker.cases.models import SipCase
from sip_tracker.fhir.models import ApiToken, StoredResource


def _unit_ids(token: ApiToken) -> Select[tuple[int]]:
    return organisation_units(token.huvudman_id)


def case_clause(token: ApiToken) -> ColumnElement[bool]:
    """SQL over sip_case: the case is shared with the token's organisation."""
    return shared_clause(_unit_ids(token))


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
    """SQL for one stored resource: its case, or one of its person's cases, is shared with
    the organisation (`units`: the ids of its units); resources without personal data
    (organisations, activities) always are.

    The arguments are SQL (a subquery, columns), so the rule can sit inside the read path's
    single statement (fhir/read.py).
    """
    shared = shared_clause(units)
    return case(
        (case_id.is_not(None), exists().where(SipCase.id == case_id, shared)),
        (person_id.is_not(None), exists().where(SipCase.person_id == person_id, shared)),
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
