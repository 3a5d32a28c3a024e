"""What every view does the same way: try a change, and answer with a page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import render_template

from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.forms import show_error

T = TypeVar("T")


@dataclass
class Done(Generic[T]):
    """What attempt() did: ok, and the service's return value when it was."""

    ok: bool
    value: T | None = None


def attempt(form: Any, change: Callable[[], T], default_field: str | None = None) -> Done[T]:
    """Run a service call in a savepoint and commit it.

    If the service refuses (a DomainError), only its own changes are undone: the message
    goes on the form, the user's input stays, and the audit row for the read remains.
    """
    try:
        with db.session.begin_nested():
            result = change()
    except DomainError as error:
        show_error(form, error, default_field)
        db.session.commit()
        return Done(ok=False)
    db.session.commit()
    return Done(ok=True, value=result)


def page(template: str, form: Any = None, **context: Any) -> tuple[str, int]:
    """Render, then commit the audit rows the request wrote; 422 when the form has errors."""
    html = render_template(template, form=form, **context)
    db.session.commit()
    status = 422 if form is not None and form.errors else 200
    return html, status
