"""Files the app writes hold personal data: readable and writable by the app's user only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

# Nothing for the group or others: files 0600, folders 0700.
OWNER_ONLY_UMASK = 0o077
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def keep_files_private(app: Flask) -> None:
    """Create every file and folder from now on for the app's user only, and tighten what
    an earlier version of the app left readable by others.

    The umask covers all the process writes: the SQLite database and its -wal and -shm
    (SQLite gives them the database file's mode), the Bulk Data export folders and files,
    backups. It is set here because every way in (gunicorn, the `flask` commands, tests)
    builds the app first.
    """
    os.umask(OWNER_ONLY_UMASK)
    for path, mode in _written_by_the_app(app):
        _tighten(app, path, mode)


def sqlite_path(app: Flask) -> Path | None:
    """The configured SQLite database file, or None (PostgreSQL, or in memory)."""
    url = make_url(str(app.config["SQLALCHEMY_DATABASE_URI"]))
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database)
    # Flask-SQLAlchemy reads a relative SQLite path from the instance folder.
    return path if path.is_absolute() else Path(app.instance_path) / path


def _written_by_the_app(app: Flask) -> Iterator[tuple[Path, int]]:
    from sip_tracker.fhir.exports import export_root

    instance = Path(app.instance_path)
    yield instance, PRIVATE_FOLDER
    yield instance / "secret_key", PRIVATE_FILE
    database = sqlite_path(app)
    if database is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            yield database.with_name(database.name + suffix), PRIVATE_FILE
    yield export_root(app), PRIVATE_FOLDER


def _tighten(app: Flask, path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
        if current & ~mode:
            path.chmod(current & mode)
    except FileNotFoundError:
        pass
    except OSError as error:  # another user's file: say so, and go on
        app.logger.warning("Could not make %s private: %s", path, error.strerror or error)
