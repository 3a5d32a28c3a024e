"""The indicators in SQL: one row per event, then one aggregate over every grouping.

Each indicator is a Select of its events (event_id, case_id, person_id, day, and a hit
for shares or days for medians). cube() counts them per month, quarter and year, per
huvudman, unit, sakområde, målområde and activity, and for the whole scope, in one
statement; medians use ROW_NUMBER and COUNT windows, which SQLite and PostgreSQL share.
Nothing loads a case into Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import contains_eager
from sqlalchemy.sql.selectable import Subquery

from sip_tracker.cases.codes import FINAL_STAGES, Origin, Stage
from sip_tracker.cases.models import CaseSakomrade, SipCase, StageEvent
from sip_tracker.cases.workflow import KALLELSE_DAYS_AFTER_UTSKRIVNINGSKLAR
from sip_tracker.handlingsplan.models import CaseActivity, activity_malomrade
from sip_tracker.indicators.scope import Scope, in_scope
from sip_tracker.indicators.sql import (
    PERIODS,
    days_between,
    local_date,
    period_key,
    plan_is_complete,
)
from sip_tracker.meetings.models import Meeting
from sip_tracker.organizations.models import Huvudman, Unit
from sip_tracker.plans.models import FollowUp, Plan, PlanVersion

NONE_KEY = "_none"  # a case linked to no sakområde, activity or målområde
TOTAL = ("total", "*")


def _count_events(event_id: Any, case_id: Any, person_id: Any, day: Any) -> list[Any]:
    return [
        event_id.label("event_id"),
        case_id.label("case_id"),
        person_id.label("person_id"),
        day.label("day"),
    ]


def _first_kallelse() -> Subquery:
    """Per case, when the first kallelse to a SIP meeting (not a follow-up) was sent."""
    return (
        select(Meeting.case_id, func.min(Meeting.kallelse_sent_at).label("sent_at"))
        .where(Meeting.kallelse_sent_at.is_not(None), Meeting.is_follow_up.is_(False))
        .group_by(Meeting.case_id)
        .subquery("first_kallelse")
    )


def _first_meeting() -> Subquery:
    """Per case, when its first SIP meeting (not a follow-up) was held."""
    return (
        select(Meeting.case_id, func.min(Meeting.held_at).label("held_at"))
        .where(Meeting.held_at.is_not(None), Meeting.is_follow_up.is_(False))
        .group_by(Meeting.case_id)
        .subquery("first_meeting")
    )


def started_events(today: date) -> Select[Any]:
    """A case is started when it is created, at 'behov identifierat'."""
    return select(
        *_count_events(SipCase.id, SipCase.id, SipCase.person_id, local_date(SipCase.created_at))
    )


def held_events(today: date) -> Select[Any]:
    """A SIP is held on the day of its first meeting."""
    first = _first_meeting()
    return select(
        *_count_events(
            first.c.case_id, first.c.case_id, SipCase.person_id, local_date(first.c.held_at)
        )
    ).join(SipCase, SipCase.id == first.c.case_id)


def followed_up_events(today: date) -> Select[Any]:
    """Every follow-up recorded of an established plan, on the day it was held."""
    return select(
        *_count_events(FollowUp.id, FollowUp.case_id, SipCase.person_id, FollowUp.held_on)
    ).join(SipCase, SipCase.id == FollowUp.case_id)


def _stage_events(stage: Stage) -> Select[Any]:
    return (
        select(
            *_count_events(
                StageEvent.id, StageEvent.case_id, SipCase.person_id, local_date(StageEvent.at)
            )
        )
        .join(SipCase, SipCase.id == StageEvent.case_id)
        .where(StageEvent.to_stage == stage)
    )


def closed_events(today: date) -> Select[Any]:
    return _stage_events(Stage.AVSLUTAD)


def declined_events(today: date) -> Select[Any]:
    return _stage_events(Stage.AVBOJD)


def _meetings_held(attended: Any) -> Select[Any]:
    return (
        select(
            *_count_events(
                Meeting.id, Meeting.case_id, SipCase.person_id, local_date(Meeting.held_at)
            ),
            case((attended.is_(True), 1), else_=0).label("hit"),
        )
        .join(SipCase, SipCase.id == Meeting.case_id)
        .where(Meeting.held_at.is_not(None))
    )


def person_present_events(today: date) -> Select[Any]:
    """Every SIP meeting held, first and follow-up: was the person there?"""
    return _meetings_held(Meeting.person_attended)


def narstaende_present_events(today: date) -> Select[Any]:
    """Every SIP meeting held: was a närstående there?"""
    return _meetings_held(Meeting.narstaende_attended)


def need_to_kallelse_events(today: date) -> Select[Any]:
    """Days from the case's creation to its first kallelse, on the day the kallelse left."""
    first = _first_kallelse()
    sent = local_date(first.c.sent_at)
    return select(
        *_count_events(SipCase.id, SipCase.id, SipCase.person_id, sent),
        days_between(sent, local_date(SipCase.created_at)).label("days"),
    ).join(first, first.c.case_id == SipCase.id)


