"""How many cases count towards an activity, per stage and huvudman, under the "<5" rule."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_number
from flask_babel import gettext as _

from sip_tracker.cases.codes import STAGE_LABELS, STAGE_ORDER, Stage
from sip_tracker.db import db
from sip_tracker.handlingsplan.queries import huvudman_names, linked_case_counts
from sip_tracker.indicators.privacy import Count, Mark, protect
from sip_tracker.indicators.scope import Scope

STAGES = (*STAGE_ORDER, Stage.AVBOJD, Stage.AVBRUTEN)
ALL = "*"


@dataclass(frozen=True)
class CountCell:
    mark: Mark
    text: str


@dataclass
class CountRow:
    label: str
    cells: list[CountCell]
    is_total: bool = False


@dataclass
class CountTable:
    columns: list[str]
    rows: list[CountRow]

    @property
    def total_text(self) -> str:
        return self.rows[-1].cells[-1].text


def case_counts(activity_id: int, scope: Scope) -> CountTable:
    """Rows per huvudman with linked cases, then the total; a column per stage, then the total."""
    cells: dict[tuple[str, str], Count] = {}
    for row in db.session.execute(linked_case_counts(activity_id, scope)):
        stage = str(Stage(row.stage).value) if row.stage is not None else ALL
        huvudman = str(row.huvudman_id) if row.huvudman_id is not None else ALL
        cells[(stage, huvudman)] = Count(int(row.cases), int(row.persons))
    stages = [s.value for s in STAGES]
    huvudman_keys = sorted({h for (_s, h) in cells if h != ALL}, key=int)
    for key in [(s, h) for s in [*stages, ALL] for h in [*huvudman_keys, ALL]]:
        cells.setdefault(key, Count(0, 0))
    rules = [((ALL, h), [(s, h) for s in stages]) for h in [*huvudman_keys, ALL]]
    rules += [((s, ALL), [(s, h) for h in huvudman_keys]) for s in [*stages, ALL]]
    marks = protect(cells, rules)

    def cell(key: tuple[str, str]) -> CountCell:
        mark = marks[key]
        if mark == Mark.SMALL:
            return CountCell(mark, "<5")
        if mark == Mark.HIDDEN:
            return CountCell(mark, "x")
        return CountCell(mark, format_number(cells[key].value))

    names = {
        huvudman_id: name
        for huvudman_id, name in db.session.execute(huvudman_names([int(h) for h in huvudman_keys]))
    }
    rows = [
        CountRow(names.get(int(h), h), [cell((s, h)) for s in [*stages, ALL]])
        for h in sorted(huvudman_keys, key=lambda h: names.get(int(h), h))
    ]
    rows.append(CountRow(_("Totalt"), [cell((s, ALL)) for s in [*stages, ALL]], is_total=True))
    columns = [str(STAGE_LABELS[Stage(s)]) for s in stages] + [_("Totalt")]
    return CountTable(columns, rows)
