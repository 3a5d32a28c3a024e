"""Indicator tables as CSV, with the same "<5" and "x" as the page."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from flask_babel import format_decimal
from flask_babel import gettext as _

from sip_tracker.indicators.definitions import Kind
from sip_tracker.indicators.report import Table


def _unit(kind: Kind) -> str:
    return {
        Kind.COUNT: _("antal"),
        Kind.SHARE: _("procent"),
        Kind.MEDIAN: _("dagar, median"),
    }[kind]


def _value(kind: Kind, table_value: float | None, text: str) -> str:
    """A number spreadsheets read (no thousands separator), or the page's mark."""
    if table_value is None:
        return text
    if kind == Kind.COUNT:
        return str(int(table_value))
    if kind == Kind.SHARE:
        return str(format_decimal(table_value, "0"))
    return str(format_decimal(table_value, "0.#"))


def tables_to_csv(tables: Sequence[Table]) -> str:
    """One line per indicator, period and group; ';' and a BOM, as Swedish Excel expects."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Indikator"), _("Period"), _("Grupp"), _("Värde"), _("Enhet")])
    for table in tables:
        for row in table.rows:
            group = f"{row.label} ({row.note})" if row.note else row.label
            for column, cell in zip(table.columns, row.cells, strict=True):
                writer.writerow(
                    [
                        str(table.indicator.title),
                        column.key,
                        group,
                        _value(table.indicator.kind, cell.value, cell.text),
                        _unit(table.indicator.kind),
                    ]
                )
    return "\ufeff" + out.getvalue()
