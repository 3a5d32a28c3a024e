"""The indicator pages: aggregates of the user's scope, as charts, tables and CSV.

Reading them reads no one's personal data: no names, personnummer or case ids, and every
count of fewer than 5 persons hidden. So no audit rows are written.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from sip_tracker import clock
from sip_tracker.db import db
from sip_tracker.i18n import local_date
from sip_tracker.indicators.charts import Chart, bar_chart, column_chart
from sip_tracker.indicators.definitions import BY_KEY, INDICATORS, Indicator
from sip_tracker.indicators.export import tables_to_csv
from sip_tracker.indicators.forms import IndicatorFilterForm
from sip_tracker.indicators.queries import first_case_year
from sip_tracker.indicators.report import (
    DIMENSION_LABELS,
    PERIOD_LABELS,
    Table,
    View,
    available_years,
    build_table,
)
from sip_tracker.indicators.scope import scope_for
from sip_tracker.web import page

bp = Blueprint("indicators", __name__)


def _filters() -> tuple[IndicatorFilterForm, View, list[Indicator]]:
    """The view the query string asks for; defaults where it asks for something unknown."""
    today = clock.today()
    first = db.session.scalar(first_case_year())
    years = available_years(local_date(first) if first else None, today)
    form = IndicatorFilterForm(request.args)
    form.load_years(years)
    valid = form.validate()
    period = form.period.data if valid and form.period.data else "month"
    by = form.by.data if valid and form.by.data else "none"
    year = form.year.data if valid and form.year.data in years else today.year
    form.year.data, form.period.data, form.by.data = year, period, by
    chosen = form.indicator.data if valid and form.indicator.data in BY_KEY else None
    view = View(
        period=period,
        by=by,
        years=tuple(years) if period == "year" else (year,),
        scope=scope_for(current_user, _("Stockholms län")),
        today=today,
    )
    return form, view, [BY_KEY[chosen]] if chosen else list(INDICATORS)


def _chart(table: Table, view: View) -> Chart:
    chart_id = f"chart-{table.indicator.key}"
    if view.by == "none":
        columns = [c for c in table.columns if not c.is_total]
        cells = table.total.cells[: len(columns)]
        return column_chart(chart_id, table.indicator.kind, [c.label for c in columns], cells)
    rows = table.groups
    return bar_chart(
        chart_id, table.indicator.kind, [r.label for r in rows], [r.cells[-1] for r in rows]
    )


def _query(**extra: Any) -> dict[str, Any]:
    args = {k: v for k, v in request.args.items() if k != "lang"}
    args.update(extra)
    return args


@bp.route("/indicators")
@login_required
def index() -> tuple[str, int]:
    form, view, indicators = _filters()
    tables = [build_table(indicator, view) for indicator in indicators]
    return page(
        "indicators/index.html",
        form=form,
        view=view,
        tables=tables,
        charts={t.indicator.key: _chart(t, view) for t in tables},
        dimension_label=DIMENSION_LABELS[view.by],
        period_label=PERIOD_LABELS[view.period],
        csv_url=lambda key=None: url_for(
            "indicators.csv_one" if key else "indicators.csv_all",
            **({"key": key} if key else {}),
            **_query(year=view.years[-1], period=view.period, by=view.by),
        ),
    )


def _csv(tables: list[Table], view: View, name: str) -> Response:
    years = str(view.years[0]) if len(view.years) == 1 else f"{view.years[0]}-{view.years[-1]}"
    filename = f"sip-indikatorer-{name}-{years}-{view.period}-{view.by}.csv"
    return Response(
        tables_to_csv(tables),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/indicators.csv")
@login_required
def csv_all() -> Response:
    _form, view, indicators = _filters()
    return _csv([build_table(i, view) for i in indicators], view, "alla")


@bp.route("/indicators/<key>.csv")
@login_required
def csv_one(key: str) -> Response:
    indicator = BY_KEY.get(key)
    if indicator is None:
        abort(404)
    _form, view, _indicators = _filters()
    return _csv([build_table(indicator, view)], view, key)
