"""Gallring: cases that ended long ago are deleted, with everything under them.

A case goes when it ended (avslutad, avbruten, avböjd) before the cutoff and has not
changed since; its person goes with their last case. The access log keeps its rows about
them (they name the case and person by id only) until the log's own time is up
(audit/retention.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select

from sip_tracker.audit.services import record
from sip_tracker.cases.codes import FINAL_STAGES
from sip_tracker.cases.models import SipCase, StageEvent
from sip_tracker.db import db
from sip_tracker.fhir.exports import CASE_PURGED, delete_exports_holding
from sip_tracker.fhir.store import unpublish_case, unpublish_person
from sip_tracker.people.models import Person


def ended_before(cutoff: datetime) -> Select[tuple[int]]:
    """Ids of the cases that ended before the cutoff and have not changed since."""
    ended_at = (
        select(func.max(StageEvent.at))
        .where(StageEvent.case_id == SipCase.id, StageEvent.to_stage.in_(FINAL_STAGES))
        .correlate(SipCase)
        .scalar_subquery()
    )
    return (
        select(SipCase.id)
        .where(
            SipCase.stage.in_(FINAL_STAGES),
            # A case imported as ended has no stage event: its last change says when.
            func.coalesce(ended_at, SipCase.updated_at) < cutoff,
            SipCase.updated_at < cutoff,
        )
        .order_by(SipCase.id)
    )


def people_left_without_cases(cases: Select[tuple[int]]) -> Select[tuple[int]]:
    """Ids of the people all of whose cases are among `cases` (a query of case ids)."""
    going = cases.order_by(None).scalar_subquery()
    other_case = (
        select(SipCase.id)
        .where(SipCase.person_id == Person.id, SipCase.id.not_in(going))
        .correlate(Person)
        .exists()
    )
    return select(Person.id).where(
        Person.id.in_(select(SipCase.person_id).where(SipCase.id.in_(going))), ~other_case
    )


def purge_case(case: SipCase) -> bool:
    """Delete the case with everything under it, and its person when no case of theirs
    is left; return whether the person went too.

    Under the case: stage history, roles, consents, kartläggning, participants, meetings
    and invitations, the plan with its versions, follow-ups, its links to the action
    plan, its FHIR resources, and any Bulk Data export still holding it.
    """
    person = case.person
    delete_exports_holding(case, reason=CASE_PURGED)
    record(
        "case.purge",
        user=None,
        person_id=case.person_id,
        case_id=case.id,
        detail=f"gallring: {case.stage.value}",
    )
    unpublish_case(case.id)
    db.session.delete(case)
    db.session.flush()
    if db.session.scalar(select(SipCase.id).where(SipCase.person_id == person.id).limit(1)):
        return False
    record("person.purge", user=None, person_id=person.id, detail="gallring: no case left")
    unpublish_person(person.id)
    db.session.delete(person)
    db.session.flush()
    return True
