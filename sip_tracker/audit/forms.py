"""Forms of the log review: the filter, the monthly sample, a review, a log extract."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    MonthField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from sip_tracker.audit.models import ReviewOutcome
from sip_tracker.forms import choices, optional_int
from sip_tracker.people.identifiers import InvalidIdentifier, parse_identifier

MAX_SAMPLE = 500

IDENTIFIER_LABEL = _l("Personnummer eller samordningsnummer")
IDENTIFIER_INPUT = {"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"}


def _valid_identifier(form: FlaskForm, field: Field) -> None:
    try:
        parse_identifier(field.data or "")
    except InvalidIdentifier as error:
        raise ValidationError(str(error)) from None


class LogFilterForm(FlaskForm):
    """Which rows to show. Sent with POST, so no personnummer ends up in a URL."""

    personnummer = StringField(
        IDENTIFIER_LABEL, validators=[Optional(), _valid_identifier], render_kw=IDENTIFIER_INPUT
    )
    user = StringField(
        _l("Användarens e-postadress"),
        validators=[Optional(), Length(max=254, message=_l("Högst 254 tecken."))],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    unit = SelectField(_l("Enhet"), coerce=optional_int, validators=[Optional()])
    first_day = DateField(_l("Från och med"), validators=[Optional()])
    last_day = DateField(_l("Till och med"), validators=[Optional()])
    only_flagged = BooleanField(_l("Visa bara flaggade händelser"))
    with_log_reads = BooleanField(_l("Visa också läsningar av loggen"))

    def validate_last_day(self, field: Field) -> None:
        if field.data and self.first_day.data and field.data < self.first_day.data:
            raise ValidationError(_l("Slutdatumet kan inte vara före startdatumet."))


class SampleForm(FlaskForm):
    month = MonthField(_l("Månad"), validators=[InputRequired(_l("Ange månad."))])
    size = IntegerField(
        _l("Antal händelser"),
        validators=[InputRequired(_l("Ange hur många händelser som ska dras."))],
        default=20,
    )

    def validate_size(self, field: Field) -> None:
        # Not NumberRange: text that is no number already has its own message.
        if field.data is not None and not 1 <= field.data <= MAX_SAMPLE:
            raise ValidationError(_l("Ange ett antal mellan 1 och %(n)d.", n=MAX_SAMPLE))


class ReviewForm(FlaskForm):
    outcome = RadioField(
        _l("Bedömning"),
        choices=choices(
            [
                (ReviewOutcome.OK.value, _l("OK: åtkomsten var befogad")),
                (ReviewOutcome.AVVIKELSE.value, _l("Avvikelse")),
            ]
        ),
        validators=[InputRequired(_l("Välj OK eller avvikelse."))],
    )
    note = TextAreaField(
        _l("Anteckning"),
        validators=[Optional(), Length(max=2000, message=_l("Högst 2 000 tecken."))],
    )


class ExtractForm(FlaskForm):
    personnummer = StringField(
        IDENTIFIER_LABEL,
        validators=[
            InputRequired(_l("Ange ett personnummer eller samordningsnummer.")),
            _valid_identifier,
        ],
        render_kw=IDENTIFIER_INPUT,
    )
