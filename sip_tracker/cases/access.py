"""Who may see and change a case: the units taking part in it, under the person's consent.

Patientdatalagen's inner secrecy: access follows need, unit by unit. A unit takes part in
a case if it started the case, or if it was invited and the current consent covers it.
Everyone else, other units of the same huvudman included, is told the case does not exist.
"""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
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

from sip_tracker.audit.services import record
from sip_tracker.auth.models import Role, User, review_units
from sip_tracker.cases.codes import FINAL_STAGES
from sip_tracker.cases.models import Consent, Participant, SipCase, consent_unit
from sip_tracker.db import db


def unit_takes_part(case: SipCase, unit_id: int) -> bool:
    """Whether the unit started the case, or was invited and is covered by current consent."""
    if case.initiating_unit_id == unit_id:
        return True
    consent = case.active_consent
    if consent is None or not consent.covers(unit_id):
        return False
    return any(p.unit_id == unit_id for p in case.participants)


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


def taking_part_clause(
    unit_ids: list[int] | Select[tuple[int]] | CompoundSelect,
) -> ColumnElement[bool]:
    """SQL for unit_takes_part over a set of units (a list or a subquery), for lists and counts."""
    if isinstance(unit_ids, list) and not unit_ids:
        return false()
    newer = aliased(Consent)
    latest_consent = (
        select(func.max(newer.id))
        .where(newer.case_id == SipCase.id)
        .correlate(SipCase)
        .scalar_subquery()
    )
    covered_participant = exists().where(
        Participant.case_id == SipCase.id,
        Participant.unit_id.in_(unit_ids),
        Consent.id == latest_consent,
        Consent.withdrawn_on.is_(None),
        consent_unit.c.consent_id == Consent.id,
        consent_unit.c.unit_id == Participant.unit_id,
    )
    return or_(SipCase.initiating_unit_id.in_(unit_ids), and_(covered_participant))


def visible_to(user: User) -> ColumnElement[bool]:
    return taking_part_clause(_acting_unit_ids(user))


def load_case(case_id: int, *, change: bool = False) -> SipCase:
    """The case if the current user may see it (404 otherwise); a GET is logged as a read.

    With change=True the user must also be allowed to change it (403). On a POST the
    service that makes the change writes the audit row.
    """
    case = db.session.get(SipCase, case_id)
    if case is None or not can_view_case(current_user, case):
        abort(404)
    if change and not can_change_case(current_user, case):
        abort(403)
    if request.method == "GET":
        record("case.read", user=current_user, person_id=case.person_id, case_id=case.id)
    return case
