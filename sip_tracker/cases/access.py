"""Who may see and change a case: the units taking part in it, under the person's consent.

Patientdatalagen's inner secrecy: access follows need, unit by unit. A unit takes part in
a case if it started the case, or if it was invited and the current consent covers it.
Everyone else, other units of the same huvudman included, is told the case does not exist.
"""

from __future__ import annotations

from collections.abc import Collection

from flask import abort
from flask_login import current_user
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    ScalarSelect,
    Select,
    SQLColumnExpression,
    and_,
    exists,
    false,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from sip_tracker.auth.models import Role, User, review_units
from sip_tracker.cases.codes import FINAL_STAGES, CaseRoleKind
from sip_tracker.cases.models import Consent, Participant, SipCase, consent_unit
from sip_tracker.db import db
from sip_tracker.organizations.models import Unit
from sip_tracker.people.models import Person, RelatedPerson
from sip_tracker.web import log_read

# --- The rule, as a predicate and as its SQL twin (tests/test_access.py checks they agree) ---


def unit_takes_part(case: SipCase, unit_id: int) -> bool:
    """Whether the unit started the case, or was invited and is covered by current consent."""
    if case.initiating_unit_id == unit_id:
        return True
    consent = case.active_consent
    if consent is None or not consent.covers(unit_id):
        return False
    return any(p.unit_id == unit_id for p in case.participants)


def units_taking_part(case: SipCase) -> list[int]:
    """The ids of the units taking part in the case (unit_takes_part), the initiating first."""
    candidates = [case.initiating_unit_id, *(p.unit_id for p in case.participants if p.unit_id)]
    return [u for u in dict.fromkeys(candidates) if unit_takes_part(case, u)]


def consent_covers_any(case: SipCase, unit_ids: Collection[int]) -> bool:
    """The case's current, not withdrawn consent covers at least one of the units."""
    consent = case.active_consent
    return consent is not None and any(consent.covers(unit_id) for unit_id in unit_ids)


def shares_case(case: SipCase, unit_ids: Collection[int]) -> bool:
    """The case is shared with these units (an organisation's, for the FHIR API): one takes
    part in it and the person's current consent covers one of them.

    Sharing with another system, or a person's data across cases, needs the consent even
    for the unit that started the case; its own users see the case without it.
    """
    return any(unit_takes_part(case, u) for u in unit_ids) and consent_covers_any(case, unit_ids)


def _acting_unit_ids(user: User) -> list[int]:
    if user.role == Role.GRANSKARE:
        return [unit.id for unit in user.reviewed_units]
    return [user.unit_id]


def acting_units_of(
    user_id: SQLColumnExpression[int | None], unit_id: SQLColumnExpression[int | None]
) -> CompoundSelect:
    """SQL for _acting_unit_ids, for a user and unit given as columns (the access log's rows).

    Built to be cheap per row: the reviewers are one uncorrelated (hashed) subquery, and
    the correlation is explicit because the columns' table may sit several queries out.
    """
    reviewers = select(User.id).where(User.role == Role.GRANSKARE).correlate(None)
    own = select(unit_id).where(user_id.not_in(reviewers)).correlate_except(None)
    reviewed = (
        select(review_units.c.unit_id)
        .where(review_units.c.user_id == user_id, user_id.in_(reviewers))
        .correlate_except(review_units)
    )
    return union_all(own, reviewed)


def can_view_case(user: User, case: SipCase) -> bool:
    return any(unit_takes_part(case, unit_id) for unit_id in _acting_unit_ids(user))


def can_change_case(user: User, case: SipCase) -> bool:
    """Coordinators and administrators of a taking-part unit change open cases; reviewers never."""
    if user.role == Role.GRANSKARE:
        return False
    return can_view_case(user, case) and case.stage not in FINAL_STAGES