def kallelse_to_meeting_events(today: date) -> Select[Any]:
    """Days from the first kallelse to the first meeting held, on the day of the meeting."""
    first_kallelse, first_meeting = _first_kallelse(), _first_meeting()
    held = local_date(first_meeting.c.held_at)
    return (
        select(
            *_count_events(SipCase.id, SipCase.id, SipCase.person_id, held),
            days_between(held, local_date(first_kallelse.c.sent_at)).label("days"),
        )
        .join(first_kallelse, first_kallelse.c.case_id == SipCase.id)
        .join(first_meeting, first_meeting.c.case_id == SipCase.id)
    )


def discharge_kallelse_events(today: date) -> Select[Any]:
    """Cases at discharge, on their utskrivningsklar day: was the first kallelse on time?

    Lag (2017:612): within three calendar days of utskrivningsklar, weekends included, as
    cases.workflow counts it. A case without a kallelse counts as late once the deadline
    has passed, unless it ended first; one whose deadline is still ahead is not counted.
    """
    first = _first_kallelse()
    sent = local_date(first.c.sent_at)
    on_time = and_(
        first.c.sent_at.is_not(None),
        days_between(sent, SipCase.utskrivningsklar_on) <= KALLELSE_DAYS_AFTER_UTSKRIVNINGSKLAR,
    )
    deadline_passed = SipCase.utskrivningsklar_on < today - timedelta(
        days=KALLELSE_DAYS_AFTER_UTSKRIVNINGSKLAR
    )
    return (
        select(
            *_count_events(SipCase.id, SipCase.id, SipCase.person_id, SipCase.utskrivningsklar_on),
            case((on_time, 1), else_=0).label("hit"),
        )
        .outerjoin(first, first.c.case_id == SipCase.id)
        .where(
            SipCase.origin == Origin.UTSKRIVNING,
            SipCase.utskrivningsklar_on.is_not(None),
            or_(
                first.c.sent_at.is_not(None),
                and_(deadline_passed, SipCase.stage.not_in(FINAL_STAGES)),
            ),
        )
    )


def _plan_versions(day: Any, hit: Any) -> Select[Any]:
    return (
        select(
            *_count_events(PlanVersion.id, Plan.case_id, SipCase.person_id, day),
            case((hit, 1), else_=0).label("hit"),
        )
        .join(Plan, Plan.id == PlanVersion.plan_id)
        .join(SipCase, SipCase.id == Plan.case_id)
    )


def plan_follow_up_date_events(today: date) -> Select[Any]:
    """Every established plan version, on the day it was established: has it a date?"""
    return _plan_versions(
        local_date(PlanVersion.established_at), PlanVersion.follow_up_on.is_not(None)
    )


def plan_followed_up_events(today: date) -> Select[Any]:
    """Plan versions on their follow-up date: was a follow-up held by then?

    Counted once the date has passed, or earlier if the follow-up has been held.
    """
    followed = exists().where(
        FollowUp.case_id == Plan.case_id,
        FollowUp.held_on <= PlanVersion.follow_up_on,
        FollowUp.held_on >= local_date(PlanVersion.established_at),
    )
    return _plan_versions(PlanVersion.follow_up_on, followed).where(
        PlanVersion.follow_up_on.is_not(None),
        or_(PlanVersion.follow_up_on < today, followed),
    )


def plan_complete_events(today: date) -> Select[Any]:
    """Every established plan version: does it name a huvudansvarig and, for every
    insats, the responsible huvudman?"""
    return _plan_versions(
        local_date(PlanVersion.established_at), plan_is_complete(PlanVersion.content)
    )


DIMENSIONS = ("huvudman", "unit", "sakomrade", "activity", "malomrade")


def group_map(dimensions: Iterable[str] = DIMENSIONS) -> Subquery:
    """Which groups each case counts in: (case_id, dimension, key), one row per group,
    for the whole scope ("total") and the dimensions asked for.

    huvudman and unit are those of the initiating unit. A case linked to no sakområde,
    activity or målområde counts under NONE_KEY, so each dimension covers every case.
    """
    none = literal(NONE_KEY)

    def member(case_id: Any, dimension: str, key: Any) -> Select[Any]:
        return select(
            case_id.label("case_id"),
            literal(dimension).label("dimension"),
            cast(key, String).label("key"),
        )

    linked_malomrade = (
        select(CaseActivity.case_id)
        .join(activity_malomrade, activity_malomrade.c.activity_id == CaseActivity.activity_id)
        .where(CaseActivity.case_id == SipCase.id)
    )
    by_dimension = {
        "huvudman": [
            member(SipCase.id, "huvudman", Unit.huvudman_id).join(
                Unit, Unit.id == SipCase.initiating_unit_id
            )
        ],
        "unit": [member(SipCase.id, "unit", SipCase.initiating_unit_id)],
        "sakomrade": [
            member(CaseSakomrade.case_id, "sakomrade", CaseSakomrade.code),
            member(SipCase.id, "sakomrade", none).where(
                ~exists().where(CaseSakomrade.case_id == SipCase.id)
            ),
        ],
        "activity": [
            member(CaseActivity.case_id, "activity", CaseActivity.activity_id),
            member(SipCase.id, "activity", none).where(
                ~exists().where(CaseActivity.case_id == SipCase.id)
            ),
        ],
        "malomrade": [
            member(CaseActivity.case_id, "malomrade", activity_malomrade.c.malomrade_id)
            .join(activity_malomrade, activity_malomrade.c.activity_id == CaseActivity.activity_id)
            .distinct(),
            member(SipCase.id, "malomrade", none).where(~linked_malomrade.exists()),
        ],
    }
    members = [member(SipCase.id, *TOTAL)]
    for dimension in dimensions:
        members += by_dimension[dimension]
    return union_all(*members).subquery("case_group")


