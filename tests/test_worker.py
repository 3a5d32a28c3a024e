"""The background worker (issue 9, point 5): a real huey consumer, on the embedded SQLite
queue and, when SIP_TEST_REDIS_URL is set (CI sets it), on Redis, sends the e-mail of
inbox items, retries a failed send after its delay, and runs the reminder job; the reminders
and the sweep are huey periodic tasks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from sip_tracker import ROOT, clock
from sip_tracker.cases.codes import Origin
from sip_tracker.db import db
from sip_tracker.inbox.models import DeliveryStatus, EmailDelivery, InboxItem, InboxKind
from sip_tracker.inbox.services import notify
from sip_tracker.worker import SipQueue
from tests.factories import Factory
from tests.mail_support import SmtpServer, configure_mail, free_port, sent_kallelse

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


@pytest.fixture(params=["sqlite", "redis"])
def queue(
    request: pytest.FixtureRequest, app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> Iterator[SipQueue]:
    """The app's queue on one back end, under a name no other test run uses."""
    redis_url = None
    if request.param == "redis":
        redis_url = os.environ.get("SIP_TEST_REDIS_URL")
        if not redis_url:
            pytest.skip("SIP_TEST_REDIS_URL is not set: the worker is not tried on Redis")
    monkeypatch.setitem(app.config, "MAIL_RETRIES", 1)
    monkeypatch.setitem(app.config, "MAIL_RETRY_DELAY", 1)
    queue = SipQueue(
        app,
        name=f"sip-test-{uuid.uuid4().hex}",
        redis_url=redis_url,
        sqlite_path=str(tmp_path / "queue.db"),
    )
    monkeypatch.setitem(app.extensions, "sip_queue", queue)
    yield queue
    queue.huey.flush()
    queue.close()


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    configure_mail(monkeypatch, app, server.port)
    yield server
    server.stop()


@contextmanager
def consumer(queue: SipQueue) -> Iterator[None]:
    """A huey consumer in threads of this process, as `flask worker` runs one."""
    handlers = {number: signal.getsignal(number) for number in SIGNALS}
    running = queue.huey.create_consumer(
        workers=1, periodic=False, initial_delay=0.05, max_delay=0.2, check_worker_health=False
    )
    running.start()  # sets its signal handlers: put ours back afterwards
    try:
        yield
    finally:
        running.stop(graceful=True)
        for number, handler in handlers.items():
            signal.signal(number, handler)


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll in short transactions (SQLite: the worker must be able to write in between)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.rollback()
        done = check()
        db.session.rollback()
        if done:
            return True
        time.sleep(0.1)
    return False


def _statuses() -> list[tuple[DeliveryStatus, int]]:
    rows = db.session.execute(
        select(EmailDelivery.status, EmailDelivery.attempts).order_by(EmailDelivery.id)
    )
    return [(status, attempts) for status, attempts in rows]


def test_the_consumer_sends_the_email_of_a_new_inbox_item(
    make: Factory, queue: SipQueue, smtp: SmtpServer
):
    kallelse = sent_kallelse(make)
    reader = make.user(unit=kallelse.partner, email_notifications=True)
    address = reader.email
    notify(InboxKind.INVITATION, kallelse.case, units=[kallelse.partner], actor=kallelse.actor)
    make.commit()  # queued now, on commit

    with consumer(queue):
        assert eventually(lambda: _statuses() == [(DeliveryStatus.SENT, 1)])

    assert smtp.sink.recipients == [address]


def test_the_consumer_retries_after_the_delay_and_records_the_failure(
    make: Factory, queue: SipQueue, smtp: SmtpServer
):
    kallelse = sent_kallelse(make)
    make.user(unit=kallelse.partner, email_notifications=True)
    notify(InboxKind.INVITATION, kallelse.case, units=[kallelse.partner], actor=kallelse.actor)
    smtp.stop()
    make.commit()

    with consumer(queue):
        assert eventually(lambda: _statuses() == [(DeliveryStatus.PENDING, 1)], timeout=5)
        # the retry waits its delay in the schedule, then fails for good
        assert eventually(lambda: _statuses() == [(DeliveryStatus.FAILED, 2)])

    error = db.session.scalar(select(EmailDelivery.last_error))
    db.session.rollback()
    assert error and "ConnectionRefusedError" in error


def test_the_consumer_runs_the_reminder_job(make: Factory, queue: SipQueue):
    user = make.user()
    today = clock.today()
    make.case(user, origin=Origin.UTSKRIVNING, utskrivningsklar_on=today)  # due in 3 days
    make.case(user, origin=Origin.UTSKRIVNING, utskrivningsklar_on=today - timedelta(days=3))
    make.commit()

    with consumer(queue):
        queue.task("send_reminders")()
        # the case due today: its initiating unit (the initiativtagare sees the unit's item)
        assert eventually(lambda: len(db.session.scalars(select(InboxItem.id)).all()) == 1)

    kinds = set(db.session.scalars(select(InboxItem.kind)))
    db.session.rollback()
    assert kinds == {InboxKind.KALLELSE_DEADLINE}


def test_the_reminders_run_every_hour_and_the_sweep_every_five_minutes(queue: SipQueue):
    def periodic_at(hour: int, minute: int) -> set[str]:
        moment = datetime(2026, 12, 7, hour, minute)
        return {type(task).__name__ for task in queue.huey.read_periodic(moment)}

    assert periodic_at(8, 0) == {"send_reminders", "sweep_email"}
    assert periodic_at(8, 5) == {"sweep_email"}
    assert periodic_at(8, 7) == set()


def test_flask_worker_runs_the_consumer_and_catches_up_on_the_reminders_at_once(
    app: Flask, make: Factory, tmp_path
):
    user = make.user()
    today = clock.today()
    make.case(user, origin=Origin.UTSKRIVNING, utskrivningsklar_on=today - timedelta(days=3))
    make.commit()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SIP_REDIS", "SIP_SMTP", "SIP_QUEUE", "DATABASE_URL"))
    }
    environment.update(
        DATABASE_URL=str(app.config["SQLALCHEMY_DATABASE_URI"]),
        SECRET_KEY="k" * 32,
        SIP_QUEUE_PATH=str(tmp_path / "queue.db"),
        SIP_QUEUE_NAME=f"sip-test-{uuid.uuid4().hex}",
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "sip_tracker", "worker", "--workers", "1"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # at start, not at the next hour: the initiating unit's item
        found = eventually(lambda: len(db.session.scalars(select(InboxItem.id)).all()) == 1, 60)
    finally:
        worker.send_signal(signal.SIGINT)  # huey's graceful stop
        output, _ = worker.communicate(timeout=30)
    assert found, output
    assert worker.returncode == 0, output
    assert "Huey consumer started" in output
