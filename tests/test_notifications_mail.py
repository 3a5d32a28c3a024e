"""E-mail announcing inbox items (issue 9, point 5): received on a real SMTP server, with
nothing personal in it; retried, then failed and recorded, then sent by a later sweep; only
to users who switched it on, never for one's own action."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from sip_tracker.db import db, utcnow
from sip_tracker.inbox.models import DeliveryStatus, EmailDelivery, InboxItem, InboxKind
from sip_tracker.inbox.services import notify
from sip_tracker.worker import SipQueue
from tests.factories import Factory, login
from tests.mail_support import (
    BASE_URL,
    SmtpServer,
    configure_mail,
    free_port,
    run_queued,
    run_scheduled,
    sent_kallelse,
    whole_text,
)


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    configure_mail(monkeypatch, app, server.port)
    yield server
    server.stop()


@pytest.fixture
def queue(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[SipQueue]:
    """A queue of its own (SQLite, the embedded back end), retrying twice without delay."""
    monkeypatch.setitem(app.config, "MAIL_RETRIES", 2)
    monkeypatch.setitem(app.config, "MAIL_RETRY_DELAY", 0)
    queue = SipQueue(app, name="mail-test", sqlite_path=str(tmp_path / "queue.db"))
    monkeypatch.setitem(app.extensions, "sip_queue", queue)
    yield queue
    queue.close()


@dataclass(frozen=True)
class Seen:
    id: int
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    sent: bool


def _deliveries() -> list[Seen]:
    """The delivery rows as they are now; the test's transaction ends (SQLite: the worker's
    tasks must find the database unlocked)."""
    db.session.rollback()
    rows = [
        Seen(d.id, d.status, d.attempts, d.last_error, d.sent_at is not None)
        for d in db.session.scalars(select(EmailDelivery).order_by(EmailDelivery.id))
    ]
    db.session.rollback()
    return rows


def test_a_kallelse_reaches_the_invited_unit_by_email_with_only_its_kind_and_a_link(
    make: Factory, smtp: SmtpServer, queue: SipQueue
):
    partner = make.unit(name="Vårdcentral Solna, team Björk")
    reader = make.user(unit=partner, email_notifications=True, name="Rut Läsare")
    make.user(unit=partner, email_notifications=False)  # did not ask for e-mail
    # "Skicka kallelse" itself puts the invitation in the partner's inbox, and the e-mail out.
    kallelse = sent_kallelse(make, partner)
    item_id = db.session.scalar(
        select(InboxItem.id).where(
            InboxItem.unit_id == partner.id, InboxItem.kind == InboxKind.INVITATION
        )
    )
    make.commit()  # the deliveries are queued once the transaction has committed

    assert run_queued(queue) == 1

    [message] = smtp.sink.wait_for(1)
    assert smtp.sink.recipients == [reader.email]
    text = whole_text(message)
    assert message["Subject"] == "SIP-tracker: Inbjudan till SIP-möte"
    assert "Inbjudan till SIP-möte" in text
    assert f"{BASE_URL}/inbox/{item_id}" in text
    for secret in [*kallelse.secrets, reader.name]:
        assert secret not in text, secret
    without_id = text.replace(message["Message-ID"], "")  # its digits are a timestamp
    assert not re.search(r"\d{6}[-+]?\d{4}", without_id), "something like a personnummer"
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts, delivery.sent) == (
        DeliveryStatus.SENT,
        1,
        True,
    )


def test_no_email_without_the_users_own_setting_nor_for_their_own_action(
    make: Factory, smtp: SmtpServer, queue: SipQueue
):
    kallelse = sent_kallelse(make)
    make.user(unit=kallelse.partner)  # e-mail off (the default)
    kallelse.actor.email_notifications = True
    colleague = make.user(unit=kallelse.actor.unit, email_notifications=True)
    notify(InboxKind.ANSWER, kallelse.case, units=[kallelse.actor.unit], actor=kallelse.actor)
    notify(InboxKind.INVITATION, kallelse.case, units=[kallelse.partner], actor=kallelse.actor)
    make.commit()

    run_queued(queue)

    assert smtp.sink.recipients == [colleague.email]  # the actor's colleague only


def test_a_failed_send_is_retried_then_marked_failed_and_a_later_sweep_sends_it(
    app: Flask, make: Factory, smtp: SmtpServer, queue: SipQueue, caplog: pytest.LogCaptureFixture
):
    kallelse = sent_kallelse(make)
    reader = make.user(unit=kallelse.partner, email_notifications=True)
    address = reader.email
    notify(InboxKind.INVITATION, kallelse.case, units=[kallelse.partner], actor=kallelse.actor)
    make.commit()
    smtp.stop()  # the mail server is down

    with caplog.at_level(logging.WARNING, logger="sip_tracker.inbox.mail"):
        assert run_queued(queue) == 3  # the first try and two retries

    [delivery] = _deliveries()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert delivery.last_error and "ConnectionRefusedError" in delivery.last_error
    [record] = [r for r in caplog.records if r.name == "sip_tracker.inbox.mail"]
    logged = record.getMessage()
    assert f"delivery {delivery.id} failed after 3 attempts" in logged
    for secret in [*kallelse.secrets, address]:
        assert secret not in logged

    smtp.start()  # the server is back: the next sweep sends what failed
    queue.task("sweep_email").call_local()
    run_queued(queue)

    assert smtp.sink.wait_for(1) and smtp.sink.recipients == [address]
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.SENT,
        4,
        None,
    )


def test_a_delivery_the_queue_lost_is_sent_by_the_sweep(
    app: Flask, make: Factory, smtp: SmtpServer, queue: SipQueue, monkeypatch: pytest.MonkeyPatch
):
    kallelse = sent_kallelse(make)
    reader = make.user(unit=kallelse.partner, email_notifications=True)
    address = reader.email
    monkeypatch.setitem(app.extensions, "sip_queue", None)  # the queue is down: nothing queued
    notify(InboxKind.INVITATION, kallelse.case, units=[kallelse.partner], actor=kallelse.actor)
    make.commit()
    [delivery] = _deliveries()
    queue.task("sweep_email").call_local()
    assert run_queued(queue) == 0  # too new: its own task may still be on the way

    db.session.execute(
        update(EmailDelivery)
        .where(EmailDelivery.id == delivery.id)
        .values(created_at=utcnow() - timedelta(minutes=10))
    )
    make.commit()
    queue.task("sweep_email").call_local()
    run_queued(queue)

    assert smtp.sink.wait_for(1) and smtp.sink.recipients == [address]
    assert _deliveries()[0].status == DeliveryStatus.SENT


def test_a_retry_waits_in_the_schedule_for_its_delay(
    app: Flask, make: Factory, smtp: SmtpServer, queue: SipQueue, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(app.config, "MAIL_RETRY_DELAY", 60)
    delayed = SipQueue(app, name="mail-test-delay", sqlite_path=queue.sqlite_path)
    monkeypatch.setitem(app.extensions, "sip_queue", delayed)
    kallelse = sent_kallelse(make)
    reader = make.user(unit=kallelse.partner, email_notifications=True)
    address = reader.email
    notify(InboxKind.INVITATION, kallelse.case, units=[kallelse.partner], actor=kallelse.actor)
    make.commit()
    smtp.stop()

    assert run_queued(delayed) == 1
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delayed.huey.scheduled_count() == 1

    smtp.start()
    assert run_scheduled(delayed, timedelta(seconds=30)) == 0  # not yet
    assert run_scheduled(delayed, timedelta(seconds=61)) == 1
    assert smtp.sink.wait_for(1) and smtp.sink.recipients == [address]
    assert _deliveries()[0].status == DeliveryStatus.SENT
    delayed.close()


def test_no_delivery_is_written_while_the_server_has_no_smtp(app: Flask, make: Factory):
    kallelse = sent_kallelse(make)
    make.user(unit=kallelse.partner, email_notifications=True)
    [item] = notify(InboxKind.INVITATION, kallelse.case, units=[kallelse.partner])
    assert isinstance(item, InboxItem)
    assert db.session.scalars(select(EmailDelivery)).all() == []


# --- The user's own setting -------------------------------------------------------------


def test_a_user_switches_email_on_and_off_on_their_own_page(
    app: Flask, client: FlaskClient, make: Factory, monkeypatch: pytest.MonkeyPatch
):
    user = make.user()
    login(client, user)
    make.commit()

    page = client.get("/account/notifications")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/account/notifications" aria-current="page"' in html
    assert not re.search(r'<input [^>]*\bchecked\b[^>]*name="email_notifications"', html)
    assert "Servern har ingen e-post inställd" in html

    answer = client.post("/account/notifications", data={"email_notifications": "y"})
    assert answer.status_code == 302
    db.session.refresh(user)
    assert user.email_notifications is True

    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    page = client.get("/account/notifications")
    html = page.get_data(as_text=True)
    assert "Servern har ingen e-post inställd" not in html
    assert re.search(r'<input [^>]*\bchecked\b[^>]*name="email_notifications"', html)

    client.post("/account/notifications", data={})
    db.session.refresh(user)
    assert user.email_notifications is False


def test_email_that_was_switched_off_after_the_event_is_not_sent(
    make: Factory, smtp: SmtpServer, queue: SipQueue
):
    kallelse = sent_kallelse(make)
    reader = make.user(unit=kallelse.partner, email_notifications=True)
    notify(InboxKind.INVITATION, kallelse.case, units=[kallelse.partner], actor=kallelse.actor)
    reader.email_notifications = False
    make.commit()

    run_queued(queue)

    assert smtp.sink.messages == []
    assert _deliveries() == []


def test_a_queue_that_is_down_fails_no_request_and_the_sweep_sends_later(
    app: Flask, make: Factory, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch, tmp_path
):
    broken = SipQueue(app, name="down", redis_url="redis://127.0.0.1:1/0")  # nothing listens
    monkeypatch.setitem(app.extensions, "sip_queue", broken)
    kallelse = sent_kallelse(make)
    make.user(unit=kallelse.partner, email_notifications=True)
    notify(InboxKind.INVITATION, kallelse.case, units=[kallelse.partner], actor=kallelse.actor)

    make.commit()  # no error: the delivery waits as pending

    assert [d.status for d in _deliveries()] == [DeliveryStatus.PENDING]
    broken.close()


def test_flask_mail_status_shows_what_failed_without_anyone_s_address(
    app: Flask, make: Factory, smtp: SmtpServer, queue: SipQueue
):
    kallelse = sent_kallelse(make)
    reader = make.user(unit=kallelse.partner, email_notifications=True)
    address = reader.email
    notify(InboxKind.INVITATION, kallelse.case, units=[kallelse.partner], actor=kallelse.actor)
    make.commit()
    smtp.stop()
    run_queued(queue)
    [delivery] = _deliveries()

    result = app.test_cli_runner().invoke(args=["mail-status"])

    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == (
        "E-post: 0 skickade, 0 väntar, 1 misslyckade som försöks igen, 0 misslyckade för gott."
    )
    assert lines[1].startswith(f"  nr {delivery.id}, skapad ")
    assert lines[1].endswith("3 försök: ConnectionRefusedError: [Errno 111] Connection refused")
    for secret in [*kallelse.secrets, address]:
        assert secret not in result.output
