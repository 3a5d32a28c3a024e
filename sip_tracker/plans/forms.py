"""Forms for the plan draft and its follow-ups: they check shape, the services check meaning."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from sip_tracker.cases.codes import OUTCOME_LABELS
from sip_tracker.forms import huvudman_choices, optional_int, unit_choices

BLANK_ROWS = 2  # empty rows offered after the filled ones, so no script is needed to add one


class RowForm(Form):
    """A repeated row inside a FlaskForm: no CSRF token of its own, Swedish messages."""

    class Meta:
        def get_translations(self, form: Any) -> Any:
            return translations


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class InsatsForm(RowForm):
    description = TextAreaField(_l("Insats"), validators=[Length(max=2000)], render_kw={"rows": 2})
    huvudman_id = SelectField(
        _l("Ansvarig huvudman"),
        coerce=optional_int,
        invalid_choice_message=_l("Välj en huvudman i listan."),
    )
    unit_id = SelectField(
        _l("Ansvarig enhet"),
        coerce=optional_int,
        invalid_choice_message=_l("Välj en enhet i listan."),
    )
    starts_on = DateField(_l("Startdatum"), validators=[Optional()])
    ends_on = DateField(_l("Slutdatum"), validators=[Optional()])

    def is_blank(self) -> bool:
        return all(_blank(f.data) for f in self)

    def validate_description(self, field: Any) -> None:
        others = (self.huvudman_id, self.unit_id, self.starts_on, self.ends_on)
        if _blank(field.data) and any(not _blank(f.data) for f in others):
            raise ValidationError(_l("Beskriv insatsen, eller töm raden."))

    def validate_huvudman_id(self, field: Any) -> None:
        if not _blank(self.description.data) and field.data is None and self.unit_id.data is None:
            raise ValidationError(_l("Välj vilken huvudman som ansvarar för insatsen."))

    def validate_ends_on(self, field: Any) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("Slutdatum kan inte ligga före startdatum."))


class AtgardForm(RowForm):
    actor = StringField(_l("Vem gör åtgärden"), validators=[Length(max=160)])
    description = TextAreaField(_l("Åtgärd"), validators=[Length(max=2000)], render_kw={"rows": 2})

    def is_blank(self) -> bool:
        return all(_blank(f.data) for f in self)

    def validate_actor(self, field: Any) -> None:
        if _blank(field.data) and not _blank(self.description.data):
            raise ValidationError(_l("Ange vem som gör åtgärden."))

    def validate_description(self, field: Any) -> None:
        if _blank(field.data) and not _blank(self.actor.data):
            raise ValidationError(_l("Beskriv åtgärden, eller töm raden."))


class PlanForm(FlaskForm):
    """The draft: the four parts the law requires, the person's goals, and the follow-up."""

    # The plan's version counter when the form was loaded: a later save by someone else wins
    # only if this user sees it first.
    lock_version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    goals = FieldList(
        TextAreaField(_l("Mål"), validators=[Length(max=2000)], render_kw={"rows": 2}),
        min_entries=1,
        max_entries=50,
    )
    insatser = FieldList(FormField(InsatsForm), min_entries=1, max_entries=50)
    atgarder = FieldList(FormField(AtgardForm), min_entries=1, max_entries=50)
    lead_unit_id = SelectField(
        _l("Enhet med huvudansvar"),
        coerce=optional_int,
        invalid_choice_message=_l("Välj en enhet i listan."),
    )
    lead_person_name = StringField(_l("Namn på huvudansvarig person"), [Length(max=160)])
    follow_up_method = TextAreaField(_l("Hur planen följs upp"), [Length(max=4000)])
    follow_up_on = DateField(_l("Datum för uppföljning"), validators=[Optional()])

    def load_choices(self) -> None:
        """Fill the selects of every row, querying the units and huvudmän once."""
        self._units = unit_choices(blank=_l("Välj enhet"))
        self._huvudman = huvudman_choices(blank=_l("Välj huvudman"))
        self.lead_unit_id.choices = self._units
        for row in self.insatser:
            self._load_row(row.form)

    def _load_row(self, row: InsatsForm) -> None:
        row.huvudman_id.choices = self._huvudman
        row.unit_id.choices = self._units

    def add_blank_rows(self) -> None:
        """End every list with BLANK_ROWS empty rows, keeping what the user wrote."""
        _pad(self.goals, lambda e: _blank(e.data))
        for entry in _pad(self.insatser, lambda e: e.form.is_blank()):
            self._load_row(entry.form)
        _pad(self.atgarder, lambda e: e.form.is_blank())

    def validate_lead_unit_id(self, field: Any) -> None:
        if field.data is None and not _blank(self.lead_person_name.data):
            raise ValidationError(_l("Välj vilken enhet som har huvudansvaret."))

    def validate_lead_person_name(self, field: Any) -> None:
        if _blank(field.data) and self.lead_unit_id.data is not None:
            raise ValidationError(_l("Ange namnet på den som har huvudansvaret."))


def _pad(entries: FieldList, is_blank: Any) -> list[Any]:
    trailing = 0
    for entry in reversed(entries.entries):
        if not is_blank(entry):
            break
        trailing += 1
    added = []
    while trailing < BLANK_ROWS and len(entries.entries) < (entries.max_entries or 1000):
        added.append(entries.append_entry())
        trailing += 1
    return added


OUTCOME_CHOICES = [
    SelectChoice("", _l("Välj bedömning")),
    *(SelectChoice(outcome.value, label) for outcome, label in OUTCOME_LABELS.items()),
]


class EvaluationForm(RowForm):
    outcome = SelectField(
        _l("Bedömning"),
        choices=OUTCOME_CHOICES,
        validators=[DataRequired(_l("Välj en bedömning."))],
        invalid_choice_message=_l("Välj en bedömning i listan."),
    )
    comment = TextAreaField(_l("Kommentar"), [Length(max=4000)], render_kw={"rows": 2})


class FollowUpForm(FlaskForm):
    """How each goal and insats of the current version went, and when to meet next."""

    # The number of the plan version the rows were drawn from: if the plan is established
    # anew meanwhile, the rows would no longer match its goals and insatser.
    plan_version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    held_on = DateField(
        _l("Datum för uppföljningen"),
        validators=[DataRequired(_l("Ange när uppföljningen hölls."))],
    )
    evaluations = FieldList(FormField(EvaluationForm), max_entries=200)
    notes = TextAreaField(_l("Anteckningar"), [Length(max=8000)])
    next_follow_up_on = DateField(
        _l("Nästa uppföljning"),
        validators=[DataRequired(_l("Ange datum för nästa uppföljning, eller avsluta ärendet."))],
    )
