"""Read queries for the action plan. Each returns a Select."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import CompoundSelect, Integer, Select, String, cast, func, null, or_, select
from sqlalchemy.orm import selectinload

from sip_tracker.cases.models import SipCase
from sip_tracker.handlingsplan.models import (
    OPEN_STATUSES,
    Activity,
    CaseActivity,
    Malomrade,
    PlanSakomrade,
    activity_sakomrade,
)
from sip_tracker.indicators.scope import Scope, in_scope
from sip_tracker.organizations.models import Huvudman, Unit


def malomraden() -> Select[tuple[Malomrade]]:
    return (
        select(Malomrade)
        .options(selectinload(Malomrade.inriktningar))
        .order_by(Malomrade.position, Malomrade.id)
    )


def sakomraden() -> Select[tuple[PlanSakomrade]]:
    return select(PlanSakomrade).order_by(PlanSakomrade.position, PlanSakomrade.code)


def activities(year: int | None = None) -> Select[tuple[Activity]]:
    """Activities, newest year first; with a year, those that run that year."""
    query = select(Activity).options(
        selectinload(Activity.malomraden), selectinload(Activity.sakomraden)
    )
    if year is not None:
        query = query.where(Activity.year_from <= year, Activity.year_to >= year)
    return query.order_by(Activity.year_from.desc(), Activity.identifier)


def activity_years() -> Select[tuple[Any, Any]]:
    return select(func.min(Activity.year_from), func.max(Activity.year_to))


def activity_by_identifier(identifier: str) -> Select[tuple[Activity]]:
    return (
        select(Activity)
        .options(selectinload(Activity.malomraden), selectinload(Activity.sakomraden))
        .where(Activity.identifier == identifier)
    )


def activities_for_case(case_id: int) -> Select[tuple[Activity]]:
    return (
        select(Activity)
        .join(CaseActivity, CaseActivity.activity_id == Activity.id)
        .where(CaseActivity.case_id == case_id)
        .order_by(Activity.year_from.desc(), Activity.identifier)
    )


def linkable_activities(case_id: int) -> Select[tuple[Activity]]:
    """Activities a case may be linked to: those still open, and those it is linked to."""
    linked = select(CaseActivity.activity_id).where(CaseActivity.case_id == case_id)
    return (
        select(Activity)
        .options(selectinload(Activity.sakomraden))
        .where(or_(Activity.status.in_(OPEN_STATUSES), Activity.id.in_(linked)))
        .order_by(Activity.year_from.desc(), Activity.identifier)
    )


def suggested_activity_ids(codes: Iterable[str]) -> Select[tuple[int]]:
    """Activities that name one of these sakområden."""
    return (
        select(activity_sakomrade.c.activity_id)
        .where(activity_sakomrade.c.sakomrade_code.in_(list(codes)))
        .distinct()
    )


def huvudman_names(ids: list[int]) -> Select[tuple[int, str]]:
    return select(Huvudman.id, Huvudman.name).where(Huvudman.id.in_(ids))


def linked_case_counts(activity_id: int, scope: Scope) -> CompoundSelect:
    """Cases linked to an activity, per current stage and huvudman of the initiating unit:
    stage, huvudman_id, cases, persons. Totals are separate rows with None in their place,
    each counted in SQL (a person may have more than one case)."""
    base = (
        select(SipCase.id, SipCase.stage, SipCase.person_id, Unit.huvudman_id)
        .join(CaseActivity, CaseActivity.case_id == SipCase.id)
        .join(Unit, Unit.id == SipCase.initiating_unit_id)
        .where(CaseActivity.activity_id == activity_id, in_scope(SipCase.id, scope))
        .subquery("linked")
    )
    counts = (func.count().label("cases"), func.count(base.c.person_id.distinct()).label("persons"))
    by_both = select(base.c.stage, base.c.huvudman_id, *counts).group_by(
        base.c.stage, base.c.huvudman_id
    )
    by_stage = select(base.c.stage, cast(null(), Integer).label("huvudman_id"), *counts).group_by(
        base.c.stage
    )
    by_huvudman = select(cast(null(), String).label("stage"), base.c.huvudman_id, *counts).group_by(
        base.c.huvudman_id
    )
    everything = select(
        cast(null(), String).label("stage"),
        cast(null(), Integer).label("huvudman_id"),
        *counts,
    )
    return by_both.union_all(by_stage, by_huvudman, everything)
