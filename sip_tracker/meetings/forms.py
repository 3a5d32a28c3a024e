"""Forms for scheduling a meeting, recording answers, and recording the meeting held."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    AnyOf,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from sip_tracker.cases.codes import RESPONSE_LABELS, Response
from sip_tracker.forms import MultiCheckboxField, version_field
from sip_tracker.meetings.models import Invitation


class MeetingForm(FlaskForm):
    """When and where the meeting is, and whom to call (Stockholm wall-clock time)."""

    date = DateField(_l("Datum"), validators=[InputRequired(_l("Ange mötets datum."))])
    time = TimeField(_l("Starttid"), validators=[InputRequired(_l("Ange när mötet börjar."))])
    duration_minutes = IntegerField(
        _l("Längd i minuter"),
        default=60,
        validators=[InputRequired(_l("Ange mötets längd i minuter."))],
        render_kw={"min": 15, "max": 480, "step": 5},
    )
    place = StringField(
        _l("Plats"),
        validators=[Optional(), Length(max=255, message=_l("Högst 255 tecken."))],
    )
    video_link = URLField(
        _l("Länk till digitalt möte"),
        validators=[
            Optional(),
            Length(max=500, message=_l("Högst 500 tecken.")),
            URL(message=_l("Ange en fullständig länk, till exempel https://mote.example.se/123.")),
        ],
    )
    participant_ids = MultiCheckboxField(_l("Deltagare att kalla"), coerce=int)
    # Shown only when the mötesledare already leads another meeting at the time.
    confirm_clash = BooleanField(_l("Spara ändå"))
    lock_version = version_field()  # removed from the form of a new meeting

    def validate_duration_minutes(self, field: Field) -> None:
        # Not NumberRange: text that is no number already has its own message.
        if field.data is not None and not 15 <= field.data <= 480:
            raise ValidationError(_l("Ange en längd mellan 15 och 480 minuter."))

    def validate_place(self, field: Field) -> None:
        if not (field.data or "").strip() and not (self.video_link.data or "").strip():
            raise ValidationError(_l("Ange en plats eller en länk till ett digitalt möte."))

    def validate_participant_ids(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_l("Välj minst en deltagare att kalla."))


class KallelseForm(FlaskForm):
    """The button that records the kallelse as sent, for the meeting as the user saw it."""

    lock_version = version_field()


RESPONSE_CHOICES = [
    SelectChoice(response.value, label) for response, label in RESPONSE_LABELS.items()
]


class ResponsesForm(FlaskForm):
    """One answer per invitation; the select fields are added per meeting."""

    lock_version = version_field()

    @staticmethod
    def field_name(invitation: Invitation) -> str:
        return f"response_{invitation.id}"

    @classmethod
    def for_invitations(cls, invitations: Sequence[Invitation], **kwargs: Any) -> ResponsesForm:
        """Build the form with a select per invitation, defaulting to the recorded answer."""

        class Form(cls):  # type: ignore[valid-type,misc]
            pass

        for invitation in invitations:
            setattr(
                Form,
                cls.field_name(invitation),
                SelectField(
                    invitation.participant.display_name,
                    choices=RESPONSE_CHOICES,
                    default=invitation.response.value,
                ),
            )
        form: ResponsesForm = Form(**kwargs)
        return form

    def answer(self, invitation: Invitation) -> Response:
        return Response(self[self.field_name(invitation)].data)


ANSWER_CHOICES = [
    SelectChoice(response.value, RESPONSE_LABELS[response])
    for response in (Response.KOMMER, Response.KOMMER_INTE, Response.ANNAN_TID)
]


class AnswerForm(FlaskForm):
    """A unit's own answer to the kallelse: who comes, or why not, or another time."""

    response = RadioField(
        _l("Svar"),
        choices=ANSWER_CHOICES,
        validate_choice=False,
        validators=[
            InputRequired(_l("Välj ett svar.")),
            AnyOf([c.value for c in ANSWER_CHOICES], message=_l("Välj ett svar.")),
        ],
    )
    attendee_names = StringField(
        _l("Vem kommer?"),
        validators=[Optional(), Length(max=255, message=_l("Högst 255 tecken."))],
    )
    proposed_date = DateField(_l("Föreslaget datum"), validators=[Optional()])
    proposed_time = TimeField(_l("Föreslagen tid"), validators=[Optional()])
    comment = TextAreaField(
        _l("Kommentar"),
        validators=[Optional(), Length(max=2000, message=_l("Högst 2 000 tecken."))],
    )

    def validate(self, extra_validators: Any = None) -> bool:
        # Here, not in validate_<field>: Optional() stops those of an empty field.
        valid = super().validate(extra_validators)
        if (
            self.response.data == Response.KOMMER.value
            and not (self.attendee_names.data or "").strip()
        ):
            self.attendee_names.errors = [
                *self.attendee_names.errors,
                _l("Ange vem eller vilka som kommer."),
            ]
            valid = False
        if self.response.data == Response.ANNAN_TID.value:
            if self.proposed_date.data is None and not self.proposed_date.errors:
                self.proposed_date.errors = [_l("Ange vilken dag ni föreslår.")]
                valid = False
            if self.proposed_time.data is None and not self.proposed_time.errors:
                self.proposed_time.errors = [_l("Ange vilken tid ni föreslår.")]
                valid = False
        return valid


class CancelForm(FlaskForm):
    """Cancelling a meeting: the reason goes to everyone invited."""

    reason = TextAreaField(
        _l("Varför ställs mötet in?"),
        validators=[
            InputRequired(_l("Ange varför mötet ställs in.")),
            Length(max=2000, message=_l("Högst 2 000 tecken.")),
        ],
    )
    lock_version = version_field()


class HeldForm(FlaskForm):
    """The meeting as held: when, who came, and notes."""

    held_date = DateField(_l("Datum"), validators=[InputRequired(_l("Ange datum för mötet."))])
    held_time = TimeField(_l("Starttid"), validators=[InputRequired(_l("Ange när mötet började."))])
    # The choice is checked by AnyOf, so an empty answer gets one message, not two.
    person_attended = RadioField(
        _l("Deltog personen själv?"),
        choices=[SelectChoice("ja", _l("Ja")), SelectChoice("nej", _l("Nej"))],
        validate_choice=False,
        validators=[
            InputRequired(_l("Ange om personen deltog.")),
            AnyOf(["ja", "nej"], message=_l("Ange om personen deltog.")),
        ],
    )
    attended = MultiCheckboxField(_l("Vilka av de kallade deltog?"), coerce=int)
    notes = TextAreaField(
        _l("Anteckningar från mötet"),
        validators=[Optional(), Length(max=20000, message=_l("Högst 20 000 tecken."))],
    )
    lock_version = version_field()
