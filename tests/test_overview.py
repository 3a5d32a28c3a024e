"""Mina ärenden and Min enhets ärenden: filters, search, order, pages."""

from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event

from sip_tracker import clock
from sip_tracker.auth.models import Role
from sip_tracker.cases import services
from sip_tracker.cases.codes import Origin, Sakomrade
from sip_tracker.db import db
from tests.factories import login, personnummer


@contextmanager
def counted_queries():
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def names_in(page):
    return page.get_data(as_text=True)


def test_mine_and_my_units_cases(client, make):
    me = make.user()
    colleague = make.user(me.unit)
    make.case(me, person=make.person(me, given_name="Min"))
    make.case(colleague, person=make.person(colleague, given_name="Kollegans"))
    make.case(person=make.person(given_name="Främmande"))
    make.commit()
    login(client, me)
    mine = names_in(client.get("/?scope=mine"))
    assert "Min Nilsson" in mine and "Kollegans" not in mine
    unit = names_in(client.get("/?scope=unit"))
    assert "Min Nilsson" in unit and "Kollegans Nilsson" in unit
    assert "Främmande" not in unit


def test_filters_by_stage_sakomrade_and_kommun(client, make):
    me = make.user()
    kommun = make.huvudman(name="Solna stad")
    solna_unit = make.unit(kommun)
    a = make.case(me, person=make.person(me, given_name="Anna"), sakomraden=[Sakomrade.ALDRE])
    services.start_preparation(a, user=me)
    b = make.case(
        me, person=make.person(me, given_name="Bertil"), sakomraden=[Sakomrade.PSYKISK_OHALSA]
    )
    services.add_participant(b, user=me, kind="enhet", unit=solna_unit)
    make.commit()
    login(client, me)
    by_stage = names_in(client.get("/?scope=unit&stage=forberedelse"))
    assert "Anna" in by_stage and "Bertil" not in by_stage
    by_area = names_in(client.get("/?scope=unit&sakomrade=psykisk_ohalsa_beroende"))
    assert "Bertil" in by_area and "Anna" not in by_area
    by_kommun = names_in(client.get(f"/?scope=unit&kommun={kommun.id}"))
    assert "Bertil" in by_kommun and "Anna" not in by_kommun


def test_search_by_personnummer_in_any_form_or_by_name(client, make):
    me = make.user()
    make.case(me, person=make.person(me, given_name="Tolvan", identifier="191212121212"))
    make.case(me, person=make.person(me, given_name="Annan"))
    make.commit()
    login(client, me)
    for query in ("121212+1212", "19121212-1212", "Tolvan", "tolvan nilsson", "1212121212"):
        page = names_in(client.get("/", query_string={"scope": "unit", "q": query}))
        assert "Tolvan" in page, query
        assert "Annan Nilsson" not in page, query


def test_due_and_overdue_sorted_by_next_due_date(client, make):
    me = make.user()
    today = clock.today()
    late = make.case(
        me,
        person=make.person(me, given_name="Sen"),
        origin=Origin.UTSKRIVNING,
        utskrivningsklar_on=today - timedelta(days=5),
    )
    soon = make.case(
        me,
        person=make.person(me, given_name="Snart"),
        origin=Origin.UTSKRIVNING,
        utskrivningsklar_on=today,
    )
    make.case(me, person=make.person(me, given_name="Ingen"))
    make.commit()
    login(client, me)
    page = names_in(client.get("/?scope=mine"))
    assert page.index("Sen Nilsson") < page.index("Snart Nilsson") < page.index("Ingen Nilsson")
    assert "Försenad" in page
    overdue = names_in(client.get("/?scope=mine&due=overdue"))
    assert "Sen" in overdue and "Snart" not in overdue
    week = names_in(client.get("/?scope=mine&due=week"))
    assert "Snart" in week and "Sen Nilsson" not in week
    assert late.next_due_on < soon.next_due_on


def test_pages_of_twenty_with_a_constant_number_of_queries(app, client, make):
    me = make.user()
    for n in range(45):
        born = date(1940, 1, 1) + timedelta(days=n)
        make.case(me, person=make.person(me, identifier=personnummer(born, 200 + n)))
    make.commit()
    login(client, me)
    first = client.get("/?scope=mine")
    assert "45 ärenden" in names_in(first)
    assert names_in(first).count("/cases/") >= 20
    assert "Sida 1 av 3" in names_in(first)
    last = client.get("/?scope=mine&page=3")
    assert "Sida 3 av 3" in names_in(last)
    with counted_queries() as one_page:
        client.get("/?scope=mine&page=1")
    with counted_queries() as other_page:
        client.get("/?scope=mine&page=3")
    assert len(one_page) == len(other_page)
    assert len(one_page) < 20


def test_reviewers_see_the_units_they_review(client, make):
    reviewed = make.unit()
    coordinator = make.user(reviewed)
    make.case(coordinator, person=make.person(coordinator, given_name="Granskad"))
    make.case(person=make.person(given_name="Ogranskad"))
    reviewer = make.user(role=Role.GRANSKARE, reviewed_units=[reviewed])
    make.commit()
    login(client, reviewer)
    page = names_in(client.get("/"))
    assert "Granskad" in page and "Ogranskad" not in page
    assert "Nytt ärende" not in page


def test_cases_new_to_my_unit_are_marked_with_a_constant_number_of_queries(client, make):
    starter = make.user()
    my_unit = make.unit()
    me = make.user(my_unit)

    def invite(n: int) -> None:
        for _ in range(n):
            born = date(1950, 1, 1) + timedelta(days=next_day())
            person = make.person(starter, identifier=personnummer(born, 300))
            make.shared_case(starter, my_unit, person=person)

    days = iter(range(1000))

    def next_day() -> int:
        return next(days)

    invite(1)
    make.commit()
    login(client, me)
    client.get("/?scope=mine")  # the first request after login also stores the session
    with counted_queries() as few:
        page = names_in(client.get("/?scope=mine"))
    assert "1 ärende" in page and page.count('class="badge badge-new"') == 1
    invite(9)
    make.commit()
    with counted_queries() as many:
        page = names_in(client.get("/?scope=mine"))
    assert "10 ärenden" in page and page.count('class="badge badge-new"') == 10
    assert len(few) == len(many)
