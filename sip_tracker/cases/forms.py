"""Forms of the case pages. Forms check shape; services check meaning."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    Field,
    FieldList,
    Form,
    FormField,
    RadioField,
    SearchField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from sip_tracker import clock
from sip_tracker.cases.codes import (
    CASE_ROLE_LABELS,
    CONSENT_GIVER_LABELS,
    CONSENT_METHOD_LABELS,
    NEED_AREA_LABELS,
    ORIGIN_LABELS,
    PARTICIPANT_KIND_LABELS,
    SAKOMRADE_LABELS,
    STAGE_LABELS,
    CaseRoleKind,
    Origin,
    ParticipantKind,
)
from sip_tracker.forms import (
    MultiCheckboxField,
    UnitSelectField,
    choices,
    optional_choice,
    optional_int,
    version_field,
)
from sip_tracker.people.forms import PersonFields, identifier_field


def _choices(labels: dict[Any, Any]) -> list[SelectChoice]:
    return choices((code.value, label) for code, label in labels.items())


def not_in_future(form: Any, field: Field) -> None:
    if field.data and field.data > clock.today():
        raise ValidationError(_l("Datumet kan inte ligga i framtiden."))


class CaseFields:
    origin = RadioField(
        _l("Anledning till SIP"),
        choices=_choices(ORIGIN_LABELS),
        default=Origin.ANNAN.value,
        validators=[InputRequired(_l("Välj anledning."))],
    )
    utskrivningsklar_on = DateField(
        _l("Utskrivningsklar datum"),
        validators=[Optional(), not_in_future],
        description=_l("Vid utskrivning ska kallelsen skickas inom tre dagar från detta datum."),
    )
    sakomraden = MultiCheckboxField(
        _l("Sakområde"),
        choices=_choices(SAKOMRADE_LABELS),
        validators=[DataRequired(_l("Välj minst ett sakområde."))],
    )
    need_description = TextAreaField(
        _l("Beskriv behovet"),
        validators=[DataRequired(_l("Beskriv varför en SIP behövs.")), Length(max=5000)],
    )

    def validate_utskrivningsklar_on(self, field: Field) -> None:
        origin: Any = self.origin
        if origin.data == Origin.UTSKRIVNING.value and not field.data:
            raise ValidationError(_l("Ange datum för utskrivningsklar."))


class NewCaseForm(FlaskForm, PersonFields, CaseFields):
    identifier = identifier_field()


class CaseDetailsForm(FlaskForm, CaseFields):
    lock_version = version_field()


class ConsentForm(FlaskForm):
    given_by = RadioField(
        _l("Vem lämnade samtycket?"),
        choices=_choices(CONSENT_GIVER_LABELS),
        validators=[InputRequired(_l("Välj vem som lämnade samtycket."))],
    )
    guardian_id = SelectField(_l("Vårdnadshavare"), coerce=optional_int, validators=[Optional()])
    method = RadioField(
        _l("Hur lämnades samtycket?"),
        choices=_choices(CONSENT_METHOD_LABELS),
        validators=[InputRequired(_l("Välj skriftligt eller muntligt."))],
    )
    given_on = DateField(
        _l("Datum"),
        validators=[InputRequired(_l("Ange datum för samtycket.")), not_in_future],
        default=clock.today,
    )
    unit_ids = SelectMultipleField(
        _l("Enheter som samtycket omfattar"),
        coerce=int,
        validators=[DataRequired(_l("Välj minst en enhet."))],
    )
    other_organisations = TextAreaField(
        _l("Andra aktörer som samtycket omfattar"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Till exempel skolan eller Försäkringskassan."),
    )
    exclusions = TextAreaField(
        _l("Undantag: vad eller vem samtycket inte gäller"),
        validators=[Optional(), Length(max=2000)],
    )


class WithdrawConsentForm(FlaskForm):
    withdrawn_on = DateField(
        _l("Datum då samtycket återkallades"),
        validators=[InputRequired(_l("Ange datum.")), not_in_future],
        default=clock.today,
    )
    note = TextAreaField(_l("Kommentar"), validators=[Optional(), Length(max=2000)])


class NeedForm(Form):
    area = SelectField(_l("Livsområde"), choices=_choices(NEED_AREA_LABELS))
    description = TextAreaField(_l("Behov"), validators=[Optional(), Length(max=5000)])
    current_support = TextAreaField(
        _l("Stöd som finns i dag"), validators=[Optional(), Length(max=5000)]
    )


class KartlaggningForm(FlaskForm):
    what_matters = TextAreaField(
        _l("Vad är viktigt för dig?"),
        validators=[Optional(), Length(max=10000)],
        description=_l("Skriv med personens egna ord."),
    )
    needs = FieldList(FormField(NeedForm), min_entries=1)
    lock_version = version_field()


class ParticipantForm(FlaskForm):
    kind = RadioField(
        _l("Typ av deltagare"),
        choices=_choices(PARTICIPANT_KIND_LABELS),
        default=ParticipantKind.ENHET.value,
        validators=[InputRequired(_l("Välj typ av deltagare."))],
    )
    unit_id = UnitSelectField(_l("Enhet"), coerce=optional_int, validators=[Optional()])
    related_person_id = SelectField(_l("Närstående"), coerce=optional_int, validators=[Optional()])
    name = StringField(_l("Namn på kontaktperson"), validators=[Optional(), Length(max=160)])
    organisation = StringField(
        _l("Organisation (för annan aktör)"), validators=[Optional(), Length(max=160)]
    )
    email = EmailField(
        _l("E-post"), validators=[Optional(), Email(_l("Ange en giltig e-postadress."))]
    )
    phone = StringField(_l("Telefon"), validators=[Optional(), Length(max=40)])


class RoleForm(FlaskForm):
    kind = SelectField(
        _l("Roll"),
        choices=choices(
            (k.value, CASE_ROLE_LABELS[k])
            for k in (CaseRoleKind.MOTESLEDARE, CaseRoleKind.HUVUDANSVARIG)
        ),
    )
    # A user of a unit taking part (the view loads them, grouped by unit) …
    user_id = SelectField(
        _l("Användare med konto"), coerce=optional_int, validators=[optional_choice()]
    )
    # … or, for a unit without accounts, the unit and the person's name.
    unit_id = UnitSelectField(_l("Enhet"), coerce=optional_int, validators=[optional_choice()])
    person_name = StringField(_l("Namn"), validators=[Length(max=160)])
    lock_version = version_field()


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Skäl"), validators=[DataRequired(_l("Ange ett skäl.")), Length(max=2000)]
    )


class OverviewFilterForm(Form):
    """The overview's filters, read from the query string."""

    q = SearchField(_l("Sök på namn eller personnummer"), validators=[Optional(), Length(max=80)])
    stage = SelectField(
        _l("Skede"),
        choices=choices(((c.value, label) for c, label in STAGE_LABELS.items()), _l("Alla skeden")),
        validators=[optional_choice()],
    )
    sakomrade = SelectField(
        _l("Sakområde"),
        choices=choices(
            ((c.value, label) for c, label in SAKOMRADE_LABELS.items()), _l("Alla sakområden")
        ),
        validators=[optional_choice()],
    )
    kommun = SelectField(_l("Kommun"), validators=[optional_choice()])
    activity = SelectField(_l("Aktivitet i handlingsplanen"), validators=[optional_choice()])
    malomrade = SelectField(_l("Målområde"), validators=[optional_choice()])
    due = SelectField(
        _l("Tidsfrist"),
        choices=choices(
            [("", _l("Alla")), ("overdue", _l("Försenade")), ("week", _l("Inom 7 dagar"))]
        ),
        validators=[optional_choice()],
    )
    status = SelectField(
        _l("Status"),
        choices=choices(
            [("open", _l("Pågående")), ("closed", _l("Avslutade")), ("all", _l("Alla"))]
        ),
        default="open",
        validators=[optional_choice()],
    )
