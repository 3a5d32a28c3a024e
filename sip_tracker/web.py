"""What every view does the same way: try a change, answer with a page, and commit after it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Flask, Response, g, render_template, request
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from sip_tracker.audit.services import record
from sip_tracker.db import commit, db
from sip_tracker.errors import DomainError, StaleVersion
from sip_tracker.forms import show_error
from sip_tracker.versions import concurrent_save_message

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
    A save refused because someone else saved first (StaleVersion, or the database's own
    version check when both saved at once) marks the form `stale`: page() answers 409.
    The request commits after the view (init_app).
    """
    try:
        with db.session.begin_nested():
            result = change()
    except StaleDataError:
        return _stale(form, StaleVersion(concurrent_save_message()))
    except StaleVersion as error:
        return _stale(form, error)
    except DomainError as error:
        show_error(form, error, default_field)
        return Done(ok=False)
    return Done(ok=True, value=result)


def _stale(form: Any, error: StaleVersion) -> Done[Any]:
    """The message above the form (it concerns the whole form), and a 409 from page()."""
    show_error(form, error)
    form.stale = True
    return Done(ok=False)


def log_read(action: str, *, person_id: int, case_id: int | None = None) -> None:
    """Log that the current user reads a person's data.

    A GET shows it, so it is logged now. Another method (a form sent) shows it only when the
    answer is a page (page(): the form refused and shown again); a save that redirects is
    logged by its service as a change instead.
    """
    if request.method == "GET":
        record(action, user=current_user, person_id=person_id, case_id=case_id)
    else:
        g.read_if_shown = (action, person_id, case_id)


def page(template: str, form: Any = None, **context: Any) -> tuple[str, int]:
    """Render; 409 when a save was refused as stale, 422 when the form has other errors.

    What the page shows is logged (log_read).
    """
    shown = g.pop("read_if_shown", None)
    if shown is not None:
        action, person_id, case_id = shown
        record(action, user=current_user, person_id=person_id, case_id=case_id)
    html = render_template(template, form=form, **context)
    if form is not None and getattr(form, "stale", False):
        return html, 409
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