def cube(
    events: Select[Any],
    *,
    scope: Scope,
    first: date,
    last: date,
    dimensions: Iterable[str] = DIMENSIONS,
) -> Select[Any]:
    """Count the events between two days per period and group, in one statement.

    Columns: period, period_key, dimension, key, n (events), persons (distinct), hits (for
    shares, else NULL) and median (of days, for medians, else NULL).
    """
    source = events.subquery("events")
    scoped = (
        select(source)
        .where(source.c.day >= first, source.c.day <= last, in_scope(source.c.case_id, scope))
        .subquery("scoped")
    )
    groups = group_map(dimensions)
    has_hit = "hit" in scoped.c
    has_days = "days" in scoped.c
    measure = scoped.c.hit if has_hit else scoped.c.days if has_days else null()
    rows = union_all(
        *(
            select(
                literal(period).label("period"),
                period_key(period, scoped.c.day).label("period_key"),
                groups.c.dimension,
                groups.c.key,
                scoped.c.person_id,
                cast(measure, Integer).label("measure"),
            ).join(groups, groups.c.case_id == scoped.c.case_id)
            for period in PERIODS
        )
    ).cte("cell_rows")
    cell = (rows.c.period, rows.c.period_key, rows.c.dimension, rows.c.key)
    counted = select(
        *cell,
        func.count().label("n"),
        func.count(rows.c.person_id.distinct()).label("persons"),
        (func.sum(rows.c.measure) if has_hit else null()).label("hits"),
    ).group_by(*cell)
    if not has_days:
        return counted.add_columns(null().label("median"))
    counted_sq = counted.subquery("counted")
    ranked = select(
        *cell,
        rows.c.measure,
        func.row_number().over(partition_by=cell, order_by=rows.c.measure).label("rank"),
        func.count().over(partition_by=cell).label("size"),
    ).subquery("ranked")
    middle = (
        select(
            ranked.c.period,
            ranked.c.period_key,
            ranked.c.dimension,
            ranked.c.key,
            func.avg(ranked.c.measure).label("median"),
        )
        .where(2 * ranked.c.rank >= ranked.c.size, 2 * ranked.c.rank <= ranked.c.size + 2)
        .group_by(ranked.c.period, ranked.c.period_key, ranked.c.dimension, ranked.c.key)
        .subquery("middle")
    )
    return select(
        counted_sq.c.period,
        counted_sq.c.period_key,
        counted_sq.c.dimension,
        counted_sq.c.key,
        counted_sq.c.n,
        counted_sq.c.persons,
        counted_sq.c.hits,
        middle.c.median,
    ).join(
        middle,
        and_(
            middle.c.period == counted_sq.c.period,
            middle.c.period_key == counted_sq.c.period_key,
            middle.c.dimension == counted_sq.c.dimension,
            middle.c.key == counted_sq.c.key,
        ),
    )


def huvudman_in(scope: Scope) -> Select[tuple[Huvudman]]:
    """The huvudmän of a scope: the region first, then the kommuner by name."""
    query = select(Huvudman).order_by(Huvudman.kind.desc(), Huvudman.name)
    if scope.huvudman_id is not None:
        query = query.where(Huvudman.id == scope.huvudman_id)
    return query


def units_by_id(ids: list[int]) -> Select[tuple[Unit]]:
    return (
        select(Unit)
        .join(Unit.huvudman)
        .options(contains_eager(Unit.huvudman))
        .where(Unit.id.in_(ids))
        .order_by(Huvudman.kind.desc(), Huvudman.name, Unit.name)
    )


def unit_huvudman(ids: list[int]) -> Select[tuple[int, int]]:
    return select(Unit.id, Unit.huvudman_id).where(Unit.id.in_(ids))


def first_case_year() -> Select[tuple[Any]]:
    """The earliest day any case was created (for the years to choose from)."""
    return select(func.min(SipCase.created_at))