def may_manage_meetings(user: User, case: SipCase) -> bool:
    """Whether the user plans, moves, cancels, calls and records the case's meetings: a
    coordinator of the initiating unit or of the mötesledare's unit. An invited unit
    answers for itself; it does not move or cancel another organisation's meeting."""
    if not can_change_case(user, case):
        return False
    leader = case.role(CaseRoleKind.MOTESLEDARE)
    return user.unit_id == case.initiating_unit_id or (
        leader is not None and leader.user is not None and user.unit_id == leader.unit_id
    )


def shares_person(person_id: int, unit_ids: Units) -> bool:
    """The person's own data (contact details, närstående) is shared with these units: one
    of the person's cases is shared with them (shares_case). Only then may they change it,
    since every case of the person shows it."""
    query = select(exists().where(SipCase.person_id == person_id, shared_clause(unit_ids)))
    return bool(db.session.scalar(query))


def sees_person_details(user: User, person: Person) -> bool:
    """Whether the user sees and may correct the person's contact details: their unit
    recorded them, or one of the person's cases is shared with it.

    Anyone may start a case for a personnummer they know; what other units recorded about
    that person stays theirs until the person's consent shares a case (the name and number,
    which the user typed, are all a new case shows).
    """
    units = _acting_unit_ids(user)
    return person.registered_by_unit_id in units or shares_person(person.id, units)


def visible_related(user: User, person: Person) -> list[RelatedPerson]:
    """The person's vårdnadshavare and närstående the user may see (as sees_person_details)."""
    units = _acting_unit_ids(user)
    if shares_person(person.id, units):
        return list(person.related)
    return [r for r in person.related if r.recorded_by_unit_id in units]


Units = list[int] | Select[tuple[int]] | CompoundSelect


def _latest_consent_id() -> ScalarSelect[int]:
    newer = aliased(Consent)
    return (
        select(func.max(newer.id))
        .where(newer.case_id == SipCase.id)
        .correlate(SipCase)
        .scalar_subquery()
    )


def taking_part_clause(unit_ids: Units) -> ColumnElement[bool]:
    """SQL for unit_takes_part over a set of units (a list or a subquery), for lists and counts."""
    if isinstance(unit_ids, list) and not unit_ids:
        return false()
    covered_participant = exists().where(
        Participant.case_id == SipCase.id,
        Participant.unit_id.in_(unit_ids),
        Consent.id == _latest_consent_id(),
        Consent.withdrawn_on.is_(None),
        consent_unit.c.consent_id == Consent.id,
        consent_unit.c.unit_id == Participant.unit_id,
    )
    return or_(SipCase.initiating_unit_id.in_(unit_ids), and_(covered_participant))


def consent_covers_clause(unit_ids: Units) -> ColumnElement[bool]:
    """SQL for consent_covers_any, over sip_case."""
    if isinstance(unit_ids, list) and not unit_ids:
        return false()
    return exists().where(
        Consent.id == _latest_consent_id(),
        Consent.withdrawn_on.is_(None),
        consent_unit.c.consent_id == Consent.id,
        consent_unit.c.unit_id.in_(unit_ids),
    )


def shared_clause(unit_ids: Units) -> ColumnElement[bool]:
    """SQL for shares_case, over sip_case."""
    return and_(taking_part_clause(unit_ids), consent_covers_clause(unit_ids))


def organisation_units(huvudman_id: int) -> Select[tuple[int]]:
    """The ids of an organisation's units, as a subquery (no extra round trip)."""
    return select(Unit.id).where(Unit.huvudman_id == huvudman_id)


def visible_to(user: User) -> ColumnElement[bool]:
    return taking_part_clause(_acting_unit_ids(user))


def load_case(case_id: int, *, change: bool = False) -> SipCase:
    """The case if the current user may see it (404 otherwise), its read logged (log_read).

    With change=True the user must also be allowed to change it (403).
    """
    case = db.session.get(SipCase, case_id)
    if case is None or not can_view_case(current_user, case):
        abort(404)
    if change and not can_change_case(current_user, case):
        abort(403)
    log_read("case.read", person_id=case.person_id, case_id=case.id)
    return case
