"""The calendar: my and my unit's SIP meetings, by week or month, in Stockholm time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import Blueprint, request
from flask_babel import format_date
from flask_login import current_user, login_required

from sip_tracker import clock
from sip_tracker.audit.services import record_many
from sip_tracker.auth.models import Role
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.i18n import local_date, local_datetime, to_utc
from sip_tracker.meetings.models import Meeting
from sip_tracker.meetings.queries import meetings_between
from sip_tracker.web import page

bp = Blueprint("calendar", __name__)


@dataclass
class Day:
    on: date
    entries: list[tuple[Meeting, SipCase]] = field(default_factory=list)


@dataclass(frozen=True)
class Period:
    """The days a calendar page shows, and its neighbours."""

    view: str  # "week" or "month"
    first: date
    end: date  # the day after the last

    @classmethod
    def around(cls, view: str, day: date) -> Period:
        if view == "month":
            first = day.replace(day=1)
            return cls(view, first, _next_month(first))
        first = day - timedelta(days=day.weekday())
        return cls(view, first, first + timedelta(days=7))

    @property
    def previous(self) -> date:
        if self.view == "month":
            return (self.first - timedelta(days=1)).replace(day=1)
        return self.first - timedelta(days=7)

    @property
    def following(self) -> date:
        return self.end

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.end - self.first).days)]

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


# The years the calendar pages through: its neighbouring weeks and months stay within
# what a date can hold (year 1 to 9999), and no SIP meeting lies outside them.
YEARS = range(1900, 3000)


def _day_from(text: str | None) -> date:
    """The day asked for in the query string; today if none, not a date or out of YEARS."""
    try:
        day = date.fromisoformat(text) if text else clock.today()
    except ValueError:
        return clock.today()
    return day if day.year in YEARS else clock.today()


def _start_of(day: date) -> datetime:
    return to_utc(datetime.combine(day, time()))


@bp.route("/kalender")
@login_required
def index() -> tuple[str, int]:
    view = request.args.get("view", "week")
    if view not in ("week", "month"):
        view = "week"
    scope = request.args.get("scope", "mine")
    if scope not in ("mine", "unit") or current_user.role == Role.GRANSKARE:
        scope = "unit" if current_user.role == Role.GRANSKARE else "mine"
    period = Period.around(view, _day_from(request.args.get("date")))
    query = meetings_between(
        current_user,
        start=_start_of(period.first),
        end=_start_of(period.end),
        mine=scope == "mine",
    )
    days = {on: Day(on) for on in period.days}
    cases: dict[int, SipCase] = {}
    for meeting, case in db.session.execute(query).tuples():
        days[local_date(meeting.starts_at)].entries.append((meeting, case))
        cases[case.id] = case
    # The calendar names the persons of the cases it shows: a read of each, as a list.
    record_many(
        "case.list",
        user=current_user,
        subjects=[(case.person_id, case.id) for case in cases.values()],
        detail="calendar",
    )
    shown = list(days.values())
    if view == "month":
        shown = [day for day in shown if day.entries]
    return page(
        "calendar/index.html",
        view=view,
        scope=scope,
        period=period,
        days=shown,
        count=sum(len(day.entries) for day in shown),
        today=clock.today(),
        local_datetime=local_datetime,
        timedelta=timedelta,
        format_date=format_date,
    )
