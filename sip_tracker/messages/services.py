"""Writing on a case, asking for and giving kvittenser, and reading the thread.

A message is part of the case's record: it is never changed after it is sent (the database
refuses, sip_tracker/audit/append_only.py), a correction is a new message naming the one
it corrects, and messages go with the case when it is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from sip_tracker.auth.models import User
from sip_tracker.cases.access import can_change_case, units_taking_part
from sip_tracker.cases.changes import record_change
from sip_tracker.cases.codes import FINAL_STAGES
from sip_tracker.cases.models import SipCase
from sip_tracker.clock import STOCKHOLM
from sip_tracker.db import db, utcnow
from sip_tracker.errors import DomainError, PermissionDenied
from sip_tracker.inbox.models import InboxKind
from sip_tracker.inbox.services import notify
from sip_tracker.messages.models import CaseMessage, MessageReceipt

BODY_MAX = 5000
SATURDAY = 5


def send_message(
    case: SipCase,
    *,
    user: User,
    body: str,
    receipt_requested: bool = False,
    corrects: CaseMessage | None = None,
    at: datetime | None = None,
) -> CaseMessage:
    """Write a message on the case from the user's unit, and tell the other units taking part.

    Asking for a kvittens makes one receipt per other unit taking part now: a unit invited
    later did not get the message when it was sent, so owes no receipt. `at` is when it was
    written, for a message recorded afterwards (the demo's history); default now.
    """
    if not can_change_case(user, case):
        raise PermissionDenied(_("Du kan inte skriva meddelanden i det här ärendet."))
    text = body.strip()
    if not text:
        raise DomainError(_("Skriv ett meddelande."), field="body")
    if len(text) > BODY_MAX:
        raise DomainError(_("Meddelandet får vara högst %(n)d tecken.", n=BODY_MAX), field="body")
    if corrects is not None:
        if corrects.case_id != case.id:
            raise DomainError(_("Meddelandet som ska rättas finns inte i ärendet."))
        if corrects.author_unit_id != user.unit_id:
            raise PermissionDenied(_("Bara den enhet som skrev ett meddelande kan rätta det."))
    message = CaseMessage(
        case_id=case.id,
        author_id=user.id,
        author_unit_id=user.unit_id,
        body=text,
        receipt_requested=receipt_requested,
        corrects_id=corrects.id if corrects is not None else None,
        created_at=at or utcnow(),
    )
    others = [u for u in units_taking_part(case) if u != user.unit_id]
    if receipt_requested:
        message.receipts = [MessageReceipt(unit_id=unit_id) for unit_id in others]
    db.session.add(message)
    db.session.flush()
    record_change("message.send", case, user, f"meddelande {message.id}")
    notify(InboxKind.MESSAGE, case, units=others, actor=user, message=message)
    return message


def receipt_of(message: CaseMessage, unit_id: int) -> MessageReceipt | None:
    """The unit's kvittens of the message, if the message asked it for one."""
    return next((r for r in message.receipts if r.unit_id == unit_id), None)


def acknowledge(case: SipCase, message: CaseMessage, *, user: User) -> MessageReceipt:
    """Kvittera: the user's unit has read the message. Only a unit's own receipt, once.

    Nobody is notified: the sender sees who acknowledged, and when, in the thread; what is
    still missing is flagged there (receipt_overdue).
    """
    if not can_change_case(user, case) or message.case_id != case.id:
        raise PermissionDenied(_("Du kan inte kvittera meddelanden i det här ärendet."))
    receipt = receipt_of(message, user.unit_id)
    if receipt is None:
        raise PermissionDenied(_("Meddelandet ber inte din enhet om kvittens."))
    if receipt.acknowledged_at is not None:
        raise DomainError(_("Meddelandet är redan kvitterat."))
    receipt.acknowledged_by_id = user.id
    receipt.acknowledged_at = utcnow()
    db.session.flush()
    record_change("message.acknowledge", case, user, f"meddelande {message.id}")
    return receipt


# --- Reading ---


def thread(case: SipCase) -> list[CaseMessage]:
    """The case's messages, oldest first, with their receipts and authors."""
    query = (
        select(CaseMessage)
        .where(CaseMessage.case_id == case.id)
        .options(
            selectinload(CaseMessage.receipts).selectinload(MessageReceipt.unit),
            selectinload(CaseMessage.receipts).selectinload(MessageReceipt.acknowledged_by),
            selectinload(CaseMessage.author),
            selectinload(CaseMessage.author_unit),
        )
        .order_by(CaseMessage.created_at, CaseMessage.id)
    )
    return list(db.session.scalars(query))


def receipt_due(sent_at: datetime) -> datetime:
    """When a kvittens is one working day late: the same time on the next weekday.

    A message sent on a Saturday or Sunday counts as sent on Monday morning. Public
    holidays are not counted out.
    """
    local = sent_at.astimezone(STOCKHOLM)
    if local.weekday() >= SATURDAY:
        days = 7 - local.weekday()
        local = datetime.combine(local.date() + timedelta(days=days), datetime.min.time())
        local = local.replace(tzinfo=STOCKHOLM)
    due = local.date() + timedelta(days=1)
    while due.weekday() >= SATURDAY:
        due += timedelta(days=1)
    return datetime.combine(due, local.timetz())


def receipt_overdue(case: SipCase, message: CaseMessage, now: datetime | None = None) -> bool:
    """A receipt asked for is still missing more than one working day after sending.

    Not on an ended case: nobody can acknowledge there any more.
    """
    if case.stage in FINAL_STAGES or not message.receipt_requested:
        return False
    if all(r.acknowledged_at is not None for r in message.receipts):
        return False
    return (now or utcnow()) > receipt_due(message.created_at)


@dataclass
class Thread:
    """What the thread on a case shows the current user."""

    messages: list[CaseMessage]
    can_write: bool
    unit_id: int
    corrected: dict[int, list[CaseMessage]]  # message id → the messages correcting it
    now: datetime

    def own_receipt(self, message: CaseMessage) -> MessageReceipt | None:
        return receipt_of(message, self.unit_id)

    def is_sender(self, message: CaseMessage) -> bool:
        return message.author_unit_id == self.unit_id


def thread_for(case: SipCase, user: User, now: datetime | None = None) -> Thread:
    messages = thread(case)
    corrected: dict[int, list[CaseMessage]] = {}
    for message in messages:
        if message.corrects_id is not None:
            corrected.setdefault(message.corrects_id, []).append(message)
    return Thread(
        messages=messages,
        can_write=can_change_case(user, case),
        unit_id=user.unit_id,
        corrected=corrected,
        now=now or utcnow(),
    )
