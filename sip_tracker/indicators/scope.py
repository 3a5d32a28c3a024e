"""Whose cases an aggregate counts: the whole county, or one huvudman's.

Granskare follow the whole county. Samordnare and administratörer follow their own
huvudman: the cases started by one of its units (the initiating unit). Each case then
counts for exactly one huvudman, so the huvudmän's figures add up to the county's.
Aggregates only: no page built on a scope shows a name, a personnummer or a case id.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import QueryableAttribute

from sip_tracker.auth.models import Role, User
from sip_tracker.cases.models import SipCase
from sip_tracker.organizations.models import Unit


@dataclass(frozen=True)
class Scope:
    """None: the whole county; else the id and name of one huvudman."""

    huvudman_id: int | None
    name: str

    @property
    def is_county(self) -> bool:
        return self.huvudman_id is None


def scope_for(user: User, county_name: str) -> Scope:
    if user.role == Role.GRANSKARE:
        return Scope(None, county_name)
    huvudman = user.unit.huvudman
    return Scope(huvudman.id, huvudman.name)


def cases_in(scope: Scope) -> Select[tuple[int]]:
    """The ids of the cases the scope counts."""
    query = select(SipCase.id)
    if scope.huvudman_id is not None:
        query = query.join(Unit, Unit.id == SipCase.initiating_unit_id).where(
            Unit.huvudman_id == scope.huvudman_id
        )
    return query


def in_scope(
    case_id: ColumnElement[int] | QueryableAttribute[int], scope: Scope
) -> ColumnElement[bool]:
    if scope.huvudman_id is None:
        return true()
    return case_id.in_(cases_in(scope))
