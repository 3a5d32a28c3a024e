"""Putting things in inboxes, and reading them.

Every event another unit should know of goes through `notify`: it writes the inbox items
in the same transaction as the change, and the e-mail deliveries for the users who asked
for e-mail; the worker sends those once the transaction has committed.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select

from sip_tracker.auth.models import User
from sip_tracker.cases.access import unit_takes_part
from sip_tracker.cases.models import SipCase
from sip_tracker.changes import after_commit
from sip_tracker.db import db, utcnow
from sip_tracker.inbox.models import EmailDelivery, InboxItem, InboxKind, InboxRead
from sip_tracker.meetings.models import Meeting
from sip_tracker.messages.models import CaseMessage
from sip_tracker.organizations.models import Unit

# Told to units that no longer take part: the item says only that access ended.
_TO_FORMER_PARTICIPANTS = frozenset({InboxKind.CONSENT_WITHDRAWN})
# News only while the meeting is ahead: a kallelse recorded afterwards (an import, the
# demo's history) invites nobody to a meeting that has already started.
_ABOUT_A_COMING_MEETING = frozenset(
    {InboxKind.INVITATION, InboxKind.MEETING_MOVED, InboxKind.MEETING_CANCELLED, InboxKind.ANSWER}
)


def notify(
    kind: InboxKind,
    case: SipCase | None,
    *,
    units: Iterable[Unit | int] = (),
    users: Iterable[User] = (),
    actor: User | None = None,
    meeting: Meeting | None = None,
    message: CaseMessage | None = None,
    dedupe_key: str | None = None,
) -> list[InboxItem]:
    """Put one item in each named unit's inbox and in each named user's own (unless the
    user's whole unit is told: they see the unit's item).

    Only units (and users of units) taking part in the case are told, so nothing reaches a
    unit the person's consent does not cover. With dedupe_key (a reminder: the deadline and
    the day), an item already made for the same key and recipient is not made again.
    """
    if meeting is not None and kind in _ABOUT_A_COMING_MEETING and meeting.starts_at <= utcnow():
        return []
    targets: list[tuple[int, int | None]] = []
    for unit in units:
        unit_id = unit if isinstance(unit, int) else unit.id
        targets.append((unit_id, None))
    whole_units = {unit_id for unit_id, _ in targets}
    for user in users:
        # A user whose whole unit is told sees the unit's item: one item, not two.
        if user.unit_id not in whole_units:
            targets.append((user.unit_id, user.id))
    items: list[InboxItem] = []
    for unit_id, user_id in dict.fromkeys(targets):
        if (
            case is not None
            and kind not in _TO_FORMER_PARTICIPANTS
            and not unit_takes_part(case, unit_id)
        ):
            continue
        key = None
        if dedupe_key is not None:
            key = f"{dedupe_key}|{'p' if user_id else 'u'}{user_id or unit_id}"
            if db.session.scalar(select(InboxItem.id).where(InboxItem.dedupe_key == key)):
                continue
        item = InboxItem(
            kind=kind,
            unit_id=unit_id,
            user_id=user_id,
            case_id=case.id if case is not None else None,
            meeting_id=meeting.id if meeting is not None else None,
            message_id=message.id if message is not None else None,
            actor_id=actor.id if actor is not None else None,
            dedupe_key=key,
        )
        db.session.add(item)
        items.append(item)
    if items:
        db.session.flush()
        _announce_by_email(items, actor)
    return items


def _announce_by_email(items: list[InboxItem], actor: User | None) -> None:
    """Write a delivery for each user who asked for e-mail; the worker sends it after commit."""
    if not current_app.config.get("SMTP_HOST"):
        return
    deliveries: list[EmailDelivery] = []
    for item in items:
        query = select(User).where(User.active.is_(True), User.email_notifications.is_(True))
        if item.user_id is not None:
            query = query.where(User.id == item.user_id)
        else:
            query = query.where(User.unit_id == item.unit_id)
        for user in db.session.scalars(query):
            if actor is not None and user.id == actor.id:
                continue
            delivery = EmailDelivery(item_id=item.id, user_id=user.id)
            db.session.add(delivery)
            deliveries.append(delivery)
    if deliveries:
        db.session.flush()
        ids = [d.id for d in deliveries]
        after_commit(lambda: enqueue_deliveries(ids))


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    """Hand committed deliveries to the worker's queue (sip_tracker.worker)."""
    queue = current_app.extensions.get("sip_queue")
    if queue is not None:
        queue.enqueue_deliveries(delivery_ids)


# --- Reading ---


def addressed_to(user: User) -> ColumnElement[bool]:
    """The items in the user's inbox: their unit's, and their own."""
    return or_(
        and_(InboxItem.unit_id == user.unit_id, InboxItem.user_id.is_(None)),
        InboxItem.user_id == user.id,
    )


def is_read_by(user: User) -> ColumnElement[bool]:
    return exists().where(InboxRead.item_id == InboxItem.id, InboxRead.user_id == user.id)


def unread_count(user: User) -> int:
    """The number in the header: items for the user they have not opened."""
    query = select(func.count(InboxItem.id)).where(addressed_to(user), ~is_read_by(user))
    return db.session.scalar(query) or 0


def can_open(user: User, item: InboxItem) -> bool:
    return (item.user_id is None and item.unit_id == user.unit_id) or item.user_id == user.id


def mark_read(item: InboxItem, user: User) -> None:
    """The user opened the item (once: the first opening is the one kept)."""
    if db.session.get(InboxRead, (item.id, user.id)) is None:
        db.session.add(InboxRead(item_id=item.id, user_id=user.id))
        db.session.flush()


def mark_all_read(user: User) -> int:
    """The user opened everything in their inbox at once; the number of items marked."""
    unread = select(InboxItem.id).where(addressed_to(user), ~is_read_by(user))
    ids = db.session.scalars(unread).all()
    if ids:
        now = utcnow()
        rows = [{"item_id": item_id, "user_id": user.id, "read_at": now} for item_id in ids]
        db.session.execute(insert(InboxRead), rows)
    return len(ids)
