"""Messages on a case: the units taking part write to each other, ask for and give kvittens,
and correct with a new message; nothing sent is ever changed, and others see nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, delete, func, select, update
from sqlalchemy.exc import DBAPIError

from sip_tracker import clock, create_app
from sip_tracker.audit.append_only import GUARDS
from sip_tracker.audit.models import AuditEvent
from sip_tracker.auth.models import Role, User
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import ParticipantKind
from sip_tracker.cases.models import SipCase
from sip_tracker.cases.retention import purge_case
from sip_tracker.db import db, utcnow
from sip_tracker.inbox.models import InboxItem, InboxKind
from sip_tracker.messages import services as messages
from sip_tracker.messages.models import CaseMessage, MessageReceipt
from sip_tracker.organizations.models import HuvudmanKind, Unit
from sip_tracker.plans import services as plans
from tests.access_world import furnish
from tests.factories import Factory, login
from tests.test_migrations import empty_database  # noqa: F401  (a fixture)


@dataclass
class World:
    """Ids (objects expire once the factory commits)."""

    case: int
    a: int  # coordinator of the initiating unit A
    b: int  # coordinator of B, invited and covered by consent
    b2: int  # a colleague at B
    outsider: int  # unit C: takes no part
    uncovered: int  # unit E: invited, not covered by the consent
    reviewer: int  # granskare of A
    unit_a: int
    unit_b: int
    unit_e: int

    @property
    def url(self) -> str:
        return f"/cases/{self.case}/messages"

    def ack_url(self, message_id: int) -> str:
        return f"{self.url}/{message_id}/receipt"


def build(make: Factory) -> World:
    kommun = make.huvudman(name="Kommun K")
    region = make.huvudman(HuvudmanKind.REGION, name="Region R")
    unit_a = make.unit(kommun, name="Hemtjänsten")
    unit_b = make.unit(region, name="Vårdcentralen")
    unit_e = make.unit(region, name="Psykiatrin")
    a = make.user(unit_a, name="Anna Kommun")
    b = make.user(unit_b, name="Bo Region")
    b2 = make.user(unit_b, name="Berit Region")
    outsider = make.user(make.unit(kommun, name="Skolan"))
    uncovered = make.user(unit_e)
    reviewer = make.user(unit_a, role=Role.GRANSKARE, reviewed_units=[unit_a])
    case = make.shared_case(a, unit_b)
    cases.add_participant(case, user=a, kind=ParticipantKind.ENHET, unit=unit_e)
    make.commit()
    return World(
        case.id,
        a.id,
        b.id,
        b2.id,
        outsider.id,
        uncovered.id,
        reviewer.id,
        unit_a.id,
        unit_b.id,
        unit_e.id,
    )


def _messages() -> list[CaseMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(CaseMessage).order_by(CaseMessage.id)))


def _send(client: FlaskClient, w: World, user: int, **form: str):
    login(client, user)
    return client.post(w.url, data=form)


def test_the_units_taking_part_write_to_each_other_on_the_case(make, client):
    w = build(make)

    sent = _send(client, w, w.a, body="Kan ni ta blodprover före mötet?")
    assert sent.status_code == 302

    login(client, w.b)
    thread = client.get(w.url).get_data(as_text=True)
    assert "Kan ni ta blodprover före mötet?" in thread
    assert "Anna Kommun" in thread and "Hemtjänsten" in thread
    replied = client.post(w.url, data={"body": "Ja, vi tar dem på tisdag."})
    assert replied.status_code == 302

    login(client, w.a)
    case_page = client.get(f"/cases/{w.case}").get_data(as_text=True)
    assert "Kan ni ta blodprover före mötet?" in case_page
    assert "Ja, vi tar dem på tisdag." in case_page
    assert "Bo Region" in case_page and "Vårdcentralen" in case_page
    assert [m.author_unit_id for m in _messages()] == [w.unit_a, w.unit_b]


def test_reading_the_thread_is_logged_and_writing_is_a_change_of_the_case(make, client):
    w = build(make)
    _send(client, w, w.a, body="Hej")
    login(client, w.b)
    client.get(w.url)

    db.session.expire_all()
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == w.case)).all()
    assert any(r.action == "message.send" and r.user_id == w.a for r in rows)
    assert any(r.action == "case.read" and r.user_id == w.b for r in rows)


@pytest.mark.parametrize("who", ["outsider", "uncovered"])
def test_a_unit_not_taking_part_sees_no_messages_and_cannot_write(make, client, who):
    w = build(make)
    _send(client, w, w.a, body="Hemligt för andra enheter", receipt_requested="y")
    [message] = _messages()

    login(client, getattr(w, who))
    assert client.get(w.url).status_code == 404
    assert client.post(w.url, data={"body": "Får jag vara med?"}).status_code == 404
    assert client.post(w.ack_url(message.id)).status_code == 404
    assert "Hemligt" not in client.get(f"/cases/{w.case}").get_data(as_text=True)

    assert len(_messages()) == 1
    assert db.session.scalar(select(func.count()).select_from(MessageReceipt)) == 1  # B's
    assert _messages()[0].receipts[0].acknowledged_at is None


def test_a_reviewer_reads_the_thread_but_does_not_write(make, client):
    w = build(make)
    _send(client, w, w.a, body="Mötet flyttas en timme.")

    login(client, w.reviewer)
    page = client.get(w.url)
    assert page.status_code == 200 and "Mötet flyttas en timme." in page.get_data(as_text=True)
    assert "Skicka" not in page.get_data(as_text=True)
    assert client.post(w.url, data={"body": "Granskat"}).status_code == 403
    assert len(_messages()) == 1


def test_a_closed_case_is_read_only(make, client):
    w = build(make)
    _send(client, w, w.a, body="Sista meddelandet.", receipt_requested="y")
    [message] = _messages()
    cases.abort_case(db.session.get_one(SipCase, w.case), user=message.author, reason="Klart.")
    make.commit()

    login(client, w.b)
    assert client.get(w.url).status_code == 200
    assert client.post(w.url, data={"body": "Ett till"}).status_code == 403
    assert client.post(w.ack_url(message.id)).status_code == 403
    assert len(_messages()) == 1


def test_an_empty_message_is_refused_at_the_field(make, client):
    w = build(make)
    response = _send(client, w, w.a, body="   ")
    assert response.status_code == 422
    assert "Skriv ett meddelande." in response.get_data(as_text=True)
    assert _messages() == []


def test_a_receipt_round_trip(make, client):
    w = build(make)
    _send(client, w, w.a, body="Läs och kvittera: ny medicinlista.", receipt_requested="y")
    [message] = _messages()
    # One receipt per other unit taking part: B (E is not covered by the consent).
    assert [r.unit_id for r in message.receipts] == [w.unit_b]

    login(client, w.a)
    assert "väntar på kvittens" in client.get(w.url).get_data(as_text=True)

    login(client, w.b)
    page = client.get(w.url).get_data(as_text=True)
    assert "Kvittera" in page
    acknowledged = client.post(w.ack_url(message.id))
    assert acknowledged.status_code == 302

    receipt = _messages()[0].receipts[0]
    assert receipt.acknowledged_by_id == w.b and receipt.acknowledged_at is not None
    login(client, w.a)
    thread = client.get(w.url).get_data(as_text=True)
    assert "kvitterat av Bo Region" in thread
    assert "väntar på kvittens" not in thread
    audit = db.session.scalars(select(AuditEvent.action).where(AuditEvent.user_id == w.b)).all()
    assert "message.acknowledge" in audit


def test_no_unit_acknowledges_for_another(make, client):
    w = build(make)
    _send(client, w, w.a, body="Kvittera, tack.", receipt_requested="y")
    [message] = _messages()

    # The sender's unit owes no receipt, so it has none to give: refused.
    login(client, w.a)
    assert client.post(w.ack_url(message.id)).status_code == 403
    # A unit invited after the message was sent owes none either.
    region_unit = make.unit(name="Habiliteringen")
    late = make.user(region_unit)
    case = db.session.get_one(SipCase, w.case)
    cases.add_participant(case, user=message.author, kind=ParticipantKind.ENHET, unit=region_unit)
    consent = case.active_consent
    cases.record_consent(
        case,
        user=message.author,
        given_by=consent.given_by,
        guardian=None,
        method=consent.method,
        given_on=consent.given_on,
        units=[*consent.units, region_unit],
        other_organisations=None,
        exclusions=None,
    )
    make.commit()
    login(client, late)
    assert client.get(w.url).status_code == 200  # takes part now
    assert client.post(w.ack_url(message.id)).status_code == 403
    assert _messages()[0].receipts[0].acknowledged_at is None

    # B acknowledges; a colleague clicking again changes nothing.
    login(client, w.b)
    client.post(w.ack_url(message.id))
    login(client, w.b2)
    again = client.post(w.ack_url(message.id), follow_redirects=True)
    assert "redan kvitterat" in again.get_data(as_text=True)
    assert _messages()[0].receipts[0].acknowledged_by_id == w.b


def test_a_message_of_another_case_is_not_found(make, client):
    w = build(make)
    elsewhere = make.user()
    other = make.shared_case(elsewhere, make.unit())
    note = messages.send_message(other, user=elsewhere, body="Ett annat ärende.")
    make.commit()
    login(client, w.b)
    assert client.post(w.ack_url(note.id)).status_code == 404
    login(client, w.a)
    assert "Ett annat ärende." not in client.get(f"{w.url}?corrects={note.id}").get_data(
        as_text=True
    )


# --- One working day ---


def _stockholm(*args: int) -> datetime:
    # Winter: Stockholm is UTC+1.
    return datetime(*args, tzinfo=UTC).replace(hour=args[3] - 1)


def test_one_working_day_skips_the_weekend():
    # Tuesday 10:00 → Wednesday 10:00; Friday 10:00 → Monday 10:00; Saturday → Tuesday 00:00.
    assert messages.receipt_due(_stockholm(2030, 1, 8, 10)) == _stockholm(2030, 1, 9, 10)
    assert messages.receipt_due(_stockholm(2030, 1, 11, 10)) == _stockholm(2030, 1, 14, 10)
    saturday = messages.receipt_due(_stockholm(2030, 1, 12, 15))
    assert saturday == datetime(2030, 1, 14, 23, 0, tzinfo=UTC)  # Tuesday 00:00 in Stockholm


FLAG = "Kvittens saknas efter en arbetsdag"


def test_a_missing_receipt_is_flagged_to_the_sender_after_one_working_day(
    make, client, time_machine
):
    w = build(make)
    time_machine.move_to(_stockholm(2030, 1, 11, 10), tick=False)  # a Friday
    _send(client, w, w.a, body="Svara före måndag lunch.", receipt_requested="y")

    time_machine.move_to(_stockholm(2030, 1, 14, 9), tick=False)  # Monday morning
    login(client, w.a)
    assert FLAG not in client.get(w.url).get_data(as_text=True)

    time_machine.move_to(_stockholm(2030, 1, 14, 11), tick=False)  # Monday, after 10:00
    login(client, w.a)
    page = client.get(w.url).get_data(as_text=True)
    assert f"{FLAG}: Vårdcentralen" in page
    assert FLAG in client.get(f"/cases/{w.case}").get_data(as_text=True)
    login(client, w.b)
    assert FLAG not in client.get(w.url).get_data(as_text=True)  # shown to the sender

    [message] = _messages()
    client.post(w.ack_url(message.id))
    login(client, w.a)
    assert FLAG not in client.get(w.url).get_data(as_text=True)


# --- Corrections ---


def test_a_correction_is_a_new_message_and_the_original_stays(make, client):
    w = build(make)
    _send(client, w, w.a, body="Mötet är på tisdag.")
    [original] = _messages()

    login(client, w.a)
    form = client.get(f"{w.url}?corrects={original.id}").get_data(as_text=True)
    assert "Skriv rättelse" in form and "Mötet är på tisdag." in form
    sent = client.post(w.url, data={"body": "Mötet är på onsdag.", "corrects": str(original.id)})
    assert sent.status_code == 302

    first, correction = _messages()
    assert first.body == "Mötet är på tisdag."
    assert correction.corrects_id == first.id and correction.body == "Mötet är på onsdag."
    login(client, w.b)
    page = client.get(w.url).get_data(as_text=True)
    assert "Rättelse" in page and "av meddelandet från Anna Kommun" in page
    assert "Mötet är på tisdag." in page and "Mötet är på onsdag." in page
    assert "Skriv rättelse" not in page.split("Mötet är på tisdag.")[1].split("</li>")[0]


def test_only_the_writing_unit_corrects_a_message(make, client):
    w = build(make)
    _send(client, w, w.a, body="Mötet är på tisdag.")
    [original] = _messages()

    response = _send(client, w, w.b, body="Nej, onsdag.", corrects=str(original.id))
    assert response.status_code == 422
    assert "Bara den enhet som skrev ett meddelande kan rätta det." in response.get_data(
        as_text=True
    )
    assert len(_messages()) == 1


# --- The database keeps what was sent ---


def _refused(statement) -> None:
    with pytest.raises(DBAPIError, match=r"never changed|given once"), db.engine.begin() as conn:
        conn.execute(statement)


def test_the_database_refuses_to_change_a_sent_message(make, client):
    w = build(make)
    _send(client, w, w.a, body="Som det skrevs.", receipt_requested="y")
    [message_id] = [m.id for m in _messages()]
    db.session.rollback()

    _refused(update(CaseMessage).where(CaseMessage.id == message_id).values(body="Ändrat"))
    _refused(update(CaseMessage).where(CaseMessage.id == message_id).values(author_id=w.b))
    _refused(delete(CaseMessage).where(CaseMessage.id == message_id))
    _refused(delete(MessageReceipt))

    login(client, w.b)
    client.post(w.ack_url(message_id))
    db.session.rollback()
    _refused(update(MessageReceipt).values(acknowledged_by_id=w.b2))

    [kept] = _messages()
    assert kept.body == "Som det skrevs." and kept.receipts[0].acknowledged_by_id == w.b


def test_messages_go_with_their_case(make, client):
    w = build(make)
    _send(client, w, w.a, body="Första.", receipt_requested="y")
    [first] = _messages()
    _send(client, w, w.a, body="Rättelse.", corrects=str(first.id))
    db.session.rollback()

    purge_case(db.session.get_one(SipCase, w.case))
    db.session.commit()

    assert _messages() == []
    assert db.session.scalar(select(func.count()).select_from(MessageReceipt)) == 0


# --- Notifications ---


def _items(kind: InboxKind) -> list[InboxItem]:
    db.session.expire_all()
    return list(db.session.scalars(select(InboxItem).where(InboxItem.kind == kind)))


def test_a_message_reaches_the_other_units_inboxes(make, client):
    w = build(make)
    _send(client, w, w.a, body="Hej", receipt_requested="y")
    [message] = _messages()

    [item] = _items(InboxKind.MESSAGE)
    assert item.unit_id == w.unit_b and item.message_id == message.id
    assert item.actor_id == w.a and item.case_id == w.case


def test_acknowledging_notifies_nobody(make, client):
    w = build(make)
    _send(client, w, w.a, body="Hej", receipt_requested="y")
    [message] = _messages()
    before = db.session.scalar(select(func.count()).select_from(InboxItem))
    login(client, w.b)
    client.post(w.ack_url(message.id))
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(InboxItem)) == before


def test_consent_withdrawn_tells_the_units_that_took_part(make, client):
    w = build(make)
    login(client, w.a)
    response = client.post(
        f"/cases/{w.case}/consent/withdraw",
        data={"withdrawn_on": clock.today().isoformat(), "note": ""},
    )
    assert response.status_code == 302

    [item] = _items(InboxKind.CONSENT_WITHDRAWN)
    assert item.unit_id == w.unit_b and item.actor_id == w.a  # not E: never covered
    login(client, w.b)
    assert client.get(w.url).status_code == 404  # B no longer takes part


def test_consent_withdrawn_by_a_partner_tells_the_initiating_unit(make):
    w = build(make)
    case = db.session.get_one(SipCase, w.case)
    cases.withdraw_consent(
        case, user=db.session.get_one(User, w.b), withdrawn_on=clock.today(), note=None
    )

    assert [i.unit_id for i in _items(InboxKind.CONSENT_WITHDRAWN)] == [w.unit_a]


def test_the_plan_established_and_changed_reaches_the_other_units(make):
    w = build(make)
    a = db.session.get_one(User, w.a)
    case = make.case(a)
    # Consent for A and B, a meeting held, the plan established.
    furnish(case, a, [db.session.get_one(Unit, w.unit_b)])

    [established] = _items(InboxKind.PLAN)
    assert established.unit_id != w.unit_a

    def edit(user: User, goal: str) -> None:
        plan = plans.plan_for(case)
        plans.save_plan(
            case,
            user=user,
            lock_version=plan.lock_version,
            goals=[goal],
            insatser=[plans.InsatsInput("Hemtjänst", a.unit.huvudman, a.unit)],
            atgarder=[],
            follow_up_method="Uppföljande SIP-möte.",
            follow_up_on=plan.follow_up_on,
        )

    edit(a, "Bo kvar hemma.")
    edit(a, "Bo kvar hemma, med stöd.")
    assert len(_items(InboxKind.PLAN)) == 2  # edits: once a day per author
    plans.establish_plan(case, user=a)
    assert len(_items(InboxKind.PLAN)) == 3  # each new version
    assert {i.unit_id for i in _items(InboxKind.PLAN)} == {w.unit_b}


def test_a_plan_version_recorded_afterwards_is_no_news(make):
    w = build(make)
    a = db.session.get_one(User, w.a)
    case = make.case(a)
    furnish(case, a, [db.session.get_one(Unit, w.unit_b)])
    before = len(_items(InboxKind.PLAN))

    # A version established a month ago, recorded now (an import of another system's plan).
    plans.establish_plan(case, user=a, at=utcnow() - timedelta(days=30))

    assert len(_items(InboxKind.PLAN)) == before


def test_the_migrations_create_the_message_triggers(empty_database):  # noqa: F811
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
    engine = create_engine(empty_database)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
            else:
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            found = set(conn.exec_driver_sql(query).scalars())
        for guard in (GUARDS["case_message"], GUARDS["message_receipt"]):
            made = (
                guard.postgresql_create
                if engine.dialect.name == "postgresql"
                else (guard.sqlite_create)
            )
            names = {s.split()[2] for s in made if s.startswith("CREATE TRIGGER")}
            assert names <= found
    finally:
        engine.dispose()
        with app.app_context():
            db.engine.dispose()
