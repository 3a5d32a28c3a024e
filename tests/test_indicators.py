"""Each indicator against a small world counted by hand.

Times are written as Stockholm wall-clock times and stored in UTC, as the app does. The
views are built for the whole county with today fixed at 2025-12-31.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from sip_tracker.auth.models import User
from sip_tracker.cases.codes import Origin, Sakomrade, Stage
from sip_tracker.cases.models import SipCase, StageEvent
from sip_tracker.db import db
from sip_tracker.handlingsplan.models import Activity, ActivityStatus, CaseActivity, Malomrade
from sip_tracker.i18n import to_utc
from sip_tracker.indicators.definitions import BY_KEY
from sip_tracker.indicators.report import Cell, View, build_table, load_stats
from sip_tracker.indicators.scope import Scope
from sip_tracker.meetings.models import Meeting
from sip_tracker.plans.models import FollowUp, Plan, PlanVersion

TODAY = date(2025, 12, 31)
COUNTY = Scope(None, "Stockholms län")


def local(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return to_utc(datetime.combine(day, time(hour, minute)))


def new_case(make, user: User, created: datetime, person=None, **overrides: Any) -> SipCase:
    case = make.case(user, person=person or make.person(user), **overrides)
    case.created_at = created
    case.events[0].at = created
    db.session.flush()
    return case


def add_meeting(case: SipCase, **fields: Any) -> Meeting:
    fields.setdefault("starts_at", fields.get("held_at") or local(date(2025, 6, 1)))
    meeting = Meeting(case_id=case.id, **fields)
    db.session.add(meeting)
    db.session.flush()
    return meeting


def add_stage(case: SipCase, stage: Stage, at: datetime) -> None:
    db.session.add(
        StageEvent(
            case_id=case.id,
            from_stage=case.stage,
            to_stage=stage,
            at=at,
            user_id=case.created_by_id,
        )
    )
    case.stage = stage
    db.session.flush()


def add_plan(case: SipCase, established: datetime, follow_up_on: date, content=None) -> PlanVersion:
    plan = case.plan or Plan(case_id=case.id, follow_up_method="Möte")
    db.session.add(plan)
    db.session.flush()
    version = PlanVersion(
        plan_id=plan.id,
        number=len(plan.versions) + 1,
        established_by_id=case.created_by_id,
        established_at=established,
        follow_up_on=follow_up_on,
        content=content
        if content is not None
        else {
            "huvudansvarig": {"huvudman_id": 1, "person_name": "Anna"},
            "insatser": [{"description": "Hemtjänst", "huvudman_id": 1}],
        },
    )
    db.session.add(version)
    db.session.flush()
    return version


def add_follow_up(case: SipCase, version: PlanVersion, held_on: date) -> None:
    db.session.add(
        FollowUp(
            case_id=case.id,
            plan_version_id=version.id,
            held_on=held_on,
            created_by_id=case.created_by_id,
        )
    )
    db.session.flush()


def view(by: str = "none", period: str = "month", scope: Scope = COUNTY, years=(2025,)) -> View:
    return View(period=period, by=by, years=tuple(years), scope=scope, today=TODAY)


def stat(key: str, period_key: str, dimension: str = "total", group: str = "*", **kw: Any):
    return load_stats(BY_KEY[key], view(**kw)).get(
        (_period_of(period_key), period_key, dimension, group)
    )


def _period_of(period_key: str) -> str:
    if "Q" in period_key:
        return "quarter"
    return "month" if len(period_key) == 7 else "year"


def cell(key: str, column: str, row: str = "*", by: str = "none", **kw: Any) -> Cell:
    table = build_table(BY_KEY[key], view(by=by, **kw))
    index = next(
        i for i, c in enumerate(table.columns) if (c.period, c.key) == (_period_of(column), column)
    )
    found = next(r for r in table.rows if r.key == row)
    return found.cells[index]


@pytest.fixture
def user(make) -> User:
    return make.user()


# Counts ------------------------------------------------------------------------------


def test_started_counts_cases_on_their_stockholm_day_and_persons_once(make, user):
    person = make.person(user)
    for day in (3, 4, 5, 6):
        new_case(make, user, local(date(2025, 3, day)))
    new_case(make, user, local(date(2025, 3, 9)), person=person)
    new_case(make, user, local(date(2025, 3, 20)), person=person)
    # 23:30 on 31 March in Stockholm is 21:30 UTC the same day: March, not April.
    new_case(make, user, local(date(2025, 3, 31), 23, 30))
    # 00:30 on 1 January 2025 in Stockholm is still 2024 in UTC: it counts for January.
    new_case(make, user, local(date(2025, 1, 1), 0, 30))

    march = stat("started", "2025-03")
    assert (march.n, march.persons) == (7, 6)
    assert stat("started", "2025-01").n == 1
    assert stat("started", "2025-Q1", period="quarter").n == 8
    assert cell("started", "2025-01").text == "<5"
    # The first quarter (8) minus March would give January away: March is hidden too.
    assert cell("started", "2025-03").text == "x"
    assert cell("started", "2025-Q1", period="quarter").text == "8"
    assert cell("started", "2025-04").text == "0"


def test_small_months_keep_the_year_from_giving_them_away(make, user):
    for day in range(1, 8):
        new_case(make, user, local(date(2025, 5, day)))
    new_case(make, user, local(date(2025, 6, 2)))
    # May 7, June 1: June is "<5"; the year (8) minus May would give June away, and so
    # would the second quarter (8), so May is hidden too. The totals stay.
    assert cell("started", "2025-06").text == "<5"
    assert cell("started", "2025-05").text == "x"
    assert cell("started", "2025").text == "8"
    assert cell("started", "2025-Q2", period="quarter").text == "8"


def test_held_counts_the_first_sip_meeting_only(make, user):
    cases = [new_case(make, user, local(date(2025, 1, 10))) for _ in range(6)]
    for index, case in enumerate(cases[:5]):
        add_meeting(
            case, kallelse_sent_at=local(date(2025, 2, 1)), held_at=local(date(2025, 2, 10 + index))
        )
    # A second SIP meeting and a follow-up meeting of the same case do not count again.
    add_meeting(cases[0], kallelse_sent_at=local(date(2025, 3, 1)), held_at=local(date(2025, 3, 5)))
    add_meeting(
        cases[1],
        is_follow_up=True,
        kallelse_sent_at=local(date(2025, 3, 1)),
        held_at=local(date(2025, 3, 6)),
    )
    # Called but not held: not counted.
    add_meeting(cases[5], kallelse_sent_at=local(date(2025, 2, 1)))
    assert stat("held", "2025-02").n == 5
    assert stat("held", "2025-03") is None
    assert cell("held", "2025-02").text == "5"


def test_followed_up_counts_every_follow_up(make, user):
    for index in range(5):
        case = new_case(make, user, local(date(2025, 1, 2)))
        version = add_plan(case, local(date(2025, 1, 20)), date(2025, 4, 1))
        add_follow_up(case, version, date(2025, 4, 1 + index))
        if index == 0:
            add_follow_up(case, version, date(2025, 4, 28))
    april = stat("followed_up", "2025-04")
    assert (april.n, april.persons) == (6, 5)
    assert cell("followed_up", "2025-04").text == "6"


def test_closed_and_declined_count_stage_changes(make, user):
    for index in range(5):
        case = new_case(make, user, local(date(2025, 1, 2)))
        add_stage(case, Stage.AVSLUTAD, local(date(2025, 9, 1 + index)))
    for index in range(3):
        case = new_case(make, user, local(date(2025, 1, 2)))
        add_stage(case, Stage.AVBOJD, local(date(2025, 9, 10 + index)))
    aborted = new_case(make, user, local(date(2025, 1, 2)))
    add_stage(aborted, Stage.AVBRUTEN, local(date(2025, 9, 20)))
    assert stat("closed", "2025-09").n == 5
    assert stat("declined", "2025-09").n == 3
    assert cell("closed", "2025-09").text == "5"
    assert cell("declined", "2025-09").text == "<5"


# Shares ------------------------------------------------------------------------------


def test_person_and_narstaende_present_share_of_meetings_held(make, user):
    presence = [
        (True, True),
        (True, False),
        (True, False),
        (False, True),
        (True, None),
        (True, False),
    ]
    for person_came, relative_came in presence:
        case = new_case(make, user, local(date(2025, 1, 2)))
        add_meeting(
            case,
            kallelse_sent_at=local(date(2025, 5, 1)),
            held_at=local(date(2025, 5, 8)),
            person_attended=person_came,
            narstaende_attended=relative_came,
        )
    person = stat("person_present", "2025-05")
    assert (person.n, person.hits) == (6, 5)
    assert cell("person_present", "2025-05").text.replace("\xa0", " ") == "83 %"
    relative = stat("narstaende_present", "2025-05")
    assert (relative.n, relative.hits) == (6, 2)
    assert cell("narstaende_present", "2025-05").text.replace("\xa0", " ") == "33 %"
    # No meetings in June: nothing to compute, not zero per cent.
    assert cell("person_present", "2025-06").text == "–"


def test_a_share_of_fewer_than_five_persons_is_hidden(make, user):
    for _ in range(4):
        case = new_case(make, user, local(date(2025, 1, 2)))
        add_meeting(
            case,
            kallelse_sent_at=local(date(2025, 5, 1)),
            held_at=local(date(2025, 5, 8)),
            person_attended=True,
        )
    assert cell("person_present", "2025-05").text == "<5"
    assert cell("person_present", "2025-05").value is None


def test_discharge_kallelse_within_three_calendar_days_across_a_weekend(make, user):
    friday = date(2025, 5, 2)  # utskrivningsklar; the deadline is Monday 5 May
    assert friday.weekday() == 4

    def discharge(sent: datetime | None, stage: Stage | None = None, klar: date = friday) -> None:
        case = new_case(
            make, user, local(klar, 9), origin=Origin.UTSKRIVNING, utskrivningsklar_on=klar
        )
        if sent is not None:
            add_meeting(case, kallelse_sent_at=sent)
        if stage is not None:
            add_stage(case, stage, local(klar, 15))

    discharge(local(date(2025, 5, 3), 10))  # Saturday: on time
    discharge(local(date(2025, 5, 4), 10))  # Sunday: on time
    discharge(local(date(2025, 5, 5), 23, 30))  # Monday late evening: on time
    discharge(local(date(2025, 5, 6), 0, 30))  # Tuesday 00:30 (still Monday in UTC): late
    discharge(None)  # never sent, deadline passed, case open: late
    discharge(None, Stage.AVBOJD)  # declined before any kallelse: not counted
    discharge(None, klar=date(2025, 12, 30))  # deadline still ahead on 31 December: not counted
    found = stat("discharge_kallelse", "2025-05")
    assert (found.n, found.hits) == (5, 3)
    assert cell("discharge_kallelse", "2025-05").text.replace("\xa0", " ") == "60 %"
    assert stat("discharge_kallelse", "2025-12") is None


def test_the_first_kallelse_decides_and_follow_up_kallelser_do_not(make, user):
    klar = date(2025, 8, 4)
    for index in range(5):
        case = new_case(
            make, user, local(klar, 9), origin=Origin.UTSKRIVNING, utskrivningsklar_on=klar
        )
        add_meeting(case, is_follow_up=True, kallelse_sent_at=local(klar, 10))
        add_meeting(case, kallelse_sent_at=local(klar + timedelta(days=4 if index < 2 else 1)))
        add_meeting(case, kallelse_sent_at=local(klar + timedelta(days=9)))
    found = stat("discharge_kallelse", "2025-08")
    assert (found.n, found.hits) == (5, 3)


def test_plan_shares(make, user):
    due = date(2025, 6, 30)
    complete = None
    missing_huvudman = {
        "huvudansvarig": {"person_name": "Anna"},
        "insatser": [{"description": "x", "huvudman_id": None}],
    }
    no_lead = {"huvudansvarig": None, "insatser": [{"description": "x", "huvudman_id": 2}]}
    no_insats = {"huvudansvarig": {"person_name": "Anna"}, "insatser": []}
    contents = [complete, complete, complete, missing_huvudman, no_lead, no_insats]
    follow_ups = [
        date(2025, 6, 30),
        date(2025, 6, 1),
        date(2025, 7, 15),
        None,
        None,
        date(2025, 6, 20),
    ]
    for content, held in zip(contents, follow_ups, strict=True):
        case = new_case(make, user, local(date(2025, 1, 2)))
        version = add_plan(case, local(date(2025, 4, 10)), due, content)
        if held is not None:
            add_follow_up(case, version, held)
    complete_share = stat("plan_complete", "2025-04")
    assert (complete_share.n, complete_share.hits) == (6, 3)
    assert cell("plan_complete", "2025-04").text.replace("\xa0", " ") == "50 %"
    dated = stat("plan_follow_up_date", "2025-04")
    assert (dated.n, dated.hits) == (6, 6)
    on_time = stat("plan_followed_up", "2025-06")
    assert (on_time.n, on_time.hits) == (6, 3)
    assert cell("plan_followed_up", "2025-06").text.replace("\xa0", " ") == "50 %"


def test_a_plan_not_yet_due_is_counted_once_followed_up(make, user):
    for index in range(6):
        case = new_case(make, user, local(date(2025, 11, 2)))
        version = add_plan(case, local(date(2025, 11, 10)), date(2026, 2, 1))
        if index < 5:
            add_follow_up(case, version, date(2025, 12, 20))
    found = stat("plan_followed_up", "2026-02", years=(2026,))
    assert (found.n, found.hits) == (5, 5)


# Medians -----------------------------------------------------------------------------


def test_median_days_from_need_to_kallelse_odd_and_even(make, user):
    for days in (1, 2, 3, 10, 20):
        case = new_case(make, user, local(date(2025, 3, 1), 9))
        add_meeting(case, kallelse_sent_at=local(date(2025, 3, 1) + timedelta(days=days), 16))
    assert stat("need_to_kallelse", "2025-03").median == 3
    assert cell("need_to_kallelse", "2025-03").text == "3"
    late = new_case(make, user, local(date(2025, 3, 1), 9))
    add_meeting(late, kallelse_sent_at=local(date(2025, 3, 5), 16))
    assert stat("need_to_kallelse", "2025-03").median == 3.5
    assert cell("need_to_kallelse", "2025-03").text == "3,5"


def test_median_days_from_kallelse_to_meeting(make, user):
    for days in (7, 14, 14, 21, 30):
        case = new_case(make, user, local(date(2025, 1, 2)))
        add_meeting(
            case,
            kallelse_sent_at=local(date(2025, 9, 1)),
            held_at=local(date(2025, 9, 1) + timedelta(days=days)),
        )
    # Four meetings fall in September (7, 14, 14, 21 days), one in October (30).
    september = stat("kallelse_to_meeting", "2025-09")
    assert (september.n, september.median) == (4, 14)
    assert stat("kallelse_to_meeting", "2025-Q3", period="quarter").n == 4
    assert stat("kallelse_to_meeting", "2025", period="year").median == 14
    assert cell("kallelse_to_meeting", "2025", period="year").text == "14"
    assert cell("kallelse_to_meeting", "2025-Q3", period="quarter").text == "<5"


# Groupings and scope -----------------------------------------------------------------


def test_by_huvudman_unit_sakomrade_activity_and_malomrade(make):
    kommun, other = make.huvudman(name="Testkommun"), make.huvudman(name="Annan kommun")
    home, second = make.unit(kommun), make.unit(kommun)
    away = make.unit(other)
    malomrade = Malomrade(code="somlos", title="Sömlös vård och omsorg")
    activity = Activity(
        identifier="2025-a",
        title="A",
        year_from=2025,
        year_to=2025,
        status=ActivityStatus.BESLUTAD,
        malomraden=[malomrade],
    )
    db.session.add_all([malomrade, activity])
    db.session.flush()
    at_home, at_second, at_away = make.user(home), make.user(second), make.user(away)
    cases = [new_case(make, at_home, local(date(2025, 2, 3))) for _ in range(6)]
    cases += [
        new_case(make, at_second, local(date(2025, 2, 3)), sakomraden=[Sakomrade.BARN_UNGA])
        for _ in range(2)
    ]
    cases += [new_case(make, at_away, local(date(2025, 2, 3))) for _ in range(5)]
    for case in cases[:7]:
        db.session.add(CaseActivity(case_id=case.id, activity_id=activity.id))
    db.session.flush()

    assert stat("started", "2025-02", "huvudman", str(kommun.id)).n == 8
    assert stat("started", "2025-02", "unit", str(second.id)).n == 2
    assert stat("started", "2025-02", "sakomrade", "aldre").n == 11
    assert stat("started", "2025-02", "activity", str(activity.id)).n == 7
    assert stat("started", "2025-02", "activity", "_none").n == 6
    assert stat("started", "2025-02", "malomrade", str(malomrade.id)).n == 7

    assert cell("started", "2025-02", str(kommun.id), by="huvudman").text == "8"
    assert cell("started", "2025-02", str(second.id), by="unit").text == "<5"
    # The other unit of the same kommun would give the 2 away from the kommun's 8.
    assert cell("started", "2025-02", str(home.id), by="unit").text == "x"
    assert cell("started", "2025-02", "barn_unga", by="sakomrade").text == "<5"
    assert cell("started", "2025-02", str(activity.id), by="activity").text == "7"
    assert cell("started", "2025-02", str(malomrade.id), by="malomrade").text == "7"
    assert cell("started", "2025-02").text == "13"


def test_a_huvudman_sees_only_the_cases_its_units_started(make):
    kommun = make.huvudman()
    mine, elsewhere = make.user(make.unit(kommun)), make.user()
    for _ in range(5):
        new_case(make, mine, local(date(2025, 2, 3)))
    for _ in range(7):
        new_case(make, elsewhere, local(date(2025, 2, 3)))
    own = Scope(kommun.id, kommun.name)
    assert stat("started", "2025-02", scope=own).n == 5
    assert stat("started", "2025-02").n == 12
