"""What every view does the same way: try a change, answer with a page, and commit after it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Flask, Response, render_template

from sip_tracker.db import commit, db
from sip_tracker.errors import DomainError
from sip_tracker.forms import show_error

T = TypeVar("T")


@dataclass
class Done(Generic[T]):
    """What attempt() did: ok, and the service's return value when it was."""

    ok: bool
    value: T | None = None


def attempt(form: Any, change: Callable[[], T], default_field: str | None = None) -> Done[T]:
    """Run a service call in a savepoint.

    If the service refuses (a DomainError), only its own changes are undone: the message
    goes on the form, the user's input stays, and the audit row for the read remains.
    The request commits after the view (init_app).
    """
    try:
        with db.session.begin_nested():
            result = change()
    except DomainError as error:
        show_error(form, error, default_field)
        return Done(ok=False)
    return Done(ok=True, value=result)


def page(template: str, form: Any = None, **context: Any) -> tuple[str, int]:
    """Render; 422 when the form has errors."""
    html = render_template(template, form=form, **context)
    status = 422 if form is not None and form.errors else 200
    return html, status


def init_app(app: Flask) -> None:
    """One commit per request, after the view: what it changed and the audit rows it wrote.

    An answer of 500 (an unexpected error) rolls everything back. A refusal (4xx) still
    commits: its audit rows record what the user was shown; services refuse before they
    change anything, or inside a savepoint (attempt) that is rolled back.
    """

    @app.after_request
    def commit_request(response: Response) -> Response:
        if response.status_code >= 500:
            db.session.rollback()
        else:
            commit()
        return response
