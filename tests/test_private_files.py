"""The files the app writes are readable by its own user only: other local users on the
server (a shared host, a compromised service account) must not read the database."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from sip_tracker import create_app
from sip_tracker.db import db


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def sqlite_app(database: Path) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        }
    )


def test_the_sqlite_database_and_its_wal_and_shm_are_private(tmp_path: Path):
    database = tmp_path / "sip.db"
    app = sqlite_app(database)
    with app.app_context():
        with db.engine.begin() as conn:  # WAL: the -wal and -shm files appear with a write
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            files = [database, database.with_name("sip.db-wal"), database.with_name("sip.db-shm")]
            assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        db.engine.dispose()


def test_files_an_older_version_left_readable_are_tightened_at_start(tmp_path: Path):
    database = tmp_path / "old.db"
    database.write_bytes(b"")
    wal = tmp_path / "old.db-wal"
    wal.write_bytes(b"")
    database.chmod(0o644)
    wal.chmod(0o664)
    exports = tmp_path / "exports"
    exports.mkdir(mode=0o755)
    exports.chmod(0o755)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "FHIR_EXPORT_DIR": str(exports),
        }
    )
    assert mode(database) == 0o600
    assert mode(wal) == 0o600
    assert mode(exports) == 0o700
    assert mode(Path(app.instance_path)) == 0o700
