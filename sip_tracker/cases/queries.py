"""Read queries for case lists. Each returns a Select, so lists paginate in SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, exists, false, or_, select
from sqlalchemy.orm import selectinload, with_expression

from sip_tracker.auth.models import Role, User
from sip_tracker.cases.access import unit_takes_part, visible_to
from sip_tracker.cases.codes import FINAL_STAGES, Sakomrade, Stage
from sip_tracker.cases.models import CaseRole, CaseSakomrade, Participant, SipCase
from sip_tracker.handlingsplan.models import CaseActivity, activity_malomrade
from sip_tracker.organizations.models import Unit
from sip_tracker.people.identifiers import InvalidIdentifier, parse_identifier
from sip_tracker.people.models import Person


@dataclass
class CaseFilters:
    q: str | None = None
    stage: Stage | None = None
    sakomrade: Sakomrade | None = None
    kommun_id: int | None = None
    activity_id: int | None = None  # an activity of the handlingsplan
    malomrade_id: int | None = None  # any activity in this målområde
    due: str | None = None  # "overdue" or "week"
    status: str = "open"  # "open", "closed" or "all"


def cases_for_overview(
    user: User, *, scope: str, filters: CaseFilters, today: date
) -> Select[tuple[SipCase]]:
    """The cases a user may see, narrowed by scope and filters, by next due date."""
    query = (
        select(SipCase)
        .join(SipCase.person)
        .where(visible_to(user))
        .options(
            selectinload(SipCase.person),
            selectinload(SipCase.initiating_unit).selectinload(Unit.huvudman),
            selectinload(SipCase.sakomraden),
        )
    )
    new_to_unit = new_to_unit_clause(user)
    query = query.options(with_expression(SipCase.is_new, new_to_unit))
    if scope == "mine" and user.role != Role.GRANSKARE:
        query = query.where(or_(holds_case_clause(user), new_to_unit))
    if filters.status == "open":
        query = query.where(SipCase.stage.not_in(FINAL_STAGES))
    elif filters.status == "closed":
        query = query.where(SipCase.stage.in_(FINAL_STAGES))
    if filters.stage:
        query = query.where(SipCase.stage == filters.stage)
    if filters.sakomrade:
        query = query.where(
            exists().where(
                CaseSakomrade.case_id == SipCase.id, CaseSakomrade.code == filters.sakomrade
            )
        )
    if filters.kommun_id:
        query = query.where(_involves_huvudman(filters.kommun_id))
    if filters.activity_id:
        query = query.where(
            exists().where(
                CaseActivity.case_id == SipCase.id, CaseActivity.activity_id == filters.activity_id
            )
        )
    if filters.malomrade_id:
        query = query.where(
            exists().where(
                CaseActivity.case_id == SipCase.id,
                activity_malomrade.c.activity_id == CaseActivity.activity_id,
                activity_malomrade.c.malomrade_id == filters.malomrade_id,
            )
        )
    if filters.due == "overdue":
        query = query.where(SipCase.next_due_on < today)
    elif filters.due == "week":
        query = query.where(SipCase.next_due_on.between(today, today + timedelta(days=7)))
    if filters.q:
        query = query.where(_matches(filters.q))
    return query.order_by(SipCase.next_due_on.asc().nulls_last(), SipCase.id.desc())


def holds_case_clause(user: User) -> ColumnElement[bool]:
    """SQL, over sip_case: the user started the case or holds a role in it (initiativtagare,
    mötesledare, huvudansvarig)."""
    return or_(
        SipCase.created_by_id == user.id,
        exists().where(CaseRole.case_id == SipCase.id, CaseRole.user_id == user.id),
    )


def new_to_unit_clause(user: User) -> ColumnElement[bool]:
    """SQL, over sip_case: the user's unit was invited and none of its users has opened the
    case yet (Participant.seen_at, set by cases.services.mark_seen)."""
    if user.role == Role.GRANSKARE:
        return false()
    return exists().where(
        Participant.case_id == SipCase.id,
        Participant.unit_id == user.unit_id,
        Participant.seen_at.is_(None),
    )


def role_candidates(case: SipCase) -> Select[tuple[User]]:
    """The active users who may hold a role in the case: those of the units taking part
    (reviewers act for no unit of their own), by unit and name."""
    units = {case.initiating_unit_id} | {p.unit_id for p in case.participants if p.unit_id}
    taking_part = [unit_id for unit_id in units if unit_takes_part(case, unit_id)]
    return (
        select(User)
        .join(User.unit)
        .where(
            User.unit_id.in_(taking_part),
            User.active.is_(True),
            User.role != Role.GRANSKARE,
        )
        .options(selectinload(User.unit).selectinload(Unit.huvudman))
        .order_by(Unit.name, User.name)
    )


def _involves_huvudman(huvudman_id: int) -> ColumnElement[bool]:
    initiating = select(Unit.id).where(Unit.huvudman_id == huvudman_id)
    return or_(
        SipCase.initiating_unit_id.in_(initiating),
        exists().where(
            Participant.case_id == SipCase.id,
            Participant.unit_id.in_(select(Unit.id).where(Unit.huvudman_id == huvudman_id)),
        ),
    )


def _matches(text: str) -> ColumnElement[bool]:
    """A whole personnummer in any written form, its digits, or a name."""
    text = text.strip()
    digits = re.sub(r"[-+\s]", "", text)
    try:
        parsed = parse_identifier(text)
    except InvalidIdentifier:
        pass
    else:
        if len(digits) == 10 and "+" not in text:
            # No century written: the person may be of either, so match both.
            return Person.identifier.endswith(digits)
        return Person.identifier == parsed.digits
    if digits.isdigit():
        return Person.identifier.contains(digits)
    pattern = f"%{text.lower()}%"
    conditions: list[ColumnElement[bool]] = [
        Person.given_name.ilike(pattern),
        Person.family_name.ilike(pattern),
    ]
    parts = text.split()
    if len(parts) >= 2:
        conditions.append(
            Person.given_name.ilike(f"%{parts[0]}%") & Person.family_name.ilike(f"%{parts[-1]}%")
        )
    return or_(*conditions)
