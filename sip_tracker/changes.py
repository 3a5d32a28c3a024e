"""What a committed change sets off: the write path names it, the commit runs it.

A service that changes a case calls `case_changed(case)`; one that changes a person,
`person_changed(person)`; one that changes the county action plan, `action_plan_changed()`.
Just before the transaction commits, each subscriber (the FHIR store, which maps what
changed again and stores new versions) is given what was named since the last commit, so
its work commits or rolls back with the change. A rollback forgets it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from sip_tracker.db import db

if TYPE_CHECKING:
    from sip_tracker.cases.models import SipCase
    from sip_tracker.people.models import Person

_KEY = "sip_changes"
_AFTER = "sip_after_commit"


@dataclass
class Changes:
    """What the transaction changed, as far as subscribers care."""

    case_ids: set[int] = field(default_factory=set)
    action_plan: bool = False

    def __bool__(self) -> bool:
        return bool(self.case_ids) or self.action_plan


Subscriber = Callable[[Changes], None]
_subscribers: list[Subscriber] = []


def _pending(session: Session) -> Changes:
    changes = session.info.get(_KEY)
    if changes is None:
        changes = session.info[_KEY] = Changes()
    return changes


def case_changed(case: SipCase) -> None:
    """The case changed: its FHIR resources are mapped again when the transaction commits."""
    _pending(db.session()).case_ids.add(case.id)


def person_changed(person: Person) -> None:
    """The person's own data changed: every case of theirs shows it."""
    from sip_tracker.cases.models import SipCase

    ids = db.session.scalars(select(SipCase.id).where(SipCase.person_id == person.id))
    _pending(db.session()).case_ids.update(ids)


def action_plan_changed() -> None:
    _pending(db.session()).action_plan = True


def run_pending() -> None:
    """Hand what changed so far to the subscribers now (before the commit does it)."""
    session = db.session()
    session.flush()
    changes = session.info.pop(_KEY, None)
    if changes:
        for subscriber in _subscribers:
            subscriber(changes)


def after_commit(callback: Callable[[], None]) -> None:
    """Run the callback once the transaction has committed (never if it rolls back): for
    work another thread or process must find committed, such as a Bulk Data export job."""
    db.session().info.setdefault(_AFTER, []).append(callback)


def subscribe(subscriber: Subscriber) -> None:
    """Call the subscriber before every commit that follows a named change (once per process)."""
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)
    session_class = db.session.session_factory.class_
    if not event.contains(session_class, "before_commit", _before_commit):
        event.listen(session_class, "before_commit", _before_commit)
        event.listen(session_class, "after_commit", _after_commit)
        event.listen(session_class, "after_rollback", _forget)


def _before_commit(session: Session) -> None:
    if session.info.get(_KEY):
        session.flush()
        changes = session.info.pop(_KEY)
        for subscriber in _subscribers:
            subscriber(changes)


def _after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER, []):
        callback()


def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)
    session.info.pop(_AFTER, None)
