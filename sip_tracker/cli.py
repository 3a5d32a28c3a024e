"""`flask` commands: create-user, seed-reference, seed-demo, import-activities, the FHIR
adapter's (create-api-token, export-fhir, publish-fhir, purge-fhir-exports), and
operations' (backup, restore, gallra) and notifications' (worker, send-reminders, mail-status).

Bad input ends the command with a non-zero exit code and one readable line.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from email_validator import EmailNotValidError, validate_email
from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select

from sip_tracker.auth.models import Role
from sip_tracker.cli_support import OneLineCommand, in_app
from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.fhir.cli import (
    create_api_token_command,
    export_fhir_command,
    publish_fhir_command,
    purge_fhir_exports_command,
)
from sip_tracker.inbox.cli import mail_status_command, send_reminders_command
from sip_tracker.operations.cli import backup_command, gallra_command, restore_command
from sip_tracker.organizations.models import Unit
from sip_tracker.worker import worker_command


def register(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_reference_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(import_activities_command)
    app.cli.add_command(create_api_token_command)
    app.cli.add_command(export_fhir_command)
    app.cli.add_command(purge_fhir_exports_command)
    app.cli.add_command(publish_fhir_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(gallra_command)
    app.cli.add_command(gallra_command, "purge-old-cases")  # the English name
    app.cli.add_command(worker_command)
    app.cli.add_command(send_reminders_command)
    app.cli.add_command(mail_status_command)


def _fail(message: str) -> NoReturn:
    raise click.ClickException(message)


def _unit(reference: str) -> Unit:
    from sip_tracker.organizations.services import find_unit

    unit = find_unit(reference)
    if unit is None:
        _fail(_("Det finns ingen enhet med HSA-id, id eller namn ”%(ref)s”.", ref=reference))
    return unit


@click.command("create-user", cls=OneLineCommand)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.SAMORDNARE.value,
    show_default=True,
)
@click.option("--unit", "unit_ref", required=True, help="The unit's HSA-id, id or exact name.")
@click.option(
    "--review-unit", "review_refs", multiple=True, help="For a granskare: a unit to review."
)
@click.password_option(
    help="At least 12 characters, not a common or easily guessed one; asked for when left out."
)
@in_app
def create_user_command(
    email: str, name: str, role: str, unit_ref: str, review_refs: tuple[str, ...], password: str
) -> None:
    """Create a user account at a unit."""
    from sip_tracker.auth.services import create_user

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        _fail(_("”%(email)s” är inte en giltig e-postadress.", email=email))
    if not name.strip():
        _fail(_("Ange ett namn."))
    unit = _unit(unit_ref)
    reviewed = [_unit(ref) for ref in review_refs]
    try:
        user = create_user(
            email=email,
            name=name,
            password=password,
            role=Role(role),
            unit=unit,
            reviewed_units=reviewed,
        )
    except DomainError as error:
        _fail(error.message)
    click.echo(
        _(
            "Skapade %(role)s %(email)s vid %(unit)s.",
            role=user.role.value,
            email=user.email,
            unit=user.unit.name,
        )
    )


@click.command("seed-reference", cls=OneLineCommand)
@in_app
def seed_reference_command() -> None:
    """Load Region Stockholm, the 26 kommuner and example units (idempotent)."""
    from sip_tracker.organizations.reference import load_reference_data

    huvudman, units = load_reference_data()
    click.echo(
        _(
            "Referensdata: %(huvudman)d huvudmän och %(units)d enheter tillagda.",
            huvudman=huvudman,
            units=units,
        )
    )


@click.command("seed-demo", cls=OneLineCommand)
@in_app
def seed_demo_command() -> None:
    """Load reference data, demo users and about 20 demo cases (only once)."""
    from sip_tracker.auth.models import User
    from sip_tracker.demo import (
        DEMO_USERS,
        link_demo_cases,
        load_demo_data,
        load_demo_history,
        load_demo_plan,
    )
    from sip_tracker.organizations.reference import load_reference_data

    load_reference_data()
    if db.session.scalar(select(User).where(User.email == DEMO_USERS[0].email)) is not None:
        click.echo(_("Demodata finns redan: behölls som de är."))
        return
    users, cases = load_demo_data()
    load_demo_plan()
    link_demo_cases()
    cases += load_demo_history()
    click.echo(_("Demodata: %(users)d användare och %(cases)d ärenden.", users=users, cases=cases))


@click.command("import-activities", cls=OneLineCommand)
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@in_app
def import_activities_command(path: Path) -> None:
    """Load the action plan from a YAML or CSV file: målområden, sakområden, activities.

    Loading the same file again changes nothing. A file with a bad row loads nothing: each
    bad row is reported with its line number, and the exit code is 1.
    """
    from sip_tracker.handlingsplan.files import PlanFileError, read_plan_file
    from sip_tracker.handlingsplan.services import import_plan, known_codes

    malomraden, sakomraden = known_codes()
    try:
        plan = read_plan_file(path, known_malomraden=malomraden, known_sakomraden=sakomraden)
    except PlanFileError as error:
        for line in error.errors:
            click.echo(line, err=True)
        click.echo(_("Inget lästes in från %(path)s.", path=str(path)), err=True)
        raise click.exceptions.Exit(1) from None
    summary = import_plan(plan)
    click.echo(
        _(
            "%(path)s: %(rows)d poster, varav %(created)d nya, %(updated)d ändrade och"
            " %(unchanged)d oförändrade.",
            path=str(path),
            rows=plan.rows,
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
        )
    )
