"""The calendar (/kalender): my and my unit's SIP meetings by week and month (issue 9,
point 8)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from sip_tracker import clock
from sip_tracker.audit.models import AuditEvent
from sip_tracker.auth.models import User
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import CaseRoleKind
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db, utcnow
from sip_tracker.i18n import to_utc
from sip_tracker.meetings import services as meetings
from sip_tracker.meetings.models import Meeting
from sip_tracker.organizations.models import Unit
from tests.factories import Factory, login, personnummer
from tests.test_overview import counted_queries

# A Wednesday a few weeks ahead: its week runs Monday to Sunday around it.
DAY = clock.today() + timedelta(days=21 + (2 - clock.today().weekday()) % 7)
_serial = iter(range(400, 900))


def meeting_case(
    make: Factory,
    user: User,
    partner: Unit,
    name: str,
    at: datetime,
    *,
    place: str | None = "Rum 1",
) -> tuple[SipCase, Meeting]:
    person = make.person(user, given_name=name, identifier=personnummer(serial=next(_serial)))
    case = make.shared_case(user, partner, person=person)
    meeting = meetings.schedule_meeting(
        case,
        user=user,
        starts_at=at,
        duration_minutes=90,
        place=place,
        video_link=None if place else "https://mote.example/abc",
        participants=list(case.participants),
        allow_past=True,  # the month shows the meetings already past too
    )
    return case, meeting


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return to_utc(datetime.combine(day, time(hour, minute)))


def text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_week_shows_my_and_my_units_meetings_not_other_units(client, make: Factory):
    me = make.user()
    colleague = make.user(me.unit)
    partner = make.unit()
    stranger = make.user()
    mine, my_meeting = meeting_case(make, me, partner, "Agnes", at(DAY, 13, 30))
    meetings.send_kallelse(mine, my_meeting, user=me)
    meeting_case(make, colleague, partner, "Bertil", at(DAY + timedelta(days=1)), place=None)
    meeting_case(make, stranger, partner, "Cecilia", at(DAY))
    make.commit()
    login(client, me)

    page = text(client, f"/kalender?date={DAY.isoformat()}")
    assert "Agnes N." in page and f"ärende {mine.id}" in page
    assert "13:30–15:00" in page  # Stockholm time, and the end
    assert f'href="/cases/{mine.id}/meetings/{my_meeting.id}"' in page
    assert "Rum 1" in page and "Kallelse skickad" in page
    assert "Bertil" not in page and "Cecilia" not in page
    assert "Nilsson" not in page  # a first name and an initial

    unit = text(client, f"/kalender?scope=unit&date={DAY.isoformat()}")
    assert "Agnes N." in unit and "Bertil N." in unit and "Cecilia" not in unit
    assert "Digitalt" in unit and "Kallelse inte skickad" in unit
    # Every day of the week has its heading, the empty ones saying so.
    assert unit.count('<section class="calendar-day"') == 7
    assert "Inga möten." in unit


def test_meetings_of_cases_where_i_hold_a_role_are_mine(client, make: Factory):
    starter = make.user()
    my_unit = make.unit()
    me = make.user(my_unit)
    case, _ = meeting_case(make, starter, my_unit, "Dagny", at(DAY))
    make.commit()
    login(client, me)
    assert "Dagny" not in text(client, f"/kalender?date={DAY.isoformat()}")
    assert "Dagny N." in text(client, f"/kalender?scope=unit&date={DAY.isoformat()}")
    cases.set_role(case, user=starter, kind=CaseRoleKind.MOTESLEDARE, holder=me)
    make.commit()
    assert "Dagny N." in text(client, f"/kalender?date={DAY.isoformat()}")


def test_this_week_by_default_and_navigation(client, make: Factory, time_machine):
    # A Wednesday noon in Stockholm: the meeting in ten minutes is this week's, whenever
    # the suite runs.
    time_machine.move_to(datetime(2027, 3, 10, 11, 0, tzinfo=UTC), tick=False)
    me = make.user()
    soon = utcnow() + timedelta(minutes=10)
    meeting_case(make, me, make.unit(), "Edvin", soon)
    make.commit()
    login(client, me)
    page = text(client, "/kalender")
    assert "Edvin N." in page
    monday = clock.today() - timedelta(days=clock.today().weekday())
    assert f"date={(monday + timedelta(days=7)).isoformat()}" in page  # next week
    assert f"date={(monday - timedelta(days=7)).isoformat()}" in page  # previous week
    assert "Edvin" not in text(client, f"/kalender?date={(monday + timedelta(days=7)).isoformat()}")
    assert 'aria-current="page">Kalender' in page


def test_the_month_lists_the_days_with_meetings(client, make: Factory):
    me = make.user()
    partner = make.unit()
    first = DAY.replace(day=1)
    meeting_case(make, me, partner, "Frida", at(first))
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    meeting_case(make, me, partner, "Gustav", at(last, 9))
    meeting_case(make, me, partner, "Hugo", at(last + timedelta(days=1)))
    make.commit()
    login(client, me)
    page = text(client, f"/kalender?view=month&date={DAY.isoformat()}")
    assert "Frida N." in page and "Gustav N." in page and "Hugo" not in page
    assert page.count('<section class="calendar-day"') == 2
    next_month = (last + timedelta(days=1)).isoformat()
    assert f"date={next_month}" in page
    assert "Hugo N." in text(client, f"/kalender?view=month&date={next_month}")


def test_a_cancelled_meeting_is_struck_through_and_says_so(client, make: Factory):
    me = make.user()
    _, meeting = meeting_case(make, me, make.unit(), "Ingrid", at(DAY))
    meeting.cancelled_at = utcnow()  # cancelling itself is the meetings' (another part)
    meeting.cancelled_by_id = me.id
    make.commit()
    login(client, me)
    page = text(client, f"/kalender?date={DAY.isoformat()}")
    assert "Inställt" in page
    struck = page.split("<del>", 1)[1].split("</del>", 1)[0]
    assert f"/meetings/{meeting.id}" in struck


def test_a_bad_date_shows_this_week(client, make: Factory):
    me = make.user()
    make.commit()
    login(client, me)
    for query in ("date=igår", "date=2026-02-30", "view=år&scope=alla"):
        assert client.get(f"/kalender?{query}").status_code == 200


def test_a_date_at_the_end_of_the_calendar_shows_this_week(client, make: Factory):
    """A date whose week or month runs past year 9999 or before year 1 is no server error."""
    me = make.user()
    make.commit()
    login(client, me)
    monday = clock.today() - timedelta(days=clock.today().weekday())
    for day in ("9999-12-31", "9999-12-01", "0001-01-01", "0001-01-08"):
        for view in ("week", "month"):
            response = client.get(f"/kalender?view={view}&date={day}")
            assert response.status_code == 200, (view, day)
    assert f"date={monday.isoformat()}" in text(client, "/kalender?date=9999-12-31")


def test_the_calendar_logs_a_read_of_each_case_shown_in_constant_queries(client, make: Factory):
    me = make.user()
    partner = make.unit()
    shown = [meeting_case(make, me, partner, "Julia", at(DAY))[0].id]
    make.commit()
    login(client, me)
    url = f"/kalender?date={DAY.isoformat()}"
    text(client, url)  # the first request after login also stores the session
    with counted_queries() as one:
        text(client, url)
    before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    for n in range(5):
        shown.append(meeting_case(make, me, partner, f"Karl{n}", at(DAY, 8 + n))[0].id)
    make.commit()
    with counted_queries() as six:
        text(client, url)
    assert len(one) == len(six)
    db.session.rollback()
    logged = db.session.scalars(
        select(AuditEvent).where(AuditEvent.id > before, AuditEvent.action == "case.list")
    ).all()
    assert sorted(e.case_id for e in logged) == sorted(shown)
    assert all(e.person_id is not None for e in logged)
