"""Language selection: Swedish by default, English on request."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

from sip_tracker.clock import STOCKHOLM
from sip_tracker.extensions import babel


def select_locale() -> str:
    """Pick the user's chosen language, else Swedish; never the browser's guess alone."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in languages:
        return str(chosen)
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return str(current_user.locale)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories="translations",
    )

    @app.before_request
    def remember_language() -> None:
        chosen = request.args.get("lang")
        if chosen in app.config["LANGUAGES"]:
            session["lang"] = chosen

    @app.context_processor
    def locale_helpers() -> dict[str, object]:
        return {"current_locale": lambda: str(get_locale() or "sv")}

    app.jinja_env.filters["local_dt"] = lambda m: (
        format_datetime(local_datetime(m), "yyyy-MM-dd HH:mm") if m else ""
    )
    app.jinja_env.filters["local_date"] = lambda m: local_date(m).isoformat() if m else ""
    # "12 dec.": a date near today, in a line that says what it is the date of.
    app.jinja_env.filters["short_date"] = lambda d: format_date(d, "d MMM") if d else ""


def local_date(moment: datetime) -> date:
    """The calendar date in Stockholm of a UTC moment."""
    return moment.astimezone(STOCKHOLM).date()


def local_datetime(moment: datetime) -> datetime:
    return moment.astimezone(STOCKHOLM)


def to_utc(local: datetime) -> datetime:
    """A naive wall-clock time in Stockholm, as an aware UTC moment."""
    return local.replace(tzinfo=STOCKHOLM).astimezone(UTC)
