"""The access log: written with every read and change, read by administrators on the log
page, filtered by person, user, unit and period."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from sip_tracker.audit.models import AuditEvent
from sip_tracker.audit.queries import LogFilters, events_for_person, log_entries
from sip_tracker.audit.services import record
from sip_tracker.auth.models import Role
from sip_tracker.cases.codes import Stage
from sip_tracker.db import db
from tests.factories import login


@pytest.fixture
def admin(make):
    unit = make.unit(name="Akutsjukhuset, avdelning 12")
    return make.user(unit=unit, role=Role.ADMINISTRATOR, name="Ali Admin")


def html_of(response) -> str:
    return response.get_data(as_text=True)


def rows_of(html: str) -> list[str]:
    if "<tbody>" not in html:
        return []
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)


def add_event(person_id: int | None, at: datetime, action: str = "case.read", **fields):
    event = AuditEvent(person_id=person_id, at=at, action=action, **fields)
    db.session.add(event)
    return event


def search(client, **data):
    """Send the filter form (POST), and follow the redirect to the log it describes."""
    return client.post("/admin/audit/", data=data, follow_redirects=True)


def reads_logged(admin) -> list[int | None]:
    query = select(AuditEvent.person_id).where(
        AuditEvent.action == "audit.read", AuditEvent.user_id == admin.id
    )
    return sorted(db.session.scalars(query))


def test_the_log_page_lists_the_latest_rows_and_logs_each_person_shown(client, make, admin):
    first, second = make.person(admin), make.person(admin)
    make.commit()
    login(client, admin)

    response = client.get("/admin/audit/")

    assert response.status_code == 200
    html = html_of(response)
    assert '<label for="personnummer">Personnummer eller samordningsnummer</label>' in html
    assert len(rows_of(html)) == 2
    assert reads_logged(admin) == sorted([first.id, second.id])


def test_a_person_s_log_lists_who_did_what_newest_first(client, make, admin):
    coordinator = make.user(name="Stina Strand")
    case = make.case(coordinator)  # writes person.create and case.create
    other_case = make.case(coordinator)  # someone else's log stays out
    make.commit()
    login(client, admin)

    response = search(client, personnummer=case.person.identifier)

    assert response.status_code == 200
    html = html_of(response)
    rows = rows_of(html)
    assert len(rows) == 2
    assert "Skapade ärendet" in rows[0] and "Stina Strand" in rows[0]
    assert f"<td>{case.id}</td>" in rows[0]
    assert "Registrerade personen" in rows[1]
    assert "Karin Nilsson" in rows[0]
    assert f"<td>{other_case.id}</td>" not in html
    assert 'scope="col"' in html and "<caption" in html


def test_the_personnummer_never_reaches_a_url(client, make, admin):
    person = make.person(admin)
    make.commit()
    login(client, admin)

    response = client.post("/admin/audit/", data={"personnummer": person.identifier})

    assert response.status_code == 303
    location = response.headers["Location"]
    assert f"person={person.id}" in location
    assert person.identifier[2:8] not in location
    # The page it leads to shows the number in the form, for the administrator to see.
    page = html_of(client.get(location))
    assert f'value="{person.identifier[:8]}-{person.identifier[8:]}"' in page


@pytest.mark.parametrize(
    "written", ["digits", "ten digits with hyphen", "twelve digits with hyphen", "spaces"]
)
def test_the_number_may_be_written_in_any_common_form(client, make, admin, written):
    person = make.person(admin)
    make.commit()
    login(client, admin)
    number = {
        "digits": person.identifier,
        "ten digits with hyphen": f"{person.identifier[2:8]}-{person.identifier[8:]}",
        "twelve digits with hyphen": f"{person.identifier[:8]}-{person.identifier[8:]}",
        "spaces": f" {person.identifier[:8]} {person.identifier[8:]} ",
    }[written]

    response = search(client, personnummer=number)

    assert response.status_code == 200
    assert "Registrerade personen" in html_of(response)


def test_viewing_a_person_s_log_is_itself_logged(client, make, admin):
    person = make.person(admin)
    make.commit()
    login(client, admin)

    search(client, personnummer=person.identifier)

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.read"))
    assert event is not None
    assert (event.user_id, event.unit_id, event.person_id, event.case_id) == (
        admin.id,
        admin.unit_id,
        person.id,
        None,
    )


def test_the_log_s_own_reads_are_shown_on_request(client, make, admin):
    person = make.person(admin)
    make.commit()
    login(client, admin)
    search(client, personnummer=person.identifier)  # writes an audit.read

    hidden = html_of(search(client, personnummer=person.identifier))
    shown = html_of(search(client, personnummer=person.identifier, with_log_reads="y"))

    assert "Läste loggen för personen" not in hidden
    assert len(rows_of(shown)) == 3
    assert "Läste loggen för personen" in rows_of(shown)[0]
    assert "Ali Admin" in rows_of(shown)[0]
    assert "Akutsjukhuset, avdelning 12" in rows_of(shown)[0]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("19500101-1235", "Kontrollsiffran stämmer inte"),
        ("1950-01-01", "Numret ska skrivas som ÅÅMMDD-NNNN"),
        ("19121212-1212", "Det finns ingen person med nummer 19121212-1212 i SIP-trackern."),
    ],
)
def test_a_wrong_or_unknown_number_is_explained_at_the_field(client, make, admin, number, message):
    make.commit()
    login(client, admin)

    response = client.post("/admin/audit/", data={"personnummer": number})

    assert response.status_code == 422
    html = html_of(response)
    error = html.split('id="personnummer-error">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert f'value="{number}"' in html
    assert db.session.scalar(select(AuditEvent)) is None


def test_filter_by_user_by_email(client, make, admin):
    anna, bo = make.user(name="Anna Ek"), make.user(name="Bo Al")
    person = make.person(admin)
    add_event(person.id, datetime(2024, 3, 1, 9, tzinfo=UTC), user_id=anna.id)
    add_event(person.id, datetime(2024, 3, 1, 10, tzinfo=UTC), user_id=bo.id)
    make.commit()
    login(client, admin)

    response = search(client, user=anna.email.upper())

    rows = rows_of(html_of(response))
    assert len(rows) == 1 and "Anna Ek" in rows[0]
    assert f"user={anna.id}" in response.request.url


def test_an_unknown_user_is_explained_at_the_field(client, make, admin):
    make.commit()
    login(client, admin)

    response = client.post("/admin/audit/", data={"user": "ingen@kommun.example"})

    assert response.status_code == 422
    html = html_of(response)
    assert (
        'id="user-error">Det finns ingen användare med e-postadressen ingen@kommun.example.' in html
    )
    assert 'value="ingen@kommun.example"' in html


def test_filter_by_unit(client, make, admin):
    ward, clinic = make.unit(name="Avdelning 5"), make.unit(name="Mottagningen")
    person = make.person(admin)
    add_event(person.id, datetime(2024, 3, 1, 9, tzinfo=UTC), unit_id=ward.id)
    add_event(person.id, datetime(2024, 3, 1, 10, tzinfo=UTC), unit_id=clinic.id)
    make.commit()
    login(client, admin)

    rows = rows_of(html_of(search(client, unit=str(ward.id))))
    quiet = make.unit(name="Tyst enhet")
    make.commit()
    nothing = html_of(search(client, unit=str(quiet.id)))

    assert len(rows) == 1 and "Avdelning 5" in rows[0]
    assert "Inga händelser i loggen stämmer med urvalet." in nothing


def test_filter_by_period_in_stockholm_days(client, make, admin):
    person = make.person(admin)
    # 2024-02-29 23:30 UTC is 1 March 00:30 in Stockholm; 2024-03-31 22:30 UTC is 1 April.
    for at in ("2024-02-29 22:59", "2024-02-29 23:30", "2024-03-31 21:59", "2024-03-31 22:30"):
        add_event(person.id, datetime.fromisoformat(at).replace(tzinfo=UTC))
    make.commit()
    login(client, admin)

    html = html_of(search(client, first_day="2024-03-01", last_day="2024-03-31"))

    rows = rows_of(html)
    assert len(rows) == 2
    assert "2024-03-31 23:59:00" in rows[0]
    assert "2024-03-01 00:30:00" in rows[1]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"first_day": "2024-13-01"}, "first_day", "Inte ett giltigt datum"),
        ({"last_day": "igår"}, "last_day", "Inte ett giltigt datum"),
        (
            {"first_day": "2024-03-10", "last_day": "2024-03-01"},
            "last_day",
            "Slutdatumet kan inte vara före startdatumet.",
        ),
        ({"unit": "999999"}, "unit", "Inte ett giltigt val"),
    ],
)
def test_bad_filters_are_explained_at_the_field(client, make, admin, data, field, message):
    make.commit()
    login(client, admin)

    response = client.post("/admin/audit/", data=data)

    assert response.status_code == 422
    html = html_of(response)
    assert f'id="{field}-error">{message}' in html
    for value in data.values():
        if field != "unit":
            assert f'value="{value}"' in html


@pytest.mark.parametrize(
    "query",
    [
        "person=abc",
        "person=99999999999999999999999",
        "person=424242",
        "user=-1",
        "unit=x",
        "first_day=2024-02-30",
        "first_day=2024-03-02&last_day=2024-03-01",
        "page=0",
        "page=x",
    ],
)
def test_a_tampered_url_never_gives_a_server_error(client, make, admin, query):
    make.commit()
    login(client, admin)

    response = client.get(f"/admin/audit/?{query}")

    assert response.status_code in (404, 422), response.status_code
    if response.status_code == 422:
        assert 'class="error"' in html_of(response)


def test_times_are_shown_in_stockholm_time(client, make, admin):
    person = make.person(admin)
    add_event(person.id, datetime(2024, 1, 15, 12, 0, 5, tzinfo=UTC))  # winter: UTC+1
    add_event(person.id, datetime(2024, 7, 1, 12, 0, 5, tzinfo=UTC))  # summer: UTC+2
    make.commit()
    login(client, admin)

    html = html_of(search(client, personnummer=person.identifier))

    assert "2024-01-15 13:00:05" in html
    assert "2024-07-01 14:00:05" in html
    assert html.index("2024-07-01 14:00:05") < html.index("2024-01-15 13:00:05")


def test_actions_and_stages_are_shown_in_swedish(client, make, admin):
    person = make.person(admin)
    at = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    add_event(person.id, at, "case.stage", case_id=7, detail=str(Stage.FORBEREDELSE))
    add_event(person.id, at + timedelta(minutes=1), "something.new", detail="fritext")
    make.commit()
    login(client, admin)

    html = html_of(search(client, personnummer=person.identifier))

    assert "Flyttade ärendet till ett nytt steg" in html
    assert "<td>Förberedelse</td>" in html
    assert "something.new" in html  # an action without a label is still shown
    assert "<td>fritext</td>" in html


def test_a_long_log_is_paginated_and_keeps_its_filters(client, make, admin):
    person, other = make.person(admin), make.person(admin)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for minute in range(60):
        add_event(person.id, start + timedelta(minutes=minute))
        add_event(other.id, start + timedelta(minutes=minute))
    make.commit()
    login(client, admin)

    first = search(client, personnummer=person.identifier)
    url = first.request.url
    second = html_of(client.get(f"{url}&page=2"))

    # 60 reads and person.create: 61 rows, 50 on the first page.
    assert len(rows_of(html_of(first))) == 50
    assert len(rows_of(second)) == 11
    assert "sida 1 av 2" in html_of(first)
    assert 'rel="next"' in html_of(first) and f"person={person.id}" in html_of(first)
    assert "Föregående sida" in second
    assert client.get(f"{url}&page=9").status_code == 404


def test_only_administrators_read_the_log(client, make):
    coordinator = make.user()
    make.commit()

    assert client.get("/admin/audit/").status_code == 302
    login(client, coordinator)
    assert client.get("/admin/audit/").status_code == 403


def test_events_for_person_is_a_select_newest_first(make):
    user = make.user()
    person = make.person(user)
    record("case.read", user=user, person_id=person.id, case_id=1)
    db.session.flush()

    events = db.session.scalars(events_for_person(person.id)).all()

    assert [e.action for e in events] == ["case.read", "person.create"]


def test_log_entries_filters_in_sql(make):
    user = make.user()
    person = make.person(user)
    add_event(person.id, datetime(2024, 5, 2, 12, tzinfo=UTC), user_id=user.id)
    add_event(person.id, datetime(2024, 6, 2, 12, tzinfo=UTC), user_id=user.id)
    db.session.flush()

    query = log_entries(
        LogFilters(user_id=user.id, first_day=date(2024, 5, 1), last_day=date(2024, 5, 31))
    )

    assert [e.at.month for e in db.session.scalars(query)] == [5]
