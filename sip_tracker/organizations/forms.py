"""The administrators' unit form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from sip_tracker.db import db
from sip_tracker.forms import version_field
from sip_tracker.organizations.models import Huvudman, HuvudmanKind

# Loose on purpose: HSA-ids are "SE", an organisationsnummer and a local suffix, but the
# suffixes vary between huvudmän. The unique check is the service's.
HSA_ID_SHAPE = r"^SE[0-9A-Za-z-]{4,60}$"


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def huvudman_choices() -> list[SelectChoice]:
    """The region first, then the kommuner by name, with their kommunkod."""
    query = select(Huvudman).order_by(Huvudman.kind.desc(), Huvudman.name)
    return [
        SelectChoice(
            value=str(h.id),
            label=h.name
            if h.kind == HuvudmanKind.REGION or not h.kommunkod
            else f"{h.name} ({h.kommunkod})",
        )
        for h in db.session.scalars(query)
    ]


class UnitForm(FlaskForm):
    huvudman_id = SelectField(
        _l("Huvudman"), coerce=int, invalid_choice_message=_l("Välj en huvudman i listan.")
    )
    name = StringField(
        _l("Enhetens namn"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Ange enhetens namn.")),
            Length(max=160, message=_l("Namnet får ha högst %(max)d tecken.")),
        ],
    )
    hsa_id = StringField(
        _l("HSA-id"),
        filters=[_strip],
        validators=[
            Optional(),
            Regexp(
                HSA_ID_SHAPE,
                message=_l(
                    "Ett HSA-id börjar med SE följt av 4–60 bokstäver, siffror eller"
                    " bindestreck, till exempel SE2321000016-A001."
                ),
            ),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    # Where calendar invitations (.ics ATTENDEE) reach the unit: a shared mailbox, not a person's.
    functional_mailbox = EmailField(
        _l("Funktionsbrevlåda"),
        filters=[_strip],
        validators=[
            Optional(),
            Email(_l("Ange en giltig e-postadress.")),
            Length(max=254, message=_l("Högst 254 tecken.")),
        ],
        render_kw={"autocomplete": "off"},
    )
    active = BooleanField(_l("Aktiv enhet"), default=True)
    lock_version = version_field()  # removed from the form of a new unit

    def load_choices(self) -> None:
        self.huvudman_id.choices = huvudman_choices()
