"""Read queries for "Idag": each kind of deadline in the cases the user may see, up to a day.

Every query is narrowed by the access rule's SQL twin (visible_to), and loads the case and
its person with it, so the page costs the same few statements however much is due.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, exists, select
from sqlalchemy.orm import selectinload

from sip_tracker.auth.models import User
from sip_tracker.cases.access import visible_to
from sip_tracker.cases.codes import FINAL_STAGES, Response, Stage
from sip_tracker.cases.models import Participant, SipCase
from sip_tracker.cases.queries import holds_case_clause
from sip_tracker.inbox.models import InboxItem, InboxKind
from sip_tracker.inbox.services import addressed_to, is_read_by
from sip_tracker.meetings.models import Invitation, Meeting
from sip_tracker.messages.models import CaseMessage, MessageReceipt


def _cases(user: User, *, only_mine: bool) -> ColumnElement[bool]:
    """The open cases the user may see; with only_mine, only their own."""
    clause = and_(visible_to(user), SipCase.stage.not_in(FINAL_STAGES))
    return and_(clause, holds_case_clause(user)) if only_mine else clause


def cases_due(user: User, *, only_mine: bool, until: date) -> Select[tuple[SipCase]]:
    """Cases whose next deadline (a discharge kallelse, a follow-up) falls by `until`.

    The meetings of called cases are listed by meetings_due, with their time and place.
    """
    return (
        select(SipCase)
        .where(
            _cases(user, only_mine=only_mine),
            SipCase.stage != Stage.KALLAD,
            SipCase.next_due_on.is_not(None),
            SipCase.next_due_on <= until,
        )
        .options(selectinload(SipCase.person))
        .order_by(SipCase.next_due_on, SipCase.id)
    )


def meetings_due(
    user: User, *, only_mine: bool, before: datetime
) -> Select[tuple[Meeting, SipCase]]:
    """Meetings not held and not cancelled that start before `before` (UTC), past ones too:
    a meeting that has passed is yet to be recorded as held."""
    return (
        select(Meeting, SipCase)
        .join(SipCase, SipCase.id == Meeting.case_id)
        .where(
            _cases(user, only_mine=only_mine),
            Meeting.held_at.is_(None),
            Meeting.cancelled_at.is_(None),
            Meeting.starts_at < before,
        )
        .options(selectinload(SipCase.person))
        .order_by(Meeting.starts_at, Meeting.id)
    )


def unanswered_invitations(
    user: User, *, only_mine: bool, after: datetime, before: datetime
) -> Select[tuple[Invitation, Meeting, SipCase]]:
    """My unit's invitations not answered, to called meetings starting between after and
    before (UTC)."""
    return (
        select(Invitation, Meeting, SipCase)
        .join(Meeting, Meeting.id == Invitation.meeting_id)
        .join(Participant, Participant.id == Invitation.participant_id)
        .join(SipCase, SipCase.id == Meeting.case_id)
        .where(
            _cases(user, only_mine=only_mine),
            Participant.unit_id == user.unit_id,
            Invitation.response == Response.OBESVARAD,
            Meeting.kallelse_sent_at.is_not(None),
            Meeting.cancelled_at.is_(None),
            Meeting.held_at.is_(None),
            Meeting.starts_at >= after,
            Meeting.starts_at < before,
        )
        .options(selectinload(SipCase.person))
        .order_by(Meeting.starts_at, Invitation.id)
    )


def unread_messages(user: User, *, only_mine: bool) -> Select[tuple[InboxItem, SipCase]]:
    """Inbox items telling of a message, that the user has not opened."""
    return (
        select(InboxItem, SipCase)
        .join(SipCase, SipCase.id == InboxItem.case_id)
        .where(
            _cases(user, only_mine=only_mine),
            InboxItem.kind == InboxKind.MESSAGE,
            addressed_to(user),
            ~is_read_by(user),
        )
        .options(selectinload(SipCase.person))
        .order_by(InboxItem.created_at, InboxItem.id)
    )


def receipts_owed(user: User, *, only_mine: bool) -> Select[tuple[CaseMessage, SipCase]]:
    """Messages that asked my unit for a receipt (kvittens) it has not given."""
    return (
        select(CaseMessage, SipCase)
        .join(SipCase, SipCase.id == CaseMessage.case_id)
        .where(
            _cases(user, only_mine=only_mine),
            exists().where(
                MessageReceipt.message_id == CaseMessage.id,
                MessageReceipt.unit_id == user.unit_id,
                MessageReceipt.acknowledged_at.is_(None),
            ),
        )
        .options(selectinload(SipCase.person), selectinload(CaseMessage.author_unit))
        .order_by(CaseMessage.created_at, CaseMessage.id)
    )


def receipts_awaited(user: User, *, only_mine: bool) -> Select[tuple[CaseMessage, SipCase]]:
    """Messages I sent asking for receipts that some unit has not given yet."""
    pending = exists().where(
        MessageReceipt.message_id == CaseMessage.id, MessageReceipt.acknowledged_at.is_(None)
    )
    return (
        select(CaseMessage, SipCase)
        .join(SipCase, SipCase.id == CaseMessage.case_id)
        .where(
            _cases(user, only_mine=only_mine),
            CaseMessage.author_id == user.id,
            CaseMessage.receipt_requested.is_(True),
            pending,
        )
        .options(
            selectinload(SipCase.person),
            selectinload(CaseMessage.receipts).selectinload(MessageReceipt.unit),
        )
        .order_by(CaseMessage.created_at, CaseMessage.id)
    )
