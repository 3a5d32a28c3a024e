"""Unusual access in the log, flagged for the administrator's review, in SQL.

Three signs, each explained to the reviewer in Swedish:
- the user's unit does not take part in the case (any more, or never did), by the same
  rule that grants access (cases/access.py);
- bulk reading: the user had opened more than N different persons' data in the hour up to
  the row (N is AUDIT_BULK_READ_LIMIT);
- the person has a protected identity (skyddade personuppgifter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    String,
    and_,
    case,
    distinct,
    exists,
    false,
    func,
    not_,
    or_,
    text,
)
from sqlalchemy import select as sql_select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from sip_tracker.audit.models import AuditEvent
from sip_tracker.cases.access import acting_units_of, taking_part_clause
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.people.models import Person

# Rows written once per line of a list (the case overview, the log itself) do not count as
# opening a person's data: a coordinator paging through the unit's cases is not bulk reading.
LIST_ACTIONS = ("case.list", "audit.read")


class Flag(StrEnum):
    NO_PART = "no_part"
    BULK = "bulk"
    PROTECTED = "protected"


def explain(flag: Flag, bulk_limit: int) -> str:
    """Why a row is flagged, for the reviewer."""
    if flag == Flag.NO_PART:
        return _(
            "Användarens enhet deltar inte i ärendet: den har slutat delta eller har aldrig "
            "deltagit."
        )
    if flag == Flag.BULK:
        return _(
            "Användaren öppnade uppgifter om fler än %(n)d olika personer inom en timme.",
            n=bulk_limit,
        )
    return _("Personen har skyddade personuppgifter.")


class hour_before(FunctionElement[Any]):
    """The moment one hour before a timestamp column, comparable with the column."""

    type = DateTime()
    name = "hour_before"
    inherit_cache = True


@compiles(hour_before, "sqlite")
def _hour_before_sqlite(element: hour_before, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': keep the microseconds so the bound is exact.
    moment = compiler.process(next(iter(element.clauses)), **kw)
    return f"(datetime({moment}, '-1 hours') || substr({moment}, 20))"


@compiles(hour_before, "postgresql")
def _hour_before_postgresql(element: hour_before, compiler: SQLCompiler, **kw: Any) -> str:
    moment = compiler.process(next(iter(element.clauses)), **kw)
    return f"({moment} - interval '1 hour')"


class clock_hour(FunctionElement[Any]):
    """The clock hour (in UTC) a timestamp falls in, as a value to group by."""

    type = String()
    name = "clock_hour"
    inherit_cache = True


@compiles(clock_hour, "sqlite")
def _clock_hour_sqlite(element: clock_hour, compiler: SQLCompiler, **kw: Any) -> str:
    return f"substr({compiler.process(next(iter(element.clauses)), **kw)}, 1, 13)"


@compiles(clock_hour, "postgresql")
def _clock_hour_postgresql(element: clock_hour, compiler: SQLCompiler, **kw: Any) -> str:
    moment = compiler.process(next(iter(element.clauses)), **kw)
    return f"date_trunc('hour', {moment} AT TIME ZONE 'UTC')"


def no_part() -> ColumnElement[bool]:
    """A user's row about a case that the units the user acts for do not take part in now."""
    acting = acting_units_of(AuditEvent.user_id, AuditEvent.unit_id)
    case_elsewhere = exists(
        sql_select(SipCase.id).where(
            SipCase.id == AuditEvent.case_id, not_(taking_part_clause(acting))
        )
    )
    return and_(AuditEvent.user_id.is_not(None), AuditEvent.case_id.is_not(None), case_elsewhere)


