"""SQL pieces that SQLite and PostgreSQL spell differently, behind one name each.

Timestamps are stored in UTC; the indicators count Stockholm calendar days. PostgreSQL
converts with its time zone database. SQLite has none, so the conversion spells out the
EU rule Sweden follows since 1996: summer time from 01:00 UTC on the last Sunday of March
to 01:00 UTC on the last Sunday of October, UTC+2; otherwise UTC+1.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.types import Boolean

PERIODS = ("month", "quarter", "year")


class local_date(FunctionElement[Any]):
    """The Stockholm calendar date of a UTC timestamp."""

    type = Date()
    name = "local_date"
    inherit_cache = True


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    moment = compiler.process(next(iter(element.clauses)), **kw)
    year = f"strftime('%Y', {moment})"
    starts = f"datetime({year} || '-03-25', 'weekday 0', '+1 hours')"
    ends = f"datetime({year} || '-10-25', 'weekday 0', '+1 hours')"
    offset = (
        f"CASE WHEN {moment} >= {starts} AND {moment} < {ends} THEN '+2 hours' ELSE '+1 hours' END"
    )
    return f"date({moment}, {offset})"


@compiles(local_date, "postgresql")
def _local_date_postgresql(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    moment = compiler.process(next(iter(element.clauses)), **kw)
    return f"CAST(({moment} AT TIME ZONE 'Europe/Stockholm') AS DATE)"


class days_between(FunctionElement[Any]):
    """Whole days from the second date to the first."""

    type = Integer()
    name = "days_between"
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"({later} - {earlier})"


class _period_key(FunctionElement[Any]):
    """The month ("2025-03"), quarter ("2025-Q1") or year ("2025") of a date.

    One class per period, so the period is part of SQLAlchemy's statement cache key.
    """

    type = String()
    period = ""
    inherit_cache = True


class month_key(_period_key):
    name = "month_key"
    period = "month"
    inherit_cache = True


class quarter_key(_period_key):
    name = "quarter_key"
    period = "quarter"
    inherit_cache = True


class year_key(_period_key):
    name = "year_key"
    period = "year"
    inherit_cache = True


def period_key(period: str, day: ColumnElement[Any]) -> _period_key:
    kinds = {"month": month_key, "quarter": quarter_key, "year": year_key}
    return kinds[period](day)


@compiles(_period_key, "sqlite")
def _period_key_sqlite(element: _period_key, compiler: SQLCompiler, **kw: Any) -> str:
    day = compiler.process(next(iter(element.clauses)), **kw)
    if element.period == "month":
        return f"substr({day}, 1, 7)"
    if element.period == "year":
        return f"substr({day}, 1, 4)"
    return f"(substr({day}, 1, 4) || '-Q' || ((CAST(substr({day}, 6, 2) AS INTEGER) + 2) / 3))"


@compiles(_period_key, "postgresql")
def _period_key_postgresql(element: _period_key, compiler: SQLCompiler, **kw: Any) -> str:
    day = compiler.process(next(iter(element.clauses)), **kw)
    pattern = {"month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}[element.period]
    return f"to_char({day}, '{pattern}')"


class plan_is_complete(FunctionElement[Any]):
    """Whether an established plan's content names a huvudansvarig, has at least one
    insats, and names the responsible huvudman of every insats."""

    type = Boolean()
    name = "plan_is_complete"
    inherit_cache = True


@compiles(plan_is_complete, "sqlite")
def _plan_is_complete_sqlite(element: plan_is_complete, compiler: SQLCompiler, **kw: Any) -> str:
    content = compiler.process(next(iter(element.clauses)), **kw)
    return (
        f"(json_type({content}, '$.huvudansvarig') = 'object'"
        f" AND json_array_length({content}, '$.insatser') > 0"
        f" AND NOT EXISTS (SELECT 1 FROM json_each({content}, '$.insatser') AS insats"
        f" WHERE coalesce(json_type(insats.value, '$.huvudman_id'), 'null') = 'null'))"
    )


@compiles(plan_is_complete, "postgresql")
def _plan_is_complete_postgresql(
    element: plan_is_complete, compiler: SQLCompiler, **kw: Any
) -> str:
    content = compiler.process(next(iter(element.clauses)), **kw)
    insatser = f"({content})::json -> 'insatser'"
    # CASE, not AND: PostgreSQL may evaluate either side of an AND first, and the array
    # functions raise on anything but an array.
    array = f"CASE WHEN json_typeof({insatser}) = 'array' THEN {insatser} ELSE '[]'::json END"
    return (
        f"(json_typeof(({content})::json -> 'huvudansvarig') = 'object'"
        f" AND json_array_length({array}) > 0"
        f" AND NOT EXISTS (SELECT 1 FROM json_array_elements({array}) AS insats(item)"
        f" WHERE coalesce(json_typeof(insats.item -> 'huvudman_id'), 'null') = 'null'))"
    )
