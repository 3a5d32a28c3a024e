"""Forms for writing a message on a case and acknowledging one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import InputRequired, Length

from sip_tracker.messages.services import BODY_MAX


class MessageForm(FlaskForm):
    """A new message; `corrects` names the message it corrects (a rättelse)."""

    body = TextAreaField(
        _l("Meddelande"),
        validators=[
            InputRequired(_l("Skriv ett meddelande.")),
            Length(max=BODY_MAX, message=_l("Meddelandet får vara högst %(max)d tecken.")),
        ],
    )
    receipt_requested = BooleanField(_l("Be mottagarna om kvittens"))
    corrects = HiddenField()  # an id (guards.database_id); anything else: no correction


class AcknowledgeForm(FlaskForm):
    """Kvittera: one click, nothing to fill in."""
