"""`flask` commands: create-user, seed-reference, seed-demo."""

from __future__ import annotations

from typing import NoReturn

import click
from flask import Flask
from sqlalchemy import select

from sip_tracker.auth.models import Role
from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.organizations.models import Unit


def register(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_reference_command)
    app.cli.add_command(seed_demo_command)


def _fail(message: str) -> NoReturn:
    raise click.ClickException(message)


def _unit(reference: str) -> Unit:
    from sip_tracker.organizations.services import find_unit

    unit = find_unit(reference)
    if unit is None:
        _fail(f"no unit with HSA-id, id or name {reference!r}")
    return unit


@click.command("create-user")
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
@click.password_option(help="At least 10 characters; asked for when left out.")
def create_user_command(
    email: str, name: str, role: str, unit_ref: str, review_refs: tuple[str, ...], password: str
) -> None:
    """Create a user account at a unit."""
    from sip_tracker.auth.services import create_user

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
        db.session.rollback()
        _fail(error.message)
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email} at {user.unit.name}")


@click.command("seed-reference")
def seed_reference_command() -> None:
    """Load Region Stockholm, the 26 kommuner and example units (idempotent)."""
    from sip_tracker.organizations.reference import load_reference_data

    huvudman, units = load_reference_data()
    db.session.commit()
    click.echo(f"reference data: {huvudman} huvudmän and {units} units added")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load reference data, demo users and about 20 demo cases (only once)."""
    from sip_tracker.auth.models import User
    from sip_tracker.demo import DEMO_USERS, load_demo_data
    from sip_tracker.organizations.reference import load_reference_data

    load_reference_data()
    if db.session.scalar(select(User).where(User.email == DEMO_USERS[0].email)) is not None:
        db.session.commit()
        click.echo("demo data already loaded: kept as it is")
        return
    users, cases = load_demo_data()
    db.session.commit()
    click.echo(f"demo data: {users} users and {cases} cases")
