"""Login and user administration forms."""

from __future__ import annotations

from collections.abc import Collection

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from sip_tracker.auth.models import Role
from sip_tracker.db import db
from sip_tracker.forms import version_field
from sip_tracker.organizations.models import Huvudman, Unit

ROLE_LABELS = {
    Role.SAMORDNARE: _l("Samordnare"),
    Role.GRANSKARE: _l("Granskare (endast läsa)"),
    Role.ADMINISTRATOR: _l("Administratör"),
}


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def grouped_unit_choices(keep: Collection[int] = ()) -> list[SelectChoice]:
    """Active units, grouped by huvudman with the region first, plus the inactive ones in keep.

    Keeping a user's current units lets an administrator edit the user after a unit closed.
    """
    query = (
        select(Unit)
        .join(Unit.huvudman)
        .where(or_(Unit.active.is_(True), Unit.id.in_(keep)))
        .order_by(Huvudman.kind.desc(), Huvudman.name, Unit.name)
    )
    return [
        SelectChoice(
            value=str(unit.id),
            label=unit.name if unit.active else _l("%(name)s (inaktiv)", name=unit.name),
            optgroup=unit.huvudman.name,
        )
        for unit in db.session.scalars(query)
    ]


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-post"),
        filters=[_strip],
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
    """An existing account: the email is the login name and does not change."""

    name = StringField(
        _l("Namn"),
        filters=[_strip],
        validators=[DataRequired(_l("Ange ett namn.")), Length(max=120)],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(
        _l("Roll"),
        choices=[
            SelectChoice(value=role.value, label=label) for role, label in ROLE_LABELS.items()
        ],
    )
    unit_id = SelectField(
        _l("Enhet"), coerce=int, invalid_choice_message=_l("Välj en enhet i listan.")
    )
    reviewed_unit_ids = SelectMultipleField(
        _l("Enheter att granska (endast granskare)"),
        coerce=int,
        validators=[Optional()],
        invalid_choice_message=_l("Välj enheter i listan."),
    )
    active = BooleanField(_l("Aktivt konto"), default=True)
    # What makes a password acceptable is the service's rule (auth/passwords.py).
    password = PasswordField(
        _l("Nytt lösenord"),
        validators=[Optional()],
        render_kw={"autocomplete": "new-password"},
    )
    lock_version = version_field()

    def load_choices(self, keep: Collection[int] = ()) -> None:
        choices = grouped_unit_choices(keep)
        self.unit_id.choices = choices
        self.reviewed_unit_ids.choices = choices


class NewUserForm(UserForm):
    lock_version = None  # a new account has no version to compare
    email = EmailField(
        _l("E-post"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Ange en e-postadress.")),
            Email(_l("Ange en giltig e-postadress.")),
            Length(max=254),
        ],
        render_kw={"autocomplete": "off"},
    )
    password = PasswordField(
        _l("Lösenord"),
        validators=[DataRequired(_l("Ange ett lösenord för det nya kontot."))],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordChangeForm(FlaskForm):
    """A user's own new password, confirmed by the current one."""

    current_password = PasswordField(
        _l("Nuvarande lösenord"),
        validators=[DataRequired(_l("Ange ditt nuvarande lösenord."))],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("Nytt lösenord"),
        validators=[DataRequired(_l("Ange ett nytt lösenord."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Upprepa det nya lösenordet"),
        validators=[
            DataRequired(_l("Skriv det nya lösenordet en gång till.")),
            EqualTo("password", _l("Lösenorden är inte lika.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class NotificationSettingsForm(FlaskForm):
    """A user's own choice of e-mail for new inbox items."""

    email_notifications = BooleanField(_l("E-post när något nytt kommer till min inkorg"))
