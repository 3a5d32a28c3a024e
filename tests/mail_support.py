"""A real SMTP server for the tests (aiosmtpd), the situations that send e-mail, and a way to
run what the worker's queue holds."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask

from sip_tracker import clock
from sip_tracker.auth.models import User
from sip_tracker.cases.models import SipCase
from sip_tracker.i18n import to_utc
from sip_tracker.meetings import services as meetings
from sip_tracker.meetings.models import Meeting
from sip_tracker.organizations.models import Unit
from sip_tracker.worker import SipQueue
from tests.factories import Factory, personnummer

BASE_URL = "https://sip.example.se"


class Sink:
    """aiosmtpd handler: keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.recipients.extend(envelope.rcpt_tos)
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class SmtpServer:
    port: int
    sink: Sink = field(default_factory=Sink)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def configure_mail(monkeypatch: Any, app: Flask, port: int) -> None:
    """Point the app's e-mail at the test's SMTP server."""
    for key, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_TIMEOUT": 5,
        "MAIL_FROM": "sip-tracker@sip.example.se",
        "BASE_URL": BASE_URL,
    }.items():
        monkeypatch.setitem(app.config, key, value)


def run_queued(queue: SipQueue, at: datetime | None = None) -> int:
    """Run what the queue holds now, in this thread, as a consumer's worker would (a task
    retried without delay runs again at once; one retried later waits in the schedule).

    `at`: the time huey believes it is (naive UTC, as huey keeps it).
    """
    ran = 0
    while (task := queue.huey.dequeue()) is not None:
        queue.huey.execute(task, timestamp=at)
        ran += 1
    return ran


def run_scheduled(queue: SipQueue, later: timedelta = timedelta(days=1)) -> int:
    """As if `later` had passed: move the retries due by then into the queue, as the
    consumer's scheduler does, and run them."""
    at = datetime.now(UTC).replace(tzinfo=None) + later
    for task in queue.huey.read_schedule(at):
        queue.huey.enqueue(task)
    return run_queued(queue, at)


@dataclass
class Kallelse:
    """A case whose kallelse went out: its people and units, and what must not leak."""

    case: SipCase
    meeting: Meeting
    actor: User
    partner: Unit
    secrets: list[str]


PERSON_GIVEN = "Gunvor"
PERSON_FAMILY = "Hjalmarsdotter"


def sent_kallelse(make: Factory, partner: Unit | None = None) -> Kallelse:
    """A case shared with a partner unit, and its kallelse sent by the initiating user."""
    actor = make.user(unit=make.unit(name="Hemtjänst Norr, grupp Ekorren"), name="Siv Samordnare")
    partner = partner or make.unit(name="Vårdcentral Solna, team Björk")
    number = personnummer()
    person = make.person(
        actor, given_name=PERSON_GIVEN, family_name=PERSON_FAMILY, identifier=number
    )
    case = make.shared_case(actor, partner, person=person)
    unit_participant = next(p for p in case.participants if p.unit_id == partner.id)
    starts_at = to_utc(datetime.combine(clock.today() + timedelta(days=10), datetime.min.time()))
    meeting = meetings.schedule_meeting(
        case,
        user=actor,
        starts_at=starts_at + timedelta(hours=9),
        duration_minutes=60,
        place="Mötesrum Ljuset, plan 2",
        video_link=None,
        participants=[unit_participant],
    )
    meetings.send_kallelse(case, meeting, user=actor)
    digits = number
    secrets = [
        PERSON_GIVEN,
        PERSON_FAMILY,
        digits,  # 12 digits
        digits[2:],  # 10 digits
        f"{digits[:8]}-{digits[8:]}",
        f"{digits[2:8]}-{digits[8:]}",
        actor.name,
        actor.unit.name,
        partner.name,
        "Ljuset",
        case.need_description,
    ]
    return Kallelse(case=case, meeting=meeting, actor=actor, partner=partner, secrets=secrets)


def whole_text(message: EmailMessage) -> str:
    """Every header and the decoded body, to search for what must not be there."""
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return headers + "\n" + body.get_content()
