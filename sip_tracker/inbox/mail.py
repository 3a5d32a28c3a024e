"""The e-mails that announce inbox items, sent by the worker (sip_tracker/worker.py).

An e-mail says only what kind of event it is and links to the inbox item, behind the
sign-in: no name, no personnummer, no unit, nothing from the case. E-mail crosses servers
that the kommun and the region do not control.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from sip_tracker.db import db, utcnow
from sip_tracker.inbox.models import INBOX_KIND_LABELS, DeliveryStatus, EmailDelivery

log = logging.getLogger(__name__)

# A pending delivery this old was not sent by its queued task: the queue was down, or
# lost it. The sweep queues it again.
SWEEP_AFTER = timedelta(minutes=5)
# A failed delivery is tried again by each sweep for this long after it was written, so
# an SMTP server that is down for hours loses nothing; after that it stays failed.
GIVE_UP_AFTER = timedelta(days=1)


def item_link(item_id: int) -> str:
    """The inbox item's address, from SIP_BASE_URL: the worker has no request to build one."""
    return f"{current_app.config['BASE_URL']}/inbox/{item_id}"


def compose(delivery: EmailDelivery) -> EmailMessage:
    """The e-mail for one delivery, in the recipient's language."""
    item = delivery.item
    user = delivery.user
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        kind = str(INBOX_KIND_LABELS[item.kind])
        subject = _("SIP-tracker: %(kind)s", kind=kind)
        body = _(
            "Det finns något nytt i din inkorg i SIP-tracker: %(kind)s.\n\n"
            "Logga in och öppna det här:\n%(link)s\n\n"
            "Du får det här meddelandet eftersom du har valt e-postaviseringar. "
            "Du kan stänga av dem under E-postaviseringar i SIP-tracker.",
            kind=kind,
            link=item_link(item.id),
        )
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = user.email
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=current_app.config["MAIL_FROM"].rpartition("@")[2])
    message.set_content(body + "\n")
    return message


def send(message: EmailMessage) -> None:
    """Hand the message to the configured SMTP server."""
    config = current_app.config
    with smtplib.SMTP(
        config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"]
    ) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)


def describe(error: Exception) -> str:
    """What went wrong, for the row and the log: the kind of error and the SMTP code, never
    the server's text (a refused recipient's answer repeats the address)."""
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _text in error.recipients.values()})
        return f"SMTPRecipientsRefused {codes}"
    if code is not None:
        return f"{type(error).__name__} {code}"
    return f"{type(error).__name__}: {error}"[:255]


def deliver(delivery_id: int, *, last_try: bool) -> bool:
    """Send one delivery; record the attempt on its row. True when it needs no other try.

    The message is composed, then the transaction ends before the SMTP conversation, so a
    slow mail server never holds the database; the outcome is written afterwards. After the
    last try a delivery that did not go out is marked failed (and logged, with no personal
    data), where `flask mail-status` shows it.
    """
    delivery = db.session.get(EmailDelivery, delivery_id)
    if delivery is None or delivery.status == DeliveryStatus.SENT:
        return True
    if not (delivery.user.active and delivery.user.email_notifications):
        db.session.delete(delivery)  # the user switched e-mail off since: nothing to send
        db.session.flush()
        return True
    if not current_app.config["SMTP_HOST"]:
        error: str | None = "SMTP_HOST is not configured"
    else:
        message = compose(delivery)
        db.session.rollback()  # nothing written yet: end the transaction before the network
        try:
            send(message)
            error = None
        except (smtplib.SMTPException, OSError) as failure:
            error = describe(failure)
        delivery = db.session.get_one(EmailDelivery, delivery_id)
    delivery.attempts += 1
    if error is None:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = utcnow()
        delivery.last_error = None
        db.session.flush()
        return True
    delivery.last_error = error
    if last_try:
        delivery.status = DeliveryStatus.FAILED
        log.warning(
            "e-mail delivery %s failed after %s attempts: %s", delivery.id, delivery.attempts, error
        )
    db.session.flush()
    return last_try


def deliveries_to_sweep(now: datetime) -> tuple[list[int], list[int]]:
    """The pending deliveries no task sent in time, and the failed ones still worth a try."""
    lost = select(EmailDelivery.id).where(
        EmailDelivery.status == DeliveryStatus.PENDING, EmailDelivery.created_at < now - SWEEP_AFTER
    )
    failed = select(EmailDelivery.id).where(
        EmailDelivery.status == DeliveryStatus.FAILED,
        EmailDelivery.created_at >= now - GIVE_UP_AFTER,
    )
    order = EmailDelivery.id
    return (
        list(db.session.scalars(lost.order_by(order))),
        list(db.session.scalars(failed.order_by(order))),
    )


def delivery_counts(now: datetime) -> dict[str, int]:
    """How many deliveries are sent, waiting and failed (failed: within GIVE_UP_AFTER, and
    for good), for `flask mail-status`."""
    recent = EmailDelivery.created_at >= now - GIVE_UP_AFTER
    rows = db.session.execute(
        select(EmailDelivery.status, recent, func.count()).group_by(EmailDelivery.status, recent)
    )
    counts = {"sent": 0, "pending": 0, "failed_retrying": 0, "failed": 0}
    for status, is_recent, count in rows:
        if status == DeliveryStatus.FAILED:
            counts["failed_retrying" if is_recent else "failed"] += count
        else:
            counts[status.value] += count
    return counts


def failed_deliveries(limit: int = 20) -> list[EmailDelivery]:
    """The latest failed deliveries, newest first."""
    query = (
        select(EmailDelivery)
        .where(
            or_(
                EmailDelivery.status == DeliveryStatus.FAILED,
                and_(EmailDelivery.status == DeliveryStatus.PENDING, EmailDelivery.attempts > 0),
            )
        )
        .order_by(EmailDelivery.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
