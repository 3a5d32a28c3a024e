"""What every `flask` command shares: one readable line on bad input, an app context in the
default language, and one commit when the command ends well (nothing when it fails)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from sip_tracker.db import commit, db

F = TypeVar("F", bound=Callable[..., Any])


class BadInput(click.ClickException):
    """Wrong or missing options: one line, exit code 2 like click's usage errors."""

    exit_code = 2


class OneLineCommand(click.Command):
    """Report a usage error as one line instead of click's usage screen."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise BadInput(error.format_message()) from None


def in_app(command: F) -> F:
    """Run in an app context, in the default language (there is no request to choose one),
    and commit what the command did once it returns; any failure rolls it all back."""

    @functools.wraps(command)
    @with_appcontext
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            try:
                result = command(*args, **kwargs)
            except BaseException:
                db.session.rollback()
                raise
            commit()
            return result

    return wrapper  # type: ignore[return-value]
