"""The access log: written with every read and change, read by administrators per person."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sip_tracker.audit.models import AuditEvent
from sip_tracker.audit.queries import events_for_person
from sip_tracker.audit.services import record
from sip_tracker.auth.models import Role
from sip_tracker.cases.codes import Stage
from sip_tracker.db import db
from tests.factories import login


@pytest.fixture
def admin(make):
    unit = make.unit(name="Akutsjukhuset, avdelning 12")
    return make.user(unit=unit, role=Role.ADMINISTRATOR, name="Ali Admin")


def _html(response) -> str:
    return response.get_data(as_text=True)


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def _ten_digits(identifier: str) -> str:
    """19500101-1234 as people often write it: 500101-1234."""
    return f"{identifier[2:8]}-{identifier[8:]}"


def _event(person_id: int, at: datetime, action: str = "case.read", **fields) -> AuditEvent:
    event = AuditEvent(person_id=person_id, at=at, action=action, **fields)
    db.session.add(event)
    return event


def test_the_search_page_starts_empty(client, make, admin):
    make.commit()
    login(client, admin)

    response = client.get("/admin/audit/")

    assert response.status_code == 200
    html = _html(response)
    assert '<label for="personnummer">Personnummer eller samordningsnummer</label>' in html
    assert "<table" not in html
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.read")) is None


def test_a_person_s_log_lists_who_did_what_newest_first(client, make, admin):
    coordinator = make.user(name="Stina Strand")
    case = make.case(coordinator)  # writes person.create and case.create
    other_case = make.case(coordinator)  # someone else's log stays out
    make.commit()
    login(client, admin)

    response = client.get("/admin/audit/", query_string={"personnummer": case.person.identifier})

    assert response.status_code == 200
    html = _html(response)
    assert f"Logg för Karin Nilsson, {case.person.identifier[:8]}-" in html
    rows = _rows(html)
    assert len(rows) == 3
    assert "Läste loggen för personen" in rows[0] and "Ali Admin" in rows[0]
    assert "Akutsjukhuset, avdelning 12" in rows[0]
    assert "Skapade ärendet" in rows[1] and "Stina Strand" in rows[1]
    assert f"<td>{case.id}</td>" in rows[1]
    assert "Registrerade personen" in rows[2]
    assert f"<td>{other_case.id}</td>" not in html
    assert 'scope="col"' in html and "<caption>" in html


@pytest.mark.parametrize(
    "written", ["digits", "ten digits with hyphen", "twelve digits with hyphen", "spaces"]
)
def test_the_number_may_be_written_in_any_common_form(client, make, admin, written):
    person = make.person(admin)
    make.commit()
    login(client, admin)
    number = {
        "digits": person.identifier,
        "ten digits with hyphen": _ten_digits(person.identifier),
        "twelve digits with hyphen": f"{person.identifier[:8]}-{person.identifier[8:]}",
        "spaces": f" {person.identifier[:8]} {person.identifier[8:]} ",
    }[written]

    response = client.get("/admin/audit/", query_string={"personnummer": number})

    assert response.status_code == 200
    assert "Registrerade personen" in _html(response)


def test_viewing_the_log_is_itself_logged(client, make, admin):
    person = make.person(admin)
    make.commit()
    login(client, admin)

    client.get("/admin/audit/", query_string={"personnummer": person.identifier})

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.read"))
    assert event is not None
    assert (event.user_id, event.unit_id, event.person_id, event.case_id) == (
        admin.id,
        admin.unit_id,
        person.id,
        None,
    )


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("19500101-1235", "Kontrollsiffran stämmer inte"),
        ("1950-01-01", "Numret ska skrivas som ÅÅMMDD-NNNN"),
        ("", "Ange ett personnummer eller samordningsnummer."),
    ],
)
def test_a_wrong_number_is_explained_in_swedish(client, make, admin, number, message):
    make.commit()
    login(client, admin)

    response = client.get("/admin/audit/", query_string={"personnummer": number})

    assert response.status_code == 422
    html = _html(response)
    assert message in html
    assert f'value="{number}"' in html
    assert db.session.scalar(select(AuditEvent)) is None


def test_a_valid_number_nobody_has_says_so(client, make, admin):
    make.commit()
    login(client, admin)

    response = client.get("/admin/audit/", query_string={"personnummer": "19121212-1212"})

    assert response.status_code == 200
    assert "Det finns ingen person med nummer 19121212-1212" in _html(response)


def test_times_are_shown_in_stockholm_time(client, make, admin):
    person = make.person(admin)
    _event(person.id, datetime(2024, 1, 15, 12, 0, 5, tzinfo=UTC))  # winter: UTC+1
    _event(person.id, datetime(2024, 7, 1, 12, 0, 5, tzinfo=UTC))  # summer: UTC+2
    make.commit()
    login(client, admin)

    html = _html(client.get("/admin/audit/", query_string={"personnummer": person.identifier}))

    assert "2024-01-15 13:00:05" in html
    assert "2024-07-01 14:00:05" in html
    assert html.index("2024-07-01 14:00:05") < html.index("2024-01-15 13:00:05")


def test_actions_and_stages_are_shown_in_swedish(client, make, admin):
    person = make.person(admin)
    at = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    _event(person.id, at, "case.stage", case_id=7, detail=str(Stage.FORBEREDELSE))
    _event(person.id, at + timedelta(minutes=1), "something.new", detail="fritext")
    make.commit()
    login(client, admin)

    html = _html(client.get("/admin/audit/", query_string={"personnummer": person.identifier}))

    assert "Flyttade ärendet till ett nytt steg" in html
    assert "<td>Förberedelse</td>" in html
    assert "something.new" in html  # an action without a label is still shown
    assert "<td>fritext</td>" in html


def test_a_long_log_is_paginated(client, make, admin):
    person = make.person(admin)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for minute in range(60):
        _event(person.id, start + timedelta(minutes=minute))
    make.commit()
    login(client, admin)
    query = {"personnummer": person.identifier}

    first = _html(client.get("/admin/audit/", query_string=query))
    second = _html(client.get("/admin/audit/", query_string={**query, "page": 2}))

    # 60 reads, person.create, and the two views of the log: 63 rows, 50 on the first page.
    assert len(_rows(first)) == 50
    assert len(_rows(second)) == 13
    assert "sida 1 av 2" in first
    assert "Nästa sida" in first and 'rel="next"' in first
    assert "Föregående sida" in second
    assert client.get("/admin/audit/", query_string={**query, "page": 9}).status_code == 404


def test_events_for_person_is_a_select_newest_first(make):
    user = make.user()
    person = make.person(user)
    record("case.read", user=user, person_id=person.id, case_id=1)
    db.session.flush()

    events = db.session.scalars(events_for_person(person.id)).all()

    assert [e.action for e in events] == ["case.read", "person.create"]
