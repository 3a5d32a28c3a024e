"""`flask` commands of the FHIR adapter."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from sip_tracker.db import db
from sip_tracker.fhir.tokens import issue_token
from sip_tracker.organizations.models import Huvudman


def _huvudman(reference: str) -> Huvudman:
    """A huvudman by kommunkod, organisationsnummer, id or exact name."""
    text = reference.strip()
    for column in (Huvudman.kommunkod, Huvudman.orgnr, Huvudman.name):
        found = db.session.scalar(select(Huvudman).where(column == text))
        if found is not None:
            return found
    if text.isdigit() and (found := db.session.get(Huvudman, int(text))) is not None:
        return found
    raise click.ClickException(
        f"ingen organisation med kommunkod, organisationsnummer, id eller namn {reference!r}"
    )


@click.command("create-api-token")
@click.option("--name", required=True, help="The IT system the token is for.")
@click.option(
    "--organisation",
    "organisation",
    required=True,
    help="The huvudman it acts for: kommunkod, organisationsnummer, id or name.",
)
@click.option("--read/--no-read", default=True, show_default=True)
@click.option("--write/--no-write", default=False, show_default=True)
@with_appcontext
def create_api_token_command(name: str, organisation: str, read: bool, write: bool) -> None:
    """Create a bearer token for an IT system; it is shown once."""
    if not name.strip():
        raise click.ClickException("ange ett namn för IT-systemet")
    if not (read or write):
        raise click.ClickException("en token behöver läs- eller skrivrätt (--read/--write)")
    huvudman = _huvudman(organisation)
    issued = issue_token(name=name, huvudman=huvudman, read=read, write=write)
    db.session.commit()
    scopes = "+".join(s for s, on in (("read", read), ("write", write)) if on)
    click.echo(f"token {issued.row.id} for {name} ({huvudman.name}, {scopes}):")
    click.echo(issued.secret)
