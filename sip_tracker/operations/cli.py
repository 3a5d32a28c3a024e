"""`flask` commands for operations: backup, restore, gallra (retention).

Each runs through `in_app`: one commit when it ends well, one readable line and a
non-zero exit when it cannot do what was asked.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from sip_tracker.audit.services import record
from sip_tracker.cli_support import OneLineCommand, in_app
from sip_tracker.db import commit, db, utcnow
from sip_tracker.operations.backup import (
    BackupError,
    backend,
    backup_postgresql,
    backup_sqlite,
    restore_postgresql,
    restore_sqlite,
)
from sip_tracker.operations.files import sqlite_path


def _database() -> tuple[str, str, Path | None]:
    """The configured database: its URL, 'sqlite' or 'postgresql', and the SQLite file."""
    url = str(current_app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        kind = backend(url)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    database = sqlite_path(current_app) if kind == "sqlite" else None
    if kind == "sqlite" and database is None:
        raise click.ClickException(_("En databas i minnet kan inte säkerhetskopieras."))
    return url, kind, database


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1_000_000:.1f} MB"


@click.command("backup", cls=OneLineCommand)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@in_app
def backup_command(path: Path) -> None:
    """Back up the database to PATH while the app keeps serving (readable by you only).

    SQLite through its backup API; PostgreSQL with pg_dump (custom format), which needs
    the PostgreSQL client programs. An existing file is never overwritten. It only reads
    the database: it waits for no writer, and no writer waits for it.
    """
    url, kind, database = _database()
    try:
        if database is not None:
            backup_sqlite(database, path)
        else:
            backup_postgresql(url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        _(
            "Säkerhetskopia skriven till %(path)s (%(kind)s, %(size)s).",
            path=str(path),
            kind=kind,
            size=_size(path),
        )
    )


@click.command("restore", cls=OneLineCommand)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Restore without asking first.")
@in_app
def restore_command(path: Path, yes: bool) -> None:
    """Replace everything in the database with the backup at PATH.

    What changed after the backup was taken is lost: cases, consent withdrawals and the
    access log alike. Bulk Data export files are deleted (their records no longer match).
    """
    from sip_tracker.fhir.exports import RESTORED, delete_all_exports

    url, kind, database = _database()
    target = str(database) if database is not None else _where(url)
    if not yes:
        question = _(
            "Ersätta allt i databasen %(database)s med säkerhetskopian %(path)s? Det som"
            " ändrats sedan säkerhetskopian togs går förlorat.",
            database=target,
            path=str(path),
        )
        try:
            confirmed = click.confirm(question, default=False)
        except click.Abort:
            confirmed = False
        if not confirmed:
            raise click.ClickException(_("Avbrutet: ingenting återställdes."))
    # Our own connections must hold no transaction (and SQLite no lock) while it runs.
    db.session.remove()
    db.engine.dispose()
    revision = None
    try:
        if database is not None:
            revision = restore_sqlite(path, database)
        else:
            restore_postgresql(url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    try:
        with db.session.begin_nested():
            delete_all_exports(current_app, reason=RESTORED)
            record("backup.restore", user=None, person_id=None, detail=f"{kind}: {path.resolve()}")
        upgrade = ""
    except SQLAlchemyError:  # a backup from an older version: its tables differ
        upgrade = " " + _("Kör flask --app sip_tracker db upgrade innan appen startas.")
    click.echo(
        _("Databasen %(database)s är återställd från %(path)s.", database=target, path=str(path))
        + (" " + _("Migrering: %(revision)s.", revision=revision) if revision else "")
        + upgrade
    )


def _where(url: str) -> str:
    """The database a URL names, for a question to the operator (no password)."""
    parsed = make_url(url)
    return f"{parsed.database} @ {parsed.host or 'localhost'}"


@click.command("gallra", cls=OneLineCommand)
@click.option("--execute", is_flag=True, help="Delete; without it, only count (a dry run).")
@in_app
def gallra_command(execute: bool) -> None:
    """Gallring: delete cases that ended more than SIP_RETENTION_YEARS ago (and people
    left without a case), and access-log rows older than five years.

    A dry run unless --execute: it says how many would go, never who. Cases are deleted
    and committed 50 at a time, so the app's writers never wait long; a run that stops
    halfway is finished by the next.
    """
    from sip_tracker.operations import retention

    years = int(current_app.config["RETENTION_YEARS"])
    if not execute:
        planned = retention.plan(utcnow(), years)
        click.echo(
            _(
                "Provkörning, inget togs bort: %(cases)d ärenden som avslutades före"
                " %(day)s och %(people)d personer utan andra ärenden skulle tas bort, och"
                " %(log_rows)d loggrader från före %(log_day)s. Kör med --execute för att"
                " ta bort dem.",
                cases=planned.cases,
                day=planned.cases_cutoff_day.isoformat(),
                people=planned.people,
                log_rows=planned.log_rows,
                log_day=planned.log_cutoff_day.isoformat(),
            )
        )
        return
    done = retention.run(utcnow(), years, after_batch=commit)
    click.echo(
        _(
            "Gallrat: %(cases)d ärenden som avslutades före %(day)s, %(people)d personer"
            " utan andra ärenden och %(log_rows)d loggrader från före %(log_day)s.",
            cases=done.cases,
            day=done.cases_cutoff_day.isoformat(),
            people=done.people,
            log_rows=done.log_rows,
            log_day=done.log_cutoff_day.isoformat(),
        )
    )
