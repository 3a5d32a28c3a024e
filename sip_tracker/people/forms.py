"""Forms about people: the person's identity and contact details, and related people."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, Field, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from sip_tracker.forms import choices
from sip_tracker.people.identifiers import InvalidIdentifier, parse_identifier
from sip_tracker.people.models import RelationKind

RELATION_LABELS = {
    RelationKind.VARDNADSHAVARE: _l("Vårdnadshavare"),
    RelationKind.NARSTAENDE: _l("Närstående"),
}


def valid_identifier(form: Any, field: Field) -> None:
    """Accept a personnummer or samordningsnummer in any common form; say what is wrong."""
    if not field.data:
        return
    try:
        parse_identifier(field.data)
    except InvalidIdentifier as error:
        raise ValidationError(str(error)) from None


class PersonFields:
    """The person's fields, mixed into forms that register a person."""

    given_name = StringField(
        _l("Förnamn"), validators=[DataRequired(_l("Ange förnamn.")), Length(max=120)]
    )
    family_name = StringField(
        _l("Efternamn"), validators=[DataRequired(_l("Ange efternamn.")), Length(max=120)]
    )
    phone = StringField(_l("Telefon"), validators=[Optional(), Length(max=40)])
    email = EmailField(
        _l("E-post"), validators=[Optional(), Email(_l("Ange en giltig e-postadress."))]
    )
    address = TextAreaField(_l("Adress"), validators=[Optional(), Length(max=500)])


def identifier_field() -> StringField:
    return StringField(
        _l("Personnummer eller samordningsnummer"),
        validators=[
            DataRequired(_l("Ange personnummer eller samordningsnummer.")),
            valid_identifier,
        ],
        description=_l(
            "Till exempel 19121212-1212 eller 121212-1212. Skriv + för den som fyllt 100."
        ),
        render_kw={"autocomplete": "off", "inputmode": "numeric"},
    )


class RelatedPersonFields:
    kind = SelectField(
        _l("Relation till personen"),
        choices=choices((k.value, label) for k, label in RELATION_LABELS.items()),
        default=RelationKind.NARSTAENDE.value,
    )
    name = StringField(_l("Namn"), validators=[DataRequired(_l("Ange ett namn.")), Length(max=160)])
    relation = StringField(
        _l("Relation i ord"),
        validators=[Optional(), Length(max=80)],
        description=_l("Till exempel mamma, sambo, god man."),
    )
    phone = StringField(_l("Telefon"), validators=[Optional(), Length(max=40)])
    email = EmailField(
        _l("E-post"), validators=[Optional(), Email(_l("Ange en giltig e-postadress."))]
    )
    address = TextAreaField(_l("Adress"), validators=[Optional(), Length(max=500)])
