"""The indicator page's choices, read from the query string."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField

from sip_tracker.forms import choices, optional_choice
from sip_tracker.indicators.definitions import INDICATORS
from sip_tracker.indicators.report import DIMENSION_LABELS, DIMENSIONS, PERIOD_LABELS, PERIODS


class IndicatorFilterForm(Form):
    year = SelectField(_l("År"), coerce=int, validators=[optional_choice()])
    period = SelectField(
        _l("Per"),
        choices=choices((p, PERIOD_LABELS[p]) for p in PERIODS),
        default="month",
        validators=[optional_choice()],
    )
    by = SelectField(
        _l("Uppdelat på"),
        choices=choices((d, DIMENSION_LABELS[d]) for d in DIMENSIONS),
        default="none",
        validators=[optional_choice()],
    )
    indicator = SelectField(
        _l("Indikator"),
        choices=choices(((i.key, i.title) for i in INDICATORS), _l("Alla indikatorer")),
        default="",
        validators=[optional_choice()],
    )

    def load_years(self, years: list[int]) -> None:
        self.year.choices = choices((y, str(y)) for y in reversed(years))
