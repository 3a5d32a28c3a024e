"""The inbox ("Inkorg"): items for a unit and for one user, read per user, the unit sees who
read them, and the unread count in the header of every page (issue 9, point 1)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from sip_tracker import clock
from sip_tracker.audit.models import AuditEvent
from sip_tracker.cases import services as cases
from sip_tracker.db import db, utcnow
from sip_tracker.inbox.models import InboxItem, InboxKind, InboxRead
from sip_tracker.inbox.services import notify
from sip_tracker.meetings import services as meetings
from sip_tracker.messages.models import CaseMessage
from tests.factories import login
from tests.test_overview import counted_queries


def text(response):
    return response.get_data(as_text=True)


def shared(make):
    """A case of unit A shared with unit B, and users of A, B (two) and an outsider."""
    a = make.user(name="Anna Initierande")
    b_unit = make.unit(name="Vårdcentralen Norr")
    b = make.user(b_unit, name="Berit Region")
    b2 = make.user(b_unit, name="Bo Kollega")
    outsider = make.user(name="Olle Utanför")
    case = make.shared_case(a, b_unit, person=make.person(a, given_name="Petra"))
    return a, b, b2, outsider, case


def message(case, author, body="Kan ni komma på torsdag?", receipt=False):
    sent = CaseMessage(
        case_id=case.id,
        author_id=author.id,
        author_unit_id=author.unit_id,
        body=body,
        receipt_requested=receipt,
    )
    db.session.add(sent)
    db.session.flush()
    return sent


def test_items_are_listed_newest_first_for_the_units_users_only(client, make):
    a, b, b2, outsider, case = shared(make)
    first = notify(InboxKind.INVITATION, case, units=[b.unit], actor=a)[0]
    first.created_at = utcnow() - timedelta(hours=2)
    notify(InboxKind.MESSAGE, case, units=[b.unit], actor=a, message=message(case, a))
    make.commit()

    for reader in (b, b2):
        page = text(login(client, reader).get("/inbox"))
        assert page.index("Meddelande") < page.index("Inbjudan till SIP-möte")
        assert "Petra Nilsson" in page and f"ärende {case.id}" in page
        assert "Anna Initierande" in page  # who did it, and their unit
        assert page.count("Ny<") == 2  # unread: said in text, not by colour alone
    page = text(login(client, outsider).get("/inbox"))
    assert "Petra" not in page and "Inga händelser här." in page


def test_opening_an_item_marks_it_read_for_that_user_only(client, make):
    a, b, b2, _outsider, case = shared(make)
    [item] = notify(InboxKind.INVITATION, case, units=[b.unit], actor=a)
    make.commit()

    opened = login(client, b).get(f"/inbox/{item.id}")
    assert opened.status_code == 200
    assert "Berit Region" in text(opened)  # "Läst av" names the reader
    listed = text(client.get("/inbox"))
    assert "Ny<" not in listed

    other = text(login(client, b2).get("/inbox"))
    assert other.count("Ny<") == 1  # still unread for the colleague
    seen = text(client.get(f"/inbox/{item.id}"))
    read_by = seen[seen.index("Läst av") :]
    assert "Berit Region" in read_by and "Bo Kollega" in read_by
    assert read_by.index("Berit Region") < read_by.index("Bo Kollega")
    assert db.session.scalars(select(InboxRead.user_id)).all().count(b.id) == 1


def test_the_header_count_on_every_page_falls_when_an_item_is_opened(client, make):
    a, b, _b2, _outsider, case = shared(make)
    [item] = notify(InboxKind.INVITATION, case, units=[b.unit], actor=a)
    notify(InboxKind.PLAN, case, units=[b.unit], actor=a)
    make.commit()

    login(client, b)
    assert "2 olästa" in text(client.get("/account/password"))
    client.get(f"/inbox/{item.id}")
    page = text(client.get("/account/password"))
    assert "1 oläst" in page and "2 olästa" not in page
    client.post("/inbox/read-all")
    page = text(client.get("/account/password"))
    assert "oläst" not in page and "Inkorg" in page


def test_no_count_query_for_a_visitor(client, make):
    with counted_queries() as statements:
        page = client.get("/login")
    assert page.status_code == 200
    assert not [s for s in statements if "inbox_item" in s]


def test_a_user_of_another_unit_gets_404_for_the_item(client, make):
    a, b, _b2, outsider, case = shared(make)
    [item] = notify(InboxKind.INVITATION, case, units=[b.unit], actor=a)
    [own] = notify(InboxKind.ANSWER, case, users=[a], actor=b)
    make.commit()

    assert login(client, outsider).get(f"/inbox/{item.id}").status_code == 404
    assert login(client, a).get(f"/inbox/{item.id}").status_code == 404  # B's, not A's
    # An item for one user: not for their colleagues.
    colleague = make.user(a.unit)
    make.commit()
    assert login(client, colleague).get(f"/inbox/{own.id}").status_code == 404
    assert login(client, a).get(f"/inbox/{own.id}").status_code == 200
    assert db.session.scalar(select(InboxRead).where(InboxRead.user_id == outsider.id)) is None


def test_an_item_about_a_case_no_longer_shared_names_no_one(client, make):
    a, b, _b2, _outsider, case = shared(make)
    [item] = notify(InboxKind.INVITATION, case, units=[b.unit], actor=a)
    cases.withdraw_consent(case, user=a, withdrawn_on=clock.today(), note=None)
    notify(InboxKind.CONSENT_WITHDRAWN, case, units=[b.unit], actor=a)
    make.commit()

    login(client, b)
    listed = text(client.get("/inbox"))
    assert "Petra" not in listed and "Nilsson" not in listed
    assert "Ett ärende som inte längre delas med er enhet" in listed
    before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
    opened = text(client.get(f"/inbox/{item.id}"))
    assert "Petra" not in opened and f"/cases/{case.id}" not in opened
    assert "Ett ärende som inte längre delas med er enhet" in opened
    db.session.rollback()
    logged = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before)).all()
    assert not [e for e in logged if e.person_id is not None]


def test_an_item_links_to_where_it_is_handled_and_its_read_is_logged(client, make):
    a, b, _b2, _outsider, case = shared(make)
    meeting = meetings.schedule_meeting(
        case,
        user=a,
        starts_at=utcnow() + timedelta(days=5),
        duration_minutes=60,
        place="Mötesrum 4",
        video_link=None,
        participants=case.participants,
    )
    [invitation] = notify(InboxKind.INVITATION, case, units=[b.unit], actor=a, meeting=meeting)
    [said] = notify(InboxKind.MESSAGE, case, units=[b.unit], actor=a, message=message(case, a))
    make.commit()

    login(client, b)
    page = text(client.get(f"/inbox/{invitation.id}"))
    meeting_url = f"/cases/{case.id}/meetings/{meeting.id}"
    assert f'href="{meeting_url}"' in page and "Mötesrum 4" in page
    assert client.get(meeting_url).status_code == 200
    page = text(client.get(f"/inbox/{said.id}"))
    assert f'href="/cases/{case.id}#meddelanden"' in page
    assert "Kan ni komma på torsdag?" in page
    db.session.rollback()
    reads = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "case.read", AuditEvent.user_id == b.id)
    ).all()
    assert {(e.person_id, e.case_id) for e in reads} == {(case.person_id, case.id)}


def test_filters_unread_and_only_mine(client, make):
    a, b, _b2, _outsider, case = shared(make)
    [unit_item] = notify(InboxKind.INVITATION, case, units=[b.unit], actor=a)
    notify(InboxKind.ANSWER, case, users=[b], actor=a)
    make.commit()

    login(client, b)
    client.get(f"/inbox/{unit_item.id}")
    unread = text(client.get("/inbox?show=unread"))
    assert "Svar på kallelse" in unread and "Inbjudan till SIP-möte" not in unread
    mine = text(client.get("/inbox?show=mine"))
    assert "Svar på kallelse" in mine and "Inbjudan till SIP-möte" not in mine
    every = text(client.get("/inbox?show=all"))
    assert "Svar på kallelse" in every and "Inbjudan till SIP-möte" in every
    assert client.get("/inbox?show=nonsense").status_code == 200


def test_mark_all_read(client, make):
    a, b, b2, _outsider, case = shared(make)
    for kind in (InboxKind.INVITATION, InboxKind.PLAN, InboxKind.MESSAGE):
        notify(kind, case, units=[b.unit], actor=a)
    make.commit()

    response = login(client, b).post("/inbox/read-all", follow_redirects=True)
    assert "3 händelser markerade som lästa." in text(response)
    assert "Ny<" not in text(response)
    assert text(login(client, b2).get("/inbox")).count("Ny<") == 3


def test_an_inbox_page_costs_the_same_statements_however_many_cases_and_actors(client, make):
    a, b, _b2, _outsider, case = shared(make)
    notify(InboxKind.INVITATION, case, units=[b.unit], actor=a)
    make.commit()
    login(client, b)
    client.get("/inbox")
    with counted_queries() as few:
        client.get("/inbox")

    for _n in range(12):
        actor = make.user(a.unit)
        other = make.shared_case(actor, b.unit)
        notify(InboxKind.MESSAGE, other, units=[b.unit], actor=actor)
        notify(InboxKind.ANSWER, other, users=[b], actor=actor)
    make.commit()
    login(client, b)
    client.get("/inbox")
    with counted_queries() as many:
        first = client.get("/inbox")
    with counted_queries() as second:
        client.get("/inbox?page=2")
    assert "Sida 1 av 2" in text(first)
    assert len(many) == len(few) == len(second)
    assert len(many) < 20


def test_items_of_reminders_show_no_actor(client, make):
    a, _b, _b2, _outsider, case = shared(make)
    notify(InboxKind.KALLELSE_DEADLINE, case, units=[a.unit], dedupe_key="k|1")
    make.commit()
    page = text(login(client, a).get("/inbox"))
    assert "Frist för kallelse vid utskrivning" in page
    assert "påminnelse" in page
    assert db.session.scalar(select(InboxItem.actor_id)) is None


def test_each_kind_links_to_where_it_is_handled(client, make):
    a, b, _b2, _outsider, case = shared(make)
    [plan] = notify(InboxKind.PLAN, case, units=[b.unit], actor=a)
    [due] = notify(InboxKind.FOLLOW_UP_DUE, case, units=[b.unit], dedupe_key="f|1")
    [other] = notify(InboxKind.CONSENT_WITHDRAWN, case, units=[b.unit], actor=a)
    make.commit()
    login(client, b)
    expected = {
        plan.id: f"/cases/{case.id}/plan/versions",
        due.id: f"/cases/{case.id}/follow-ups",
        other.id: f"/cases/{case.id}",
    }
    for item_id, url in expected.items():
        page = text(client.get(f"/inbox/{item_id}"))
        assert f'class="button" href="{url}"' in page
        assert client.get(url).status_code == 200
