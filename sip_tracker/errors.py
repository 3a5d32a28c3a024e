"""Domain errors raised by services, and the HTTP handlers that render them."""

from __future__ import annotations

from flask import Flask, Response, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from sip_tracker.guards import TooLarge, body_limit


class DomainError(Exception):
    """A rule of the domain refused an action; the message is for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the form field the message belongs to, when there is one


class PermissionDenied(DomainError):
    """The user may not do this to this case."""


class InvalidTransition(DomainError):
    """The case cannot move to that stage from where it is, or lacks what the stage needs."""


class ConsentMissing(DomainError):
    """The action would share the case with an organisation the consent does not cover."""


class StaleVersion(DomainError):
    """Someone else saved the same record since this user loaded it."""


class NotFound(DomainError):
    """No such record, or the user may not know it exists."""


def register_handlers(app: Flask) -> None:
    """Render HTTP errors as Swedish pages instead of Werkzeug's English defaults."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | Response:
        if isinstance(error, RequestEntityTooLarge) and not isinstance(error, TooLarge):
            # Werkzeug's own, from a body read past the limit: name the limit too.
            error = TooLarge(body_limit(current_app, request.path))
        if request.path == "/fhir" or request.path.startswith("/fhir/"):
            # A FHIR client gets an OperationOutcome, never an HTML page.
            from sip_tracker.fhir.outcomes import issue, outcome_response

            code = error.code or 500
            kind = {
                404: "not-found",
                405: "not-supported",
                413: "too-long",
                429: "throttled",
            }.get(code, "invalid")
            return outcome_response(code, [issue(error.description or error.name, code=kind)])
        titles = {
            400: _l("Felaktig begäran"),
            403: _l("Åtkomst nekad"),
            404: _l("Sidan finns inte"),
            405: _l("Metoden är inte tillåten"),
            413: _l("Det du skickade är för stort"),
            429: _l("För många försök"),
        }
        code = error.code or 500
        title = titles.get(code, _l("Något gick fel"))
        # A refusal that knows what was wrong says so (guards.NulCharacter).
        detail = getattr(error, "detail", None)
        return render_template("error.html", code=code, title=title, detail=detail), code

    @app.errorhandler(StaleDataError)
    def saved_at_once(error: StaleDataError) -> tuple[str, int] | Response:
        """Two requests saved the same versioned record at once, outside a form (which
        `web.attempt` answers itself): the second is undone and told so, never a 500."""
        from sip_tracker.db import db

        db.session.rollback()
        if request.path == "/fhir" or request.path.startswith("/fhir/"):
            from sip_tracker.fhir.outcomes import issue, outcome_response

            message = "Another request changed the same record at the same time; try again."
            return outcome_response(409, [issue(message, code="conflict")])
        title = _l("Någon annan sparade samtidigt")
        return render_template("error.html", code=409, title=title), 409
