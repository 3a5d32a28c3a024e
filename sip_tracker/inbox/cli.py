"""`flask` commands for notifications: send-reminders and mail-status (the worker's own
command, `flask worker`, is in sip_tracker/worker.py)."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from sip_tracker import clock
from sip_tracker.cli_support import OneLineCommand, in_app
from sip_tracker.db import utcnow
from sip_tracker.i18n import local_datetime
from sip_tracker.inbox.mail import delivery_counts, failed_deliveries
from sip_tracker.inbox.reminders import run_reminders


@click.command("send-reminders", cls=OneLineCommand)
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day to remind for (YYYY-MM-DD); today in Stockholm when left out.",
)
@in_app
def send_reminders_command(day: datetime | None) -> None:
    """Put the reminders due on the day in the inboxes (the worker does it every hour).

    Each reminder is made once: running it again for the same day adds nothing.
    """
    items = run_reminders(day.date() if day is not None else clock.today())
    click.echo(ngettext("%(num)d ny påminnelse.", "%(num)d nya påminnelser.", len(items)))


@click.command("mail-status", cls=OneLineCommand)
@in_app
def mail_status_command() -> None:
    """How the e-mail announcing inbox items is going, and the latest failures."""
    if not current_app.config["SMTP_HOST"]:
        click.echo(_("SIP_SMTP_HOST är inte satt: ingen e-post skickas."))
    counts = delivery_counts(utcnow())
    click.echo(
        _(
            "E-post: %(sent)d skickade, %(pending)d väntar, %(retrying)d misslyckade som "
            "försöks igen, %(failed)d misslyckade för gott.",
            sent=counts["sent"],
            pending=counts["pending"],
            retrying=counts["failed_retrying"],
            failed=counts["failed"],
        )
    )
    for delivery in failed_deliveries():
        click.echo(
            _(
                "  nr %(id)d, skapad %(created)s, %(attempts)d försök: %(error)s",
                id=delivery.id,
                created=f"{local_datetime(delivery.created_at):%Y-%m-%d %H:%M}",
                attempts=delivery.attempts,
                error=delivery.last_error or "",
            )
        )
