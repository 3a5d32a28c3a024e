"""From the SQL aggregates to tables of shown, "<5" and hidden cells, for pages and CSV.

Every count is protected over the whole cube at once - each month, quarter and year, by
every grouping and for the whole scope - so a figure reads the same in every view and
one view cannot be subtracted from another (privacy.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_date, format_decimal, format_number, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import text

from sip_tracker.cases.codes import SAKOMRADE_LABELS, Sakomrade
from sip_tracker.db import db
from sip_tracker.handlingsplan import queries as plan
from sip_tracker.indicators import queries as q
from sip_tracker.indicators.definitions import Indicator, Kind
from sip_tracker.indicators.privacy import Count, Mark, is_small, protect
from sip_tracker.indicators.queries import NONE_KEY, TOTAL, cube
from sip_tracker.indicators.scope import Scope

DIMENSIONS = ("none", "huvudman", "unit", "sakomrade", "malomrade", "activity")
DIMENSION_LABELS = {
    "none": _l("Ingen uppdelning"),
    "huvudman": _l("Kommun eller region"),
    "unit": _l("Enhet"),
    "sakomrade": _l("Sakområde"),
    "malomrade": _l("Målområde"),
    "activity": _l("Aktivitet i handlingsplanen"),
}
PERIODS = ("month", "quarter", "year")
PERIOD_LABELS = {"month": _l("Månad"), "quarter": _l("Kvartal"), "year": _l("År")}

CellKey = tuple[str, str, str, str]  # period, period key, dimension, group key


@dataclass(frozen=True)
class View:
    """What a page or a CSV shows: periods, one grouping, years, whose cases."""

    period: str
    by: str
    years: tuple[int, ...]
    scope: Scope
    today: date

    @property
    def first(self) -> date:
        return date(self.years[0], 1, 1)

    @property
    def last(self) -> date:
        return date(self.years[-1], 12, 31)


@dataclass(frozen=True)
class Stat:
    n: int
    persons: int
    hits: int | None
    median: float | None


@dataclass(frozen=True)
class Cell:
    mark: Mark
    value: float | None
    text: str

    @property
    def shown(self) -> bool:
        return self.mark == Mark.SHOWN and self.value is not None


@dataclass(frozen=True)
class Column:
    period: str
    key: str
    label: str
    is_total: bool = False


@dataclass
class Row:
    key: str
    label: str
    cells: list[Cell]
    note: str | None = None
    is_total: bool = False


@dataclass
class Table:
    indicator: Indicator
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)

    @property
    def total(self) -> Row:
        return next(r for r in self.rows if r.is_total)

    @property
    def groups(self) -> list[Row]:
        return [r for r in self.rows if not r.is_total]

    @property
    def has_hidden(self) -> bool:
        return any(c.mark in (Mark.SMALL, Mark.HIDDEN) for r in self.rows for c in r.cells)


# Periods ------------------------------------------------------------------------------


def months(year: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(1, 13)]


def quarters(year: int) -> list[str]:
    return [f"{year}-Q{q}" for q in range(1, 5)]


def columns_for(view: View) -> list[Column]:
    if view.period == "year":
        return [Column("year", str(y), str(y)) for y in view.years]
    (year,) = view.years[-1:]
    if view.period == "month":
        cols = [
            Column("month", key, format_date(date(year, m, 1), "LLL"))
            for m, key in enumerate(months(year), start=1)
        ]
    else:
        cols = [
            Column("quarter", key, _("Kv %(n)d", n=q)) for q, key in enumerate(quarters(year), 1)
        ]
    return [*cols, Column("year", str(year), _("Helår"), is_total=True)]


# Groups -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    note: str | None = None
    parent: str | None = None  # the huvudman of a unit


def groups_for(dimension: str, view: View, present: set[str]) -> list[Group]:
    """The rows of a grouping: every kommun, sakområde and målområde; the units and
    activities that have something to count; NONE_KEY when cases fall outside."""
    if dimension == "huvudman":
        return [Group(str(h.id), h.name) for h in db.session.scalars(q.huvudman_in(view.scope))]
    if dimension == "unit":
        ids = [int(k) for k in present if k.isdigit()]
        return [
            Group(str(u.id), u.name, note=u.huvudman.name, parent=str(u.huvudman_id))
            for u in db.session.scalars(q.units_by_id(ids))
        ]
    groups: list[Group] = []
    none_label: str
    if dimension == "sakomrade":
        # Only the four a person's case can fall in: no case is in digitalisering.
        titles = {s.code: s.title for s in db.session.scalars(plan.sakomraden())}
        groups = [
            Group(s.value, titles.get(s.value) or str(SAKOMRADE_LABELS[s])) for s in Sakomrade
        ]
        none_label = _("Utan sakområde")
    elif dimension == "malomrade":
        groups = [Group(str(m.id), m.title) for m in db.session.scalars(plan.malomraden())]
        none_label = _("Inte kopplade till något målområde")
    elif dimension == "activity":
        groups = [
            Group(str(a.id), a.title, note=f"{a.identifier} ({a.years})")
            for a in reversed(db.session.scalars(plan.activities()).all())
            if str(a.id) in present
            or (a.year_from <= view.years[-1] and a.year_to >= view.years[0])
        ]
        none_label = _("Inte kopplade till någon aktivitet")
    else:
        return []
    if NONE_KEY in present:
        groups.append(Group(NONE_KEY, none_label))
    return groups


# The cube -----------------------------------------------------------------------------


def load_stats(indicator: Indicator, view: View) -> dict[CellKey, Stat]:
    """The indicator's figures per period and group, from one SQL statement.

    Counts need every grouping, so that their protection is the same in every view;
    shares and medians (the "<5" rule alone) need only the view's.
    """
    dimensions = DIMENSIONS[1:] if indicator.kind == Kind.COUNT else [view.by]
    statement = cube(
        indicator.events(view.today),
        scope=view.scope,
        first=view.first,
        last=view.last,
        dimensions=[d for d in dimensions if d != "none"],
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # The planner overestimates these grouped unions and then spends most of the
        # time JIT-compiling them (0.8 s of 1.1 s on 20 000 cases); plain execution wins.
        db.session.execute(text("SET LOCAL jit = off"))
    stats: dict[CellKey, Stat] = {}
    for row in db.session.execute(statement):
        stats[(row.period, row.period_key, row.dimension, row.key)] = Stat(
            n=int(row.n),
            persons=int(row.persons),
            hits=None if row.hits is None else int(row.hits),
            median=None if row.median is None else float(row.median),
        )
    return stats


def count_constraints(
    years: Iterable[int],
    groups: Sequence[tuple[str, str]],
    units_of: dict[str, list[str]],
    items: dict[str, list[str]],
) -> list[tuple[CellKey, list[CellKey]]]:
    """Every total a count table shows or implies, with the cells it is the sum of.

    groups: every (dimension, key) including the total; units_of: huvudman key → unit
    keys; items: dimension → its group keys (huvudman, unit, sakomrade, …).
    """
    rules: list[tuple[CellKey, list[CellKey]]] = []
    for year in years:
        y = str(year)
        ms, qs = months(year), quarters(year)
        times = [("year", y), *(("quarter", k) for k in qs), *(("month", k) for k in ms)]
        for dimension, key in groups:
            rules.append((("year", y, dimension, key), [("month", m, dimension, key) for m in ms]))
            rules.append(
                (("year", y, dimension, key), [("quarter", k, dimension, key) for k in qs])
            )
            for index, quarter in enumerate(qs):
                rules.append(
                    (
                        ("quarter", quarter, dimension, key),
                        [("month", m, dimension, key) for m in ms[index * 3 : index * 3 + 3]],
                    )
                )
        for period, pkey in times:
            total: CellKey = (period, pkey, *TOTAL)
            for dimension, keys in items.items():
                if keys:
                    rules.append((total, [(period, pkey, dimension, k) for k in keys]))
            for huvudman, unit_keys in units_of.items():
                rules.append(
                    (
                        (period, pkey, "huvudman", huvudman),
                        [(period, pkey, "unit", u) for u in unit_keys],
                    )
                )
    return rules


def protect_counts(stats: dict[CellKey, Stat], years: Sequence[int]) -> dict[CellKey, Mark]:
    """Marks for every cell of a count cube (a missing cell counts zero)."""
    items: dict[str, set[str]] = {}
    for _period, _pkey, dimension, group in stats:
        if dimension != TOTAL[0]:
            items.setdefault(dimension, set()).add(group)
    unit_keys = sorted(items.get("unit", set()))
    units_of: dict[str, list[str]] = {}
    if unit_keys:
        for unit_id, huvudman_id in db.session.execute(
            q.unit_huvudman([int(k) for k in unit_keys])
        ):
            units_of.setdefault(str(huvudman_id), []).append(str(unit_id))
    ordered = {d: sorted(keys) for d, keys in sorted(items.items())}
    groups = [TOTAL, *((d, k) for d, keys in ordered.items() for k in keys)]
    rules = count_constraints(
        years, groups, {h: sorted(u) for h, u in sorted(units_of.items())}, ordered
    )
    cells: dict[CellKey, Count] = {}
    for parent, children in rules:
        for key in (parent, *children):
            if key not in cells:
                stat = stats.get(key)
                cells[key] = Count(stat.n, stat.persons) if stat else Count(0, 0)
    for key, stat in stats.items():
        cells.setdefault(key, Count(stat.n, stat.persons))
    return protect(cells, rules)


def _text(kind: Kind, mark: Mark, value: float | None) -> str:
    if mark == Mark.SMALL:
        return "<5"
    if mark == Mark.HIDDEN:
        return "x"
    if mark == Mark.EMPTY or value is None:
        return "–"
    if kind == Kind.COUNT:
        return format_number(int(value))
    if kind == Kind.SHARE:
        return str(format_percent(value / 100, "#,##0 %"))
    return str(format_decimal(value, "#,##0.#"))


def cell_for(
    indicator: Indicator, key: CellKey, stats: dict[CellKey, Stat], marks: dict[CellKey, Mark]
) -> Cell:
    stat = stats.get(key)
    if indicator.kind == Kind.COUNT:
        value = float(stat.n) if stat else 0.0
        mark = marks.get(key, Mark.SHOWN)
        return Cell(mark, value, _text(indicator.kind, mark, value))
    if stat is None or stat.n == 0:
        return Cell(Mark.EMPTY, None, "–")
    if is_small(stat.persons):
        return Cell(Mark.SMALL, None, "<5")
    if indicator.kind == Kind.SHARE:
        value = 100.0 * (stat.hits or 0) / stat.n
    else:
        value = stat.median if stat.median is not None else 0.0
    return Cell(Mark.SHOWN, value, _text(indicator.kind, Mark.SHOWN, value))


def build_table(indicator: Indicator, view: View) -> Table:
    """One indicator as a table: a row per group (if any) and the total, a column per period."""
    stats = load_stats(indicator, view)
    marks = protect_counts(stats, view.years) if indicator.kind == Kind.COUNT else {}
    # Shown cells carry no value when hidden: the page and the CSV cannot leak it.
    columns = columns_for(view)
    table = Table(indicator, columns)
    if view.by != "none":
        present = {k for (_p, _k, d, k) in stats if d == view.by}
        for group in groups_for(view.by, view, present):
            table.rows.append(
                Row(
                    group.key,
                    group.label,
                    [
                        _redact(
                            cell_for(indicator, (c.period, c.key, view.by, group.key), stats, marks)
                        )
                        for c in columns
                    ],
                    note=group.note,
                )
            )
    table.rows.append(
        Row(
            "*",
            _("Totalt"),
            [
                _redact(cell_for(indicator, (c.period, c.key, *TOTAL), stats, marks))
                for c in columns
            ],
            is_total=True,
        )
    )
    return table


def _redact(cell: Cell) -> Cell:
    if cell.mark in (Mark.SMALL, Mark.HIDDEN):
        return Cell(cell.mark, None, cell.text)
    return cell


def available_years(first_case: date | None, today: date) -> list[int]:
    """From the plan's first year (or the first case, if earlier) to this year."""
    first = min(2024, first_case.year if first_case else today.year, today.year)
    return list(range(first, today.year + 1))
