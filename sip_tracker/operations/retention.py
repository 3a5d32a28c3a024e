"""Gallring, as the `gallra` command runs it: count first, delete on request.

Cases that ended more than RETENTION_YEARS ago go with everything under them, and their
people with their last case (cases/retention.py); access-log rows go when they are older
than the log is kept (audit/retention.py), never with the case they name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select

from sip_tracker.audit.retention import LOG_YEARS, old_log_rows, purge_log
from sip_tracker.cases.models import SipCase
from sip_tracker.cases.retention import ended_before, people_left_without_cases, purge_case
from sip_tracker.db import db
from sip_tracker.i18n import local_date

# A PostgreSQL trigger (issue 8) refuses to delete log rows younger than LOG_YEARS by the
# database's clock, which may run a little behind ours: stay a day clear of its limit.
LOG_MARGIN = timedelta(days=1)
# Cases deleted per transaction (about two seconds' work on SQLite).
BATCH_SIZE = 50


def years_before(moment: datetime, years: int) -> datetime:
    """The same moment `years` calendar years earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


@dataclass(frozen=True)
class Gallring:
    """What a run removes: counts and dates only, never who."""

    cases_ended_before: datetime
    log_written_before: datetime
    cases: int
    people: int
    log_rows: int

    @property
    def cases_cutoff_day(self) -> date:
        return local_date(self.cases_ended_before)

    @property
    def log_cutoff_day(self) -> date:
        return local_date(self.log_written_before)


def plan(now: datetime, retention_years: int) -> Gallring:
    """Count what a run at `now` would remove."""
    cutoff = years_before(now, retention_years)
    log_cutoff = years_before(now, LOG_YEARS) - LOG_MARGIN
    cases = ended_before(cutoff)
    return Gallring(
        cases_ended_before=cutoff,
        log_written_before=log_cutoff,
        cases=_count(cases),
        people=_count(people_left_without_cases(cases)),
        log_rows=int(db.session.scalar(old_log_rows(log_cutoff)) or 0),
    )


def _count(query: Select[tuple[int]]) -> int:
    return int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def run(
    now: datetime, retention_years: int, *, after_batch: Callable[[], None] | None = None
) -> Gallring:
    """Remove what `plan` counts; return what was removed.

    Cases go BATCH_SIZE at a time, each batch whole (cases, people, their log rows) and
    followed by `after_batch` (the command commits there): on SQLite every writer of the
    app waits while a transaction holds the write lock, and a first run may have years of
    cases to delete.
    """
    planned = plan(now, retention_years)
    case_ids = list(db.session.scalars(ended_before(planned.cases_ended_before)))
    cases = people = 0
    for start in range(0, len(case_ids), BATCH_SIZE):
        for case_id in case_ids[start : start + BATCH_SIZE]:
            case = db.session.get(SipCase, case_id)
            if case is None:  # deleted meanwhile
                continue
            people += purge_case(case)
            cases += 1
        if after_batch is not None:
            after_batch()
        db.session.expunge_all()
    # Old rows only: the rows just written about the purged cases stay five years.
    log_rows = purge_log(planned.log_written_before)
    return Gallring(
        cases_ended_before=planned.cases_ended_before,
        log_written_before=planned.log_written_before,
        cases=cases,
        people=people,
        log_rows=log_rows,
    )
