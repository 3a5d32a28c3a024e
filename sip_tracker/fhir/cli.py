"""`flask` commands of the FHIR adapter."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, select, true

from sip_tracker.cli_support import in_app
from sip_tracker.db import commit, db
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
@in_app
def create_api_token_command(name: str, organisation: str, read: bool, write: bool) -> None:
    """Create a bearer token for an IT system; it is shown once."""
    if not name.strip():
        raise click.ClickException("ange ett namn för IT-systemet")
    if not (read or write):
        raise click.ClickException("en token behöver läs- eller skrivrätt (--read/--write)")
    huvudman = _huvudman(organisation)
    issued = issue_token(name=name, huvudman=huvudman, read=read, write=write)
    commit()  # the secret is shown only once the token is stored
    scopes = "+".join(s for s, on in (("read", read), ("write", write)) if on)
    click.echo(f"token {issued.row.id} for {name} ({huvudman.name}, {scopes}):")
    click.echo(issued.secret)


@click.command("export-fhir")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the <Type>.ndjson files (created if missing).",
)
@click.option("--since", default=None, help="Only resources changed after this FHIR instant.")
@click.option("--type", "types", default=None, help="Comma list of resource types (default all).")
@in_app
def export_fhir_command(out: Path, since: str | None, types: str | None) -> None:
    """Write every stored resource as Bulk Data NDJSON, one file per type."""
    from sip_tracker.fhir.api import RESOURCE_TYPES
    from sip_tracker.fhir.bulk import count_rows, parse_since, parse_types, write_ndjson

    try:
        after = parse_since(since) if since is not None else None
    except ValueError as error:
        raise click.ClickException(f"--since: {error}") from None
    try:
        chosen = parse_types([types]) if types is not None else list(RESOURCE_TYPES)
    except ValueError as error:
        raise click.ClickException(f"--type: {error}") from None
    if not chosen:
        raise click.ClickException("--type: name at least one resource type")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".export-fhir-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise click.ClickException(f"cannot write to {out}: {error.strerror or error}") from None
    total = count_rows(chosen, true(), after)
    with click.progressbar(length=total, label="Exporting FHIR resources") as bar:

        def advance(counts: dict[str, int]) -> None:
            bar.update(sum(counts.values()) - bar.pos)

        output = write_ndjson(
            out,
            types=chosen,
            where=true(),
            since=after,
            audit_detail="CLI export",
            after_batch=advance,
        )
    for entry in output:
        click.echo(f"{entry['count']:>8} {out / entry['file']}")
    click.echo(f"{sum(e['count'] for e in output)} resources exported to {out}")


@click.command("purge-fhir-exports")
@in_app
def purge_fhir_exports_command() -> None:
    """Delete the files of Bulk Data exports older than SIP_FHIR_EXPORT_TTL_HOURS.

    Kick-offs and polls do the same; this is for a server nobody polls (run it from cron).
    The jobs stay, marked expired, so that a client polling one learns why it is gone.
    """
    from sip_tracker.fhir.bulk import expire_exports

    removed = expire_exports(current_app)
    exports = f"{removed} expired export" + ("" if removed == 1 else "s")
    click.echo(f"{exports} removed (files deleted)")


@click.command("publish-fhir")
@in_app
def publish_fhir_command() -> None:
    """Map every case and action plan activity again and store what changed.

    For after an upgrade that changes the mapping or the profiles: a resource whose JSON
    would change gets a new version, an unchanged one keeps its version, and resources
    stored before the R5 mapping existed get their R5 edition.
    """
    from sip_tracker.cases.models import SipCase
    from sip_tracker.fhir.models import StoredResource
    from sip_tracker.fhir.store import publish_activities, publish_case

    def tally() -> tuple[int, int]:
        versions = db.session.scalar(select(func.coalesce(func.sum(StoredResource.version_id), 0)))
        without_r5 = db.session.scalar(
            select(func.count(StoredResource.id)).where(StoredResource.content_r5.is_(None))
        )
        return int(versions or 0), int(without_r5 or 0)

    versions_before, without_r5_before = tally()
    case_ids = list(db.session.scalars(select(SipCase.id).order_by(SipCase.id)))
    with click.progressbar(case_ids, label="Publishing FHIR resources") as bar:
        for done, case_id in enumerate(bar, 1):
            case = db.session.get(SipCase, case_id)
            if case is not None:
                publish_case(case)
            if done % 50 == 0:
                commit()  # in batches: a long run holds no lock for long
                db.session.expunge_all()
    publish_activities()
    commit()
    versions_after, without_r5_after = tally()
    cases = f"{len(case_ids)} case" + ("" if len(case_ids) == 1 else "s")
    click.echo(
        f"{cases} mapped again: {versions_after - versions_before} new versions, "
        f"{without_r5_before - without_r5_after} R5 editions added"
    )
