"""A person's log extract (who has read my data): a CSV file Swedish Excel opens as it is."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from sip_tracker.audit.models import AuditEvent
from sip_tracker.auth.models import Role
from sip_tracker.db import db
from tests.factories import login
from tests.test_audit import add_event, html_of


@pytest.fixture
def admin(make):
    return make.user(role=Role.ADMINISTRATOR, name="Ali Admin")


def rows_of_csv(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_the_extract_lists_who_did_what_in_swedish_in_stockholm_time(client, make, admin):
    region = make.huvudman(name="Region Stockholm")
    ward = make.unit(region, name="Avdelning 12")
    nurse = make.user(ward, name="Nora Sjö", role=Role.SAMORDNARE)
    person = make.person(admin)
    other = make.person(admin)
    add_event(
        person.id,
        datetime(2024, 7, 1, 12, 0, 5, tzinfo=UTC),
        "case.read",
        case_id=42,
        user_id=nurse.id,
        unit_id=ward.id,
    )
    add_event(other.id, datetime(2024, 7, 2, tzinfo=UTC), "case.read", user_id=nurse.id)
    make.commit()
    login(client, admin)

    response = client.post("/admin/audit/extract", data={"personnummer": person.identifier})

    assert response.status_code == 200
    assert response.get_data().startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads å, ä, ö
    assert response.mimetype == "text/csv"
    rows = rows_of_csv(response)
    assert rows[0] == [
        "Tid",
        "Organisation",
        "Enhet",
        "Användare",
        "Roll",
        "Händelse",
        "Ärende",
        "Detalj",
    ]
    assert rows[1][3:6] == ["Ali Admin", "Administratör", "Registrerade personen"]
    assert rows[2] == [
        "2024-07-01 14:00:05",
        "Region Stockholm",
        "Avdelning 12",
        "Nora Sjö",
        "Samordnare",
        "Läste ärendet",
        "42",
        "",
    ]
    assert len(rows) == 3  # the other person's rows stay out


def test_the_download_is_logged_private_and_named_without_personal_data(client, make, admin):
    person = make.person(admin)
    make.commit()
    login(client, admin)

    response = client.post("/admin/audit/extract", data={"personnummer": person.identifier})

    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert f"person-{person.id}" in disposition and person.identifier[2:8] not in disposition
    assert response.headers["Cache-Control"] == "no-store"
    logged = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.extract"))
    assert (logged.user_id, logged.person_id) == (admin.id, person.id)
    # The extract shows its own download only from the next one on; the log has it now.
    assert (
        "Tog ut ett registerutdrag ur loggen"
        in rows_of_csv(
            client.post("/admin/audit/extract", data={"personnummer": person.identifier})
        )[1]
    )


def test_the_extract_is_in_swedish_whatever_the_administrator_reads(client, make, admin):
    person = make.person(admin)
    make.commit()
    login(client, admin)
    assert "Log extract" in html_of(client.get("/admin/audit/extract?lang=en"))

    rows = rows_of_csv(
        client.post("/admin/audit/extract", data={"personnummer": person.identifier})
    )

    assert rows[0][0] == "Tid" and rows[1][5] == "Registrerade personen"


def test_a_name_excel_would_run_as_a_formula_stays_text(client, make, admin):
    mallory = make.user(name='=HYPERLINK("http://evil.example")')
    person = make.person(mallory)
    make.commit()
    login(client, admin)

    rows = rows_of_csv(
        client.post("/admin/audit/extract", data={"personnummer": person.identifier})
    )

    assert rows[1][3] == '\'=HYPERLINK("http://evil.example")'


def test_the_form_is_filled_in_from_the_log_page_without_a_number_in_the_url(client, make, admin):
    person = make.person(admin)
    make.commit()
    login(client, admin)

    log = html_of(
        client.post(
            "/admin/audit/", data={"personnummer": person.identifier}, follow_redirects=True
        )
    )
    form = html_of(client.get(f"/admin/audit/extract?person={person.id}"))

    assert f"/admin/audit/extract?person={person.id}" in log
    assert f'value="{person.identifier[:8]}-{person.identifier[8:]}"' in form
    assert 'method="post"' in form


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("", "Ange ett personnummer eller samordningsnummer."),
        ("19500101-1235", "Kontrollsiffran stämmer inte"),
        ("19121212-1212", "Det finns ingen person med nummer 19121212-1212 i SIP-trackern."),
    ],
)
def test_a_wrong_number_is_explained_at_the_field(client, make, admin, number, message):
    make.commit()
    login(client, admin)

    response = client.post("/admin/audit/extract", data={"personnummer": number})

    assert response.status_code == 422
    html = html_of(response)
    assert 'id="personnummer-error">' + message in html
    assert db.session.scalar(select(AuditEvent)) is None
