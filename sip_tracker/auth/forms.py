"""Login and user administration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from sip_tracker.auth.models import Role
from sip_tracker.auth.passwords import MIN_LENGTH
from sip_tracker.forms import UnitSelectField

ROLE_LABELS = {
    Role.SAMORDNARE: _l("Samordnare"),
    Role.GRANSKARE: _l("Granskare (endast läsa)"),
    Role.ADMINISTRATOR: _l("Administratör"),
}


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-post"),
        validators=[
            DataRequired(_l("Ange din e-postadress.")),
            Email(_l("Ange en giltig e-postadress.")),
        ],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Lösenord"),
        validators=[DataRequired(_l("Ange ditt lösenord."))],
        render_kw={"autocomplete": "current-password"},
    )


class UserForm(FlaskForm):
    name = StringField(_l("Namn"), validators=[DataRequired(_l("Ange ett namn.")), Length(max=120)])
    email = EmailField(
        _l("E-post"),
        validators=[
            DataRequired(_l("Ange en e-postadress.")),
            Email(_l("Ange en giltig e-postadress.")),
        ],
    )
    role = SelectField(_l("Roll"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    unit_id = UnitSelectField(_l("Enhet"))
    reviewed_unit_ids = SelectMultipleField(
        _l("Enheter att granska (endast granskare)"), coerce=int, validators=[Optional()]
    )
    active = BooleanField(_l("Aktivt konto"), default=True)
    password = PasswordField(
        _l("Lösenord"),
        validators=[
            Optional(),
            Length(min=MIN_LENGTH, message=_l("Lösenordet måste ha minst %(min)d tecken.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
