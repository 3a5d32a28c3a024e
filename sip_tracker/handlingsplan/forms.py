"""Forms for the action plan's pages. Forms check shape; services check meaning."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from sip_tracker.forms import MultiCheckboxField, choices, version_field
from sip_tracker.handlingsplan.files import FIRST_YEAR, LAST_YEAR
from sip_tracker.handlingsplan.models import ACTIVITY_STATUS_LABELS, CODE_PATTERN


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def code_field(label: Any, description: Any) -> StringField:
    return StringField(
        label,
        filters=[_strip],
        description=description,
        validators=[
            DataRequired(_l("Ange en kod.")),
            Regexp(
                CODE_PATTERN,
                message=_l(
                    "Koden får bara innehålla bokstäver a–z, siffror, punkt, bindestreck och"
                    " understreck, högst 64 tecken."
                ),
            ),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


def title_field(label: Any) -> StringField:
    return StringField(
        label,
        filters=[_strip],
        validators=[
            DataRequired(_l("Ange en rubrik.")),
            Length(max=255, message=_l("Högst %(max)d tecken.")),
        ],
    )


def description_field() -> TextAreaField:
    return TextAreaField(_l("Beskrivning"), validators=[Optional(), Length(max=10000)])


def position_field() -> IntegerField:
    return IntegerField(
        _l("Ordning"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=999, message=_l("Ange ett tal 0–999."))],
        description=_l("Lägre tal visas först."),
    )


def year_field(label: Any, required: bool) -> IntegerField:
    message = _l("Ange ett år mellan %(min)d och %(max)d.")
    return IntegerField(
        label,
        validators=[
            InputRequired(_l("Ange ett år.")) if required else Optional(),
            NumberRange(min=FIRST_YEAR, max=LAST_YEAR, message=message),
        ],
    )


class ActivityForm(FlaskForm):
    identifier = code_field(
        _l("Id"),
        _l("Ett stabilt id, till exempel 2025-sip-uppfoljning. Det kan inte ändras senare."),
    )
    title = title_field(_l("Rubrik"))
    description = description_field()
    year_from = year_field(_l("År"), required=True)
    year_to = year_field(_l("Till och med år"), required=False)
    malomrade_ids = MultiCheckboxField(
        _l("Målområden"), coerce=int, invalid_choice_message=_l("Välj målområden i listan.")
    )
    sakomrade_codes = MultiCheckboxField(
        _l("Sakområden"), invalid_choice_message=_l("Välj sakområden i listan.")
    )
    responsible_group = StringField(
        _l("Ansvarig grupp"), filters=[_strip], validators=[Optional(), Length(max=255)]
    )
    status = SelectField(
        _l("Status"),
        choices=choices((s.value, label) for s, label in ACTIVITY_STATUS_LABELS.items()),
    )
    lock_version = version_field()  # removed from the form of a new activity

    def validate_year_to(self, field: Field) -> None:
        first: Any = self.year_from
        if field.data is not None and first.data is not None and field.data < first.data:
            raise ValidationError(_l("Det sista året kan inte komma före det första."))


class MalomradeForm(FlaskForm):
    code = code_field(_l("Kod"), _l("Ett stabilt id. Det kan inte ändras senare."))
    title = title_field(_l("Rubrik"))
    description = description_field()
    position = position_field()
    lock_version = version_field()  # removed from the form of a new one


class InriktningForm(FlaskForm):
    malomrade_id = SelectField(
        _l("Målområde"), coerce=int, invalid_choice_message=_l("Välj ett målområde i listan.")
    )
    code = code_field(_l("Kod"), _l("Ett stabilt id. Det kan inte ändras senare."))
    title = title_field(_l("Rubrik"))
    description = description_field()
    position = position_field()
    lock_version = version_field()  # removed from the form of a new one


class SakomradeForm(FlaskForm):
    code = code_field(
        _l("Kod"),
        _l(
            "Ett stabilt id. Det kan inte ändras senare. Ärendens sakområden har koderna"
            " barn_unga, psykisk_ohalsa_beroende, funktionsnedsattning och aldre."
        ),
    )
    title = title_field(_l("Rubrik"))
    description = description_field()
    position = position_field()
    lock_version = version_field()  # removed from the form of a new one


class CaseActivitiesForm(FlaskForm):
    activity_ids = MultiCheckboxField(
        _l("Aktiviteter"),
        coerce=int,
        invalid_choice_message=_l(
            "Välj bland aktiviteterna i listan. En avslutad eller avbruten aktivitet kan inte"
            " kopplas till fler ärenden."
        ),
    )
    lock_version = version_field()
