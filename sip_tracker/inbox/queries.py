"""Read queries for the inbox page. The list is a Select, so it paginates in SQL; what each
line needs besides (read by me? may I see its case?) is one query for the whole page."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from sip_tracker.auth.models import User
from sip_tracker.cases.access import visible_to
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.inbox.models import InboxItem, InboxRead
from sip_tracker.inbox.services import addressed_to, is_read_by

# The inbox's filters: everything, what I have not opened, what was addressed to me alone.
FILTERS = ("all", "unread", "mine")


def inbox_items(user: User, *, show: str = "all") -> Select[tuple[InboxItem]]:
    """The user's inbox (their unit's items and their own), newest first."""
    query = (
        select(InboxItem)
        .where(addressed_to(user))
        .options(
            selectinload(InboxItem.actor).selectinload(User.unit),
            selectinload(InboxItem.case).selectinload(SipCase.person),
        )
    )
    if show == "unread":
        query = query.where(~is_read_by(user))
    elif show == "mine":
        query = query.where(InboxItem.user_id == user.id)
    return query.order_by(InboxItem.created_at.desc(), InboxItem.id.desc())


def read_by(user: User, item_ids: Collection[int]) -> set[int]:
    """Which of the items the user has opened."""
    if not item_ids:
        return set()
    query = select(InboxRead.item_id).where(
        InboxRead.user_id == user.id, InboxRead.item_id.in_(item_ids)
    )
    return set(db.session.scalars(query))


def viewable_cases(user: User, case_ids: Collection[int]) -> set[int]:
    """Which of the cases the user may see now (the access rule's SQL twin, visible_to).

    An item stays in the inbox after its case stopped being shared with the unit (consent
    withdrawn, the unit removed): it then names no one.
    """
    if not case_ids:
        return set()
    query = select(SipCase.id).where(SipCase.id.in_(case_ids), visible_to(user))
    return set(db.session.scalars(query))


def readers(item: InboxItem) -> list[InboxRead]:
    """Who has opened the item and when, first reader first."""
    query = (
        select(InboxRead)
        .where(InboxRead.item_id == item.id)
        .options(selectinload(InboxRead.user))
        .order_by(InboxRead.read_at, InboxRead.user_id)
    )
    return list(db.session.scalars(query))
