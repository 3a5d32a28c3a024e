"""Idag: what is due today and this week, each line saying which deadline it is and linking
to where it is done (issue 9, point 6); the overview's "Nästa tidsfrist" says which one too."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from sip_tracker import clock
from sip_tracker.auth.models import Role
from sip_tracker.cases.codes import Origin, Outcome, Response
from sip_tracker.cases.workflow import DeadlineKind, next_deadline, next_due
from sip_tracker.db import db, utcnow
from sip_tracker.i18n import local_date, to_utc
from sip_tracker.inbox.models import InboxKind
from sip_tracker.inbox.services import notify
from sip_tracker.meetings import services as meetings
from sip_tracker.messages.models import CaseMessage, MessageReceipt
from sip_tracker.messages.services import acknowledge, receipt_due
from sip_tracker.plans import services as plans
from tests.access_world import furnish
from tests.factories import PASSWORD, login
from tests.test_overview import counted_queries


def text(response):
    return response.get_data(as_text=True)


def section(page, heading):
    """The part of the page under one heading of Idag."""
    start = page.index(f'id="{heading}"')
    rest = page[start:]
    end = rest.find("</section>")
    return rest[:end]


def at(days, hour=10):
    """A moment `days` from today at `hour` in Stockholm."""
    return to_utc(datetime.combine(clock.today() + timedelta(days=days), time(hour)))


def links_work(client, part):
    """Every link of the part answers 200 for the user logged in."""
    urls = re.findall(r'href="(/[^"#]*)', part)
    assert urls
    for url in urls:
        assert client.get(url).status_code == 200, url


def shared(make):
    a = make.user(name="Anna Initierande")
    b_unit = make.unit(name="Vårdcentralen Norr")
    b = make.user(b_unit, name="Berit Region")
    case = make.shared_case(a, b_unit, person=make.person(a, given_name="Petra"))
    return a, b, case


def meeting(case, user, starts_at):
    return meetings.schedule_meeting(
        case,
        user=user,
        starts_at=starts_at,
        duration_minutes=60,
        place="Mötesrum 4",
        video_link=None,
        participants=case.participants,
        allow_past=True,  # yesterday's meeting, not yet recorded as held
    )


def test_a_kallelse_deadline_due_and_one_overdue(client, make):
    me = make.user()
    today = clock.today()
    soon = make.case(
        me,
        person=make.person(me, given_name="Snart"),
        origin=Origin.UTSKRIVNING,
        utskrivningsklar_on=today - timedelta(days=1),
    )
    late = make.case(
        me,
        person=make.person(me, given_name="Sen"),
        origin=Origin.UTSKRIVNING,
        utskrivningsklar_on=today - timedelta(days=6),
    )
    make.case(
        me,
        person=make.person(me, given_name="Senare"),
        origin=Origin.UTSKRIVNING,
        utskrivningsklar_on=today + timedelta(days=10),
    )
    make.commit()
    page = text(login(client, me).get("/idag"))
    week = section(page, "week")
    assert "Kallelse senast (utskrivning)" in week and "Snart Nilsson" in week
    assert f"ärende {soon.id}" in week and "Försenad" not in week
    overdue = section(page, "overdue")
    assert "Kallelse senast (utskrivning)" in overdue and "Sen Nilsson" in overdue
    assert "Försenad" in overdue and f"ärende {late.id}" in overdue
    assert "Senare" not in page  # due after the week
    links_work(client, week)


def test_a_meeting_this_week_and_one_not_recorded_as_held(client, make):
    a, _b, case = shared(make)
    upcoming = meeting(case, a, at(3))
    other = make.shared_case(a, make.unit(), person=make.person(a, given_name="Gunnar"))
    meetings.send_kallelse(other, meeting(other, a, at(-2)), user=a)
    cancelled = meeting(make.shared_case(a, make.unit()), a, at(1))
    cancelled.cancelled_at = utcnow()
    make.commit()

    page = text(login(client, a).get("/idag"))
    week = section(page, "week")
    assert "SIP-möte" in week and "Petra Nilsson" in week and "Mötesrum 4" in week
    assert f'href="/cases/{case.id}/meetings/{upcoming.id}"' in week
    assert "Kallelsen är inte skickad." in week
    overdue = section(page, "overdue")
    assert "Gunnar Nilsson" in overdue and "Registrera mötet som hållet." in overdue
    assert page.count("<strong>SIP-möte</strong>") == 2  # not the cancelled one
    links_work(client, week)


def test_my_units_unanswered_invitation(client, make):
    a, b, case = shared(make)
    called = meeting(case, a, at(4))
    meetings.send_kallelse(case, called, user=a)
    answered = make.shared_case(a, b.unit, person=make.person(a, given_name="Svarad"))
    done = meeting(answered, a, at(4))
    meetings.send_kallelse(answered, done, user=a)
    for invitation in done.invitations:
        invitation.response = Response.KOMMER
    make.commit()

    page = text(login(client, b).get("/idag"))
    assert page.count("<strong>Svara på kallelse</strong>") == 1
    assert "Petra Nilsson" in page
    line = page[page.index("Svara på kallelse") :]
    assert f'href="/cases/{case.id}/meetings/{called.id}"' in line
    assert client.get(f"/cases/{case.id}/meetings/{called.id}").status_code == 200
    # The unit that called the meeting answers nothing.
    assert "Svara på kallelse" not in text(login(client, a).get("/idag"))


def message(case, author, *, receipt_from=(), days_ago=0):
    sent = CaseMessage(
        case_id=case.id,
        author_id=author.id,
        author_unit_id=author.unit_id,
        body="Kan ni komma på torsdag?",
        receipt_requested=bool(receipt_from),
        created_at=utcnow() - timedelta(days=days_ago),
    )
    sent.receipts = [MessageReceipt(unit_id=unit.id) for unit in receipt_from]
    db.session.add(sent)
    db.session.flush()
    return sent


def test_an_unread_message_until_it_is_opened(client, make):
    a, b, case = shared(make)
    [item] = notify(InboxKind.MESSAGE, case, units=[b.unit], actor=a, message=message(case, a))
    make.commit()

    login(client, b)
    today = section(text(client.get("/idag")), "today")
    assert "Oläst meddelande" in today and "Petra Nilsson" in today
    assert f'href="/inbox/{item.id}"' in today
    assert f'href="/cases/{case.id}#meddelanden"' in today
    links_work(client, today)  # opening the item marks it read
    assert "Oläst meddelande" not in text(client.get("/idag"))


def test_receipts_my_unit_owes_and_receipts_others_owe_me(client, make):
    a, b, case = shared(make)
    fresh = message(case, a, receipt_from=[b.unit])
    old = make.shared_case(a, b.unit, person=make.person(a, given_name="Gammal"))
    message(old, a, receipt_from=[b.unit], days_ago=10)
    make.commit()
    due = local_date(receipt_due(fresh.created_at))

    page = text(login(client, b).get("/idag"))
    assert "Kvittera meddelande" in page
    owed = section(page, "week" if due > clock.today() else "today")
    assert "Kvittera meddelande" in owed and "Petra Nilsson" in owed
    assert f'href="/cases/{case.id}#meddelanden"' in owed
    overdue = section(page, "overdue")
    assert "Kvittera meddelande" in overdue and "Gammal Nilsson" in overdue
    assert "Försenad" in overdue
    links_work(client, overdue)

    page = text(login(client, a).get("/idag"))
    overdue = section(page, "overdue")
    assert "Kvittens saknas" in overdue and "Vårdcentralen Norr" in overdue
    acknowledge(case, fresh, user=b)
    make.commit()
    page = text(client.get("/idag"))
    assert page.count("<strong>Kvittens saknas</strong>") == 1
    assert "Kvittera meddelande" not in text(login(client, b).get("/idag")).split('id="overdue"')[0]


def test_a_follow_up_due_links_to_the_follow_up_page(client, make):
    a = make.user()
    case = make.case(a, person=make.person(a, given_name="Följd"))
    furnish(case, a, [make.unit()])
    plans.record_follow_up(
        case,
        user=a,
        held_on=clock.today(),
        evaluations=[
            plans.EvaluationInput(subject=s, subject_text="x", outcome=Outcome.PAGAR, comment=None)
            for s in ("goal", "insats")
        ],
        next_follow_up_on=clock.today() + timedelta(days=2),
        notes=None,
    )
    make.commit()
    page = text(login(client, a).get("/idag"))
    week = section(page, "week")
    assert "<strong>Uppföljning</strong>" in week and "Följd Nilsson" in week
    assert f'href="/cases/{case.id}/follow-ups"' in week
    links_work(client, week)
    overview = text(client.get("/?scope=mine"))
    due = clock.today() + timedelta(days=2)
    assert f'Uppföljning <time datetime="{due.isoformat()}">' in overview


def test_only_visible_cases_and_only_mine_on_request(client, make):
    me = make.user()
    colleague = make.user(me.unit)
    stranger = make.user()
    today = clock.today()
    for owner, name in ((me, "Egen"), (colleague, "Kollegans"), (stranger, "Främmande")):
        make.case(
            owner,
            person=make.person(owner, given_name=name),
            origin=Origin.UTSKRIVNING,
            utskrivningsklar_on=today,
        )
    make.commit()
    login(client, me)
    page = text(client.get("/idag"))
    assert "Egen Nilsson" in page and "Kollegans Nilsson" in page
    assert "Främmande" not in page
    mine = text(client.get("/idag?scope=mine"))
    assert "Egen Nilsson" in mine and "Kollegans" not in mine


def test_idag_costs_the_same_statements_however_much_is_due(client, make):
    a, b, _case = shared(make)

    def add_one_of_each():
        other = make.shared_case(a, b.unit)
        meetings.send_kallelse(other, meeting(other, a, at(2)), user=a)
        notify(InboxKind.MESSAGE, other, units=[b.unit], actor=a, message=message(other, a))
        message(other, a, receipt_from=[b.unit])
        message(other, b, receipt_from=[a.unit])
        make.commit()

    add_one_of_each()
    login(client, b)
    client.get("/idag")
    with counted_queries() as few:
        client.get("/idag")
    for _n in range(5):
        add_one_of_each()
    login(client, b)
    client.get("/idag")
    with counted_queries() as many:
        page = client.get("/idag")
    assert text(page).count("<strong>Svara på kallelse</strong>") == 6
    assert text(page).count("<strong>Kvittens väntas</strong>") == 6
    assert len(many) == len(few)


def test_coordinators_land_on_idag_and_next_still_wins(client, make):
    user = make.user()
    reviewer = make.user(role=Role.GRANSKARE, reviewed_units=[user.unit])
    make.commit()
    form = {"email": user.email, "password": PASSWORD}
    assert client.post("/login", data=form).headers["Location"] == "/idag"
    client.post("/logout")
    response = client.post("/login?next=/cases/new", data=form)
    assert response.headers["Location"] == "/cases/new"
    client.post("/logout")
    form = {"email": reviewer.email, "password": PASSWORD}
    assert client.post("/login", data=form).headers["Location"] == "/"
    page = text(client.get("/"))
    assert 'class="brand" href="/"' in page


def test_the_overview_says_which_deadline_it_is(client, make):
    me = make.user()
    make.case(
        me,
        person=make.person(me, given_name="Utskriven"),
        origin=Origin.UTSKRIVNING,
        utskrivningsklar_on=clock.today(),
    )
    make.commit()
    page = text(login(client, me).get("/?scope=mine"))
    assert "Kallelse senast" in page
    assert 'class="brand" href="/idag"' in page


def test_next_deadline_says_which_deadline_it_is(make):
    me = make.user()
    klar = clock.today() - timedelta(days=1)
    discharge = make.case(me, origin=Origin.UTSKRIVNING, utskrivningsklar_on=klar)
    assert next_deadline(discharge) == (klar + timedelta(days=3), DeadlineKind.KALLELSE)
    assert next_due(discharge) == discharge.next_due_on == klar + timedelta(days=3)
    assert next_deadline(make.case(me)) is None  # no discharge: no kallelse deadline

    a, _b, case = shared(make)
    called = meeting(case, a, at(5))
    meetings.send_kallelse(case, called, user=a)
    assert next_deadline(case) == (clock.today() + timedelta(days=5), DeadlineKind.MEETING)
    called.cancelled_at = utcnow()
    assert next_deadline(case) is None  # a cancelled meeting is no deadline
