"""Form building blocks shared by the features."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField, SelectMultipleField, widgets

from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.organizations.models import Huvudman, Unit


class MultiCheckboxField(SelectMultipleField):
    """Several choices shown as checkboxes in a fieldset."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def unit_choices(active_only: bool = True) -> list[tuple[Any, Any]]:
    """Units grouped by huvudman, the region first, for a <select> with optgroups."""
    query = (
        select(Unit).join(Unit.huvudman).order_by(Huvudman.kind.desc(), Huvudman.name, Unit.name)
    )
    if active_only:
        query = query.where(Unit.active.is_(True))
    groups: dict[str, list[tuple[int, str]]] = {}
    for unit in db.session.scalars(query):
        groups.setdefault(unit.huvudman.name, []).append((unit.id, unit.name))
    return list(groups.items())


def huvudman_choices() -> list[tuple[int, str]]:
    query = select(Huvudman).order_by(Huvudman.kind.desc(), Huvudman.name)
    return [(h.id, h.name) for h in db.session.scalars(query)]


class UnitSelectField(SelectField):
    """A unit chosen from all active units, grouped by huvudman."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", int)
        super().__init__(label or _l("Enhet"), validators, **kwargs)

    def load(self, blank: str | None = None) -> None:
        choices = unit_choices()
        if blank is not None:
            choices = [("", [("", blank)]), *choices]
        self.choices = choices


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
