"""Form building blocks shared by the features."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from wtforms import IntegerField, SelectChoice, SelectField, SelectMultipleField, widgets
from wtforms.validators import InputRequired, Optional

from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.organizations.models import Huvudman, Unit


class MultiCheckboxField(SelectMultipleField):
    """Several choices shown as checkboxes in a fieldset."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def version_field() -> IntegerField:
    """The version of the record the form was loaded from (see versions.py), sent back on
    save so that a save over a colleague's newer one is refused."""
    return IntegerField(
        _l("Version"),
        widget=widgets.HiddenInput(),
        validators=[InputRequired(_l("Formuläret saknar version: läs in sidan på nytt."))],
    )


def choices(pairs: Iterable[tuple[Any, Any]], blank: Any = None) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices, optionally after an empty first choice."""
    result = [SelectChoice(value=value, label=label) for value, label in pairs]
    if blank is not None:
        result.insert(0, SelectChoice(value="", label=blank))
    return result


def unit_choices(active_only: bool = True, blank: Any = None) -> list[SelectChoice]:
    """Units grouped by huvudman, the region first, for a <select> with optgroups."""
    query = (
        select(Unit)
        .join(Unit.huvudman)
        .options(contains_eager(Unit.huvudman))
        .order_by(Huvudman.kind.desc(), Huvudman.name, Unit.name)
    )
    if active_only:
        query = query.where(Unit.active.is_(True))
    result = [
        SelectChoice(value=unit.id, label=unit.name, optgroup=unit.huvudman.name)
        for unit in db.session.scalars(query)
    ]
    if blank is not None:
        result.insert(0, SelectChoice(value="", label=blank))
    return result


def huvudman_choices(blank: Any = None) -> list[SelectChoice]:
    query = select(Huvudman).order_by(Huvudman.kind.desc(), Huvudman.name)
    return choices(((h.id, h.name) for h in db.session.scalars(query)), blank)


class UnitSelectField(SelectField):
    """A unit chosen from all active units, grouped by huvudman."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", int)
        super().__init__(label or _l("Enhet"), validators, **kwargs)

    def load(self, blank: str | None = None) -> None:
        self.choices = unit_choices(blank=blank)


def optional_choice() -> Optional:
    """Optional for a select: no value is no choice, and whitespace is not a choice.

    WTForms' Optional() takes " " for empty too and clears the select's "not a valid
    choice" with it, so the view would get " " as the value.
    """
    return Optional(strip_whitespace=False)


def optional_int(value: Any) -> int | None:
    """Coerce for selects with an empty choice."""
    if value in (None, "", "None"):
        return None
    return int(value)


def show_error(form: Any, error: DomainError, default_field: str | None = None) -> None:
    """Put a service's refusal next to the field it concerns, or above the form."""
    name = error.field or default_field
    if name and name in form:
        form[name].errors = [*form[name].errors, error.message]
    else:
        form.form_errors.append(error.message)