def bulk(limit: int, candidates: Select[tuple[int | None]] | None = None) -> ColumnElement[bool]:
    """A user's row after which the user had opened more than `limit` persons within an hour.

    Counted per row over the hour before it (an index range scan). `candidates`, when given,
    screens out first, in one hashed lookup, the users who cannot qualify (busy_users).
    """
    earlier = aliased(AuditEvent)
    persons = (
        sql_select(func.count(distinct(earlier.person_id)))
        .where(
            earlier.user_id == AuditEvent.user_id,
            earlier.at > hour_before(AuditEvent.at),
            earlier.at <= AuditEvent.at,
            earlier.person_id.is_not(None),
            earlier.action.not_in(LIST_ACTIONS),
        )
        .scalar_subquery()
    )
    counted: ColumnElement[bool] = persons > limit
    if candidates is not None:
        # CASE: the planner may not run the costly count before the cheap screen.
        counted = case((AuditEvent.user_id.in_(candidates), counted), else_=false())
    return and_(
        AuditEvent.user_id.is_not(None),
        AuditEvent.person_id.is_not(None),
        AuditEvent.action.not_in(LIST_ACTIONS),
        counted,
    )


def busy_users(
    limit: int, since: datetime | None, until: datetime | None, user_id: int | None = None
) -> Select[tuple[int | None]]:
    """The users who opened more than limit/2 rows in some clock hour between since and until.

    The hour before a row spans at most two clock hours; more than `limit` persons in it
    means more than limit/2 rows in one of them. Everyone else is ruled out at once.
    """
    query = (
        sql_select(AuditEvent.user_id)
        .where(
            AuditEvent.user_id.is_not(None),
            AuditEvent.person_id.is_not(None),
            AuditEvent.action.not_in(LIST_ACTIONS),
        )
        .group_by(AuditEvent.user_id, clock_hour(AuditEvent.at))
        .having(func.count() * 2 > limit)
        .correlate(None)
    )
    if since is not None:
        query = query.where(AuditEvent.at > since - timedelta(hours=1))
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    return query


def protected() -> ColumnElement[bool]:
    """A row about a person with a protected identity."""
    return exists().where(Person.id == AuditEvent.person_id, Person.protected_identity.is_(True))


@dataclass(frozen=True)
class Expressions:
    """The three flags as SQL, for one bulk limit."""

    no_part: ColumnElement[bool]
    bulk: ColumnElement[bool]
    protected: ColumnElement[bool]

    def any(self) -> ColumnElement[bool]:
        # Cheapest first: PostgreSQL tries the branches of an OR in the order written.
        return or_(self.protected, self.bulk, self.no_part)


def expressions(bulk_limit: int) -> Expressions:
    """The flags of a few rows (a page of the log)."""
    return Expressions(no_part=no_part(), bulk=bulk(bulk_limit), protected=protected())


def expressions_over(
    bulk_limit: int, since: datetime | None, until: datetime | None, user_id: int | None = None
) -> Expressions:
    """The flags as a filter over the rows between since and until (None: unbounded), of
    one user or of all."""
    candidates = busy_users(bulk_limit, since, until, user_id)
    return Expressions(no_part=no_part(), bulk=bulk(bulk_limit, candidates), protected=protected())


def flags_of(event_ids: list[int], bulk_limit: int) -> Select[tuple[int, bool, bool, bool]]:
    """The flags of the given rows (a page of the log), one tuple per row."""
    found = expressions(bulk_limit)
    return sql_select(AuditEvent.id, found.no_part, found.bulk, found.protected).where(
        AuditEvent.id.in_(event_ids)
    )


def flags_by_event(rows: list[tuple[int, bool, bool, bool]]) -> dict[int, list[Flag]]:
    """The flags that are set, per row id."""
    result: dict[int, list[Flag]] = {}
    for event_id, is_no_part, is_bulk, is_protected in rows:
        set_flags = zip(
            (Flag.NO_PART, Flag.BULK, Flag.PROTECTED),
            (is_no_part, is_bulk, is_protected),
            strict=True,
        )
        result[event_id] = [flag for flag, on in set_flags if on]
    return result


def without_jit() -> None:
    """Have PostgreSQL plan the rest of the transaction without JIT compilation.

    It prices the per-row subqueries of the flags far above what they cost and compiles
    the filter, which doubles the time of a month's "only flagged" (bench/audit_review_bench.py).
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))
