"""/indicators: who sees what, the choices, the charts, the CSV, and nothing personal."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time
from pathlib import Path

import pytest

from sip_tracker import clock
from sip_tracker.auth.models import Role
from sip_tracker.db import db
from sip_tracker.i18n import to_utc
from tests.factories import login


def started_cases(make, user, count: int, day: date, **fields) -> list:
    found = []
    for _ in range(count):
        case = make.case(
            user, person=make.person(user, given_name="Hemlig", family_name="Person"), **fields
        )
        case.created_at = case.events[0].at = to_utc(datetime.combine(day, time(10)))
        found.append(case)
    db.session.flush()
    return found


@pytest.fixture
def county(make):
    """Two kommuner: seven cases in one, two in the other, all in March this year."""
    first, second = make.huvudman(name="Första kommunen"), make.huvudman(name="Andra kommunen")
    first_user, second_user = make.user(make.unit(first)), make.user(make.unit(second))
    day = date(clock.today().year, 3, 10)
    started_cases(make, first_user, 7, day)
    started_cases(make, second_user, 2, day)
    return {
        "first": first,
        "second": second,
        "first_user": first_user,
        "second_user": second_user,
        "reviewer": make.user(role=Role.GRANSKARE),
        "admin": make.user(make.unit(second), role=Role.ADMINISTRATOR),
    }


def html(response) -> str:
    return response.get_data(as_text=True)


def row_cells(page: str, label: str) -> list[str]:
    """The cells of the first table row headed by label."""
    match = re.search(r"<th scope=\"row\">" + re.escape(label) + r".*?</tr>", page, re.S)
    assert match, label
    return re.findall(r"<td class=\"num[^\"]*\">([^<]*)</td>", match.group(0))


def test_visitors_are_sent_to_login(client):
    for url in ("/indicators", "/indicators.csv", "/indicators/started.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["reviewer", "first_user", "admin"])
def test_every_role_opens_the_page(client, county, who):
    db.session.commit()
    login(client, county[who])
    response = client.get("/indicators")
    assert response.status_code == 200
    page = html(response)
    assert page.count('<section class="indicator"') == 13
    assert response.headers["Cache-Control"] == "no-store"


def test_reviewers_see_the_county_and_coordinators_their_huvudman(client, county):
    db.session.commit()
    login(client, county["reviewer"])
    page = html(client.get("/indicators?indicator=started&by=huvudman"))
    assert "SIP-arbetet i hela länet" in page
    # The second kommun's 2 is "<5"; so that it cannot be taken from the total (9), the
    # first kommun's 7 is hidden too.
    assert row_cells(page, "Andra kommunen")[2] == "&lt;5"
    assert row_cells(page, "Första kommunen")[2] == "x"
    assert row_cells(page, "Totalt")[2] == "9"

    login(client, county["first_user"])
    page = html(client.get("/indicators?indicator=started&by=huvudman"))
    assert "SIP-arbetet hos Första kommunen" in page
    assert "Andra kommunen" not in page
    assert row_cells(page, "Totalt")[2] == "7"

    login(client, county["admin"])
    page = html(client.get("/indicators?indicator=started"))
    assert row_cells(page, "Totalt")[2] == "&lt;5"


def test_no_names_personnummer_or_case_ids(client, county):
    db.session.commit()
    login(client, county["reviewer"])
    for url in (
        "/indicators?by=unit",
        "/indicators?by=huvudman&period=year",
        "/indicators.csv?by=unit",
    ):
        page = html(client.get(url))
        assert "Hemlig" not in page and "/cases/" not in page
        assert not re.search(r"\b(19|20)\d{6}-?\d{4}\b", page)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"period": "quarter"}, ["Kv 1", "Kv 4", "Helår"]),
        ({"period": "year"}, [str(clock.today().year)]),
        ({"by": "unit"}, ["Enhet"]),
        ({"by": "sakomrade"}, ["Äldres hälsa", "Barn och ungas hälsa"]),
        ({"by": "malomrade"}, ["Inte kopplade till något målområde"]),
        ({"by": "activity"}, ["Inte kopplade till någon aktivitet"]),
    ],
)
def test_periods_and_groupings(client, county, query, expected):
    db.session.commit()
    login(client, county["reviewer"])
    response = client.get("/indicators", query_string={"indicator": "started", **query})
    assert response.status_code == 200
    page = html(response)
    assert page.count('<section class="indicator"') == 1
    for text in expected:
        assert text in page, text


def test_unknown_choices_show_an_error_and_the_defaults(client, county):
    db.session.commit()
    login(client, county["reviewer"])
    response = client.get("/indicators?period=week&by=planet&year=1999")
    assert response.status_code == 422
    page = html(response)
    assert "Formuläret innehåller fel" in page
    assert "Helår" in page  # months of this year
    assert page.count('<section class="indicator"') == 13


def test_each_indicator_has_an_accessible_chart_and_its_numbers_in_a_table(client, county):
    db.session.commit()
    login(client, county["reviewer"])
    page = html(client.get("/indicators"))
    for key in ("started", "discharge_kallelse", "need_to_kallelse"):
        assert f'aria-labelledby="chart-{key}-title chart-{key}-desc"' in page
        assert f'<title id="chart-{key}-title">' in page
        assert f'href="/indicators/{key}.csv?' in page
    assert page.count("<table") == 13
    # The CSP forbids inline scripts and styles; nothing is fetched from elsewhere.
    assert "<script" not in page and "style=" not in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page


def test_the_chart_draws_no_bar_for_a_hidden_cell(client, county):
    db.session.commit()
    login(client, county["reviewer"])
    page = html(client.get("/indicators?indicator=started&by=huvudman"))
    chart = page[page.index("<svg") : page.index("</svg>")]
    assert chart.count('class="chart-bar"') == 0  # 7 is x, 2 is <5: no bar at all
    assert "&lt;5" in chart and ">x<" in chart


def read_csv(response) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def test_csv_of_one_indicator_with_the_filters_and_the_rule(client, county):
    db.session.commit()
    login(client, county["reviewer"])
    response = client.get("/indicators/started.csv?by=huvudman&period=quarter")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = read_csv(response)
    year = clock.today().year
    q1 = {r["Grupp"]: r["Värde"] for r in rows if r["Period"] == f"{year}-Q1"}
    assert q1["Andra kommunen"] == "<5"
    assert q1["Första kommunen"] == "x"
    assert q1["Totalt"] == "9"
    assert {r["Indikator"] for r in rows} == {"Påbörjade SIP:ar"}
    assert {r["Enhet"] for r in rows} == {"antal"}


def test_csv_of_every_indicator_and_of_a_coordinators_scope(client, county):
    db.session.commit()
    login(client, county["first_user"])
    rows = read_csv(client.get("/indicators.csv"))
    assert len({r["Indikator"] for r in rows}) == 13
    assert "Andra kommunen" not in {r["Grupp"] for r in rows}
    march = f"{clock.today().year}-03"
    started = next(r for r in rows if r["Indikator"] == "Påbörjade SIP:ar" and r["Period"] == march)
    assert started["Värde"] == "7"


def test_an_unknown_indicator_csv_is_not_found(client, county):
    db.session.commit()
    login(client, county["reviewer"])
    assert client.get("/indicators/nothing.csv").status_code == 404


def test_the_page_prints_without_its_controls(client, county):
    db.session.commit()
    login(client, county["reviewer"])
    page = html(client.get("/indicators"))
    assert 'class="filters no-print"' in page and 'class="print-only"' in page
    css = (Path(__file__).parent.parent / "sip_tracker/static/app.css").read_text()
    assert "@media print" in css and ".print-only { display: block; }" in css


def test_the_number_of_queries_does_not_grow_with_the_cases(client, make, county):
    """Aggregates in SQL: a page costs the same few statements for 9 cases or 29."""
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def measure() -> int:
        db.session.commit()
        client.get("/indicators?by=unit")  # the same session state before each count
        statements.clear()
        client.get("/indicators?by=unit")
        return len(statements)

    login(client, county["reviewer"])
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        few = measure()
        started_cases(make, county["first_user"], 20, date(clock.today().year, 4, 2))
        many = measure()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert few == many
    assert many < 50  # 13 indicators, on PostgreSQL each with SET LOCAL jit = off
