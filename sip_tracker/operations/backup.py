"""Online backups and restores of the database.

SQLite: the backup API copies a consistent snapshot while the app goes on writing (WAL),
and a restore copies the backup back into the live file through SQLite's own locks, so
connections that other processes hold open see the restored data, never a file swapped
under them. PostgreSQL: `pg_dump` (custom format, a consistent snapshot that blocks no
writer) and `pg_restore --clean` in one transaction. Both are system binaries of the
PostgreSQL client, present on PostgreSQL servers; their absence is said in one line.

A backup is first written next to its target, readable by this user only, checked, then
renamed into place: a failed or interrupted backup never leaves a file that looks whole.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy.engine import make_url

from sip_tracker.operations.files import PRIVATE_FILE

# How long a SQLite backup or restore waits for a writer to finish (as the app does).
SQLITE_LOCK_TIMEOUT = 30


class BackupError(Exception):
    """A backup or restore that cannot be done, in one line an operator can act on."""


def backend(database_url: str) -> str:
    """'sqlite' or 'postgresql'; BackupError for any other database."""
    name = make_url(database_url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(
            _("Säkerhetskopior görs av SQLite och PostgreSQL, inte av %(name)s.", name=name)
        )
    return name


# --- Writing a backup file ------------------------------------------------------------------


@contextmanager
def new_backup_file(target: Path) -> Iterator[Path]:
    """A private file beside the target to write the backup into; renamed to the target
    when the block ends well, removed when it fails. Never overwrites a file."""
    if target.exists():
        raise BackupError(
            _("%(path)s finns redan: en säkerhetskopia skrivs aldrig över.", path=str(target))
        )
    if not target.parent.is_dir():
        raise BackupError(_("Mappen %(folder)s finns inte.", folder=str(target.parent)))
    try:
        handle, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".partial"
        )
    except OSError as error:
        raise BackupError(
            _(
                "Kan inte skriva i %(folder)s: %(reason)s",
                folder=str(target.parent),
                reason=error.strerror,
            )
        ) from None
    os.close(handle)
    partial = Path(name)
    partial.chmod(PRIVATE_FILE)  # mkstemp does so too; a backup is all the personal data
    try:
        yield partial
        _sync(partial)
        os.replace(partial, target)
        _sync(target.parent)
    finally:
        partial.unlink(missing_ok=True)


def _sync(path: Path) -> None:
    """Flush a file, or a folder's entry for a renamed file, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- SQLite ---------------------------------------------------------------------------------


def backup_sqlite(database: Path, target: Path) -> None:
    """Copy the live database to the target, online, as one self-contained file."""
    if not database.is_file():
        raise BackupError(_("Databasfilen %(path)s finns inte.", path=str(database)))
    with new_backup_file(target) as partial:
        try:
            with (
                closing(sqlite3.connect(database, timeout=SQLITE_LOCK_TIMEOUT)) as live,
                closing(sqlite3.connect(partial)) as copy,
            ):
                live.backup(copy)
                # The copy inherits WAL from the live file; a backup is one file, not three.
                copy.execute("PRAGMA journal_mode=DELETE")
                _check(copy, partial)
        except sqlite3.Error as error:
            raise BackupError(_("SQLite: %(error)s", error=str(error))) from None


def restore_sqlite(source: Path, database: Path) -> str | None:
    """Copy a backup into the live database; return its migration revision (if any)."""
    revision = check_sqlite_backup(source)
    try:
        with (
            closing(sqlite3.connect(_read_only(source), uri=True)) as backup,
            closing(sqlite3.connect(database, timeout=SQLITE_LOCK_TIMEOUT)) as live,
        ):
            backup.backup(live)
            _check(live, database)
    except sqlite3.Error as error:
        raise BackupError(_("SQLite: %(error)s", error=str(error))) from None
    return revision


def check_sqlite_backup(source: Path) -> str | None:
    """Refuse a file that is not a whole sip-tracker SQLite database; return its revision."""
    try:
        with closing(sqlite3.connect(_read_only(source), uri=True)) as backup:
            tables = {row[0] for row in backup.execute("SELECT name FROM sqlite_master")}
            if "sip_case" not in tables:
                raise BackupError(
                    _("%(path)s är ingen säkerhetskopia av sip-tracker.", path=str(source))
                )
            _check(backup, source)
            if "alembic_version" not in tables:
                return None
            row = backup.execute("SELECT version_num FROM alembic_version").fetchone()
            return str(row[0]) if row else None
    except sqlite3.DatabaseError:
        raise BackupError(
            _("%(path)s är ingen säkerhetskopia av sip-tracker.", path=str(source))
        ) from None


def _read_only(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


def _check(connection: sqlite3.Connection, path: Path) -> None:
    result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(
            _("%(path)s är skadad (integrity_check: %(result)s).", path=str(path), result=result)
        )


# --- PostgreSQL -----------------------------------------------------------------------------


def backup_postgresql(database_url: str, target: Path) -> None:
    """pg_dump the configured database to the target, in the custom format."""
    pg_dump = _tool("pg_dump")
    dsn, env = _libpq(database_url)
    with new_backup_file(target) as partial:
        _run(
            [pg_dump, "--format=custom", "--no-password", f"--file={partial}", f"--dbname={dsn}"],
            env,
        )


def restore_postgresql(database_url: str, source: Path) -> None:
    """pg_restore the backup into the configured database, dropping what it replaces,
    all in one transaction (a failure leaves the database as it was)."""
    pg_restore = _tool("pg_restore")
    dsn, env = _libpq(database_url)
    try:
        _run([pg_restore, "--list", str(source)], env)
    except BackupError:
        raise BackupError(
            _("%(path)s är ingen säkerhetskopia från pg_dump (custom format).", path=str(source))
        ) from None
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={dsn}",
            str(source),
        ],
        env,
    )


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _(
                "%(tool)s finns inte på den här datorn: installera PostgreSQL-klienten"
                " (samma huvudversion som servern eller nyare; PostgreSQL-servrar har den).",
                tool=name,
            )
        )
    return path


def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq reads it, and the environment with its password: a password on
    the command line would be visible to every local user in the process list."""
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return dsn, env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit {result.returncode}"
        raise BackupError(
            _("%(tool)s misslyckades: %(reason)s", tool=Path(command[0]).name, reason=reason)
        )
