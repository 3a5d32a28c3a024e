"""`flask backup` and `flask restore`: an online backup, and a round trip that brings the
data back (SQLite always; PostgreSQL in a database of its own when one is configured)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from sip_tracker import create_app
from sip_tracker.audit.models import AuditEvent
from sip_tracker.cases import services as cases
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.people.models import Person
from tests.factories import Factory


def own_app(url: str) -> Flask:
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": url})
    import sip_tracker.models  # noqa: F401  (every table in the metadata)

    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a SQLite file of its own, whatever backend the suite runs on."""
    app = own_app(f"sqlite:///{tmp_path / 'live.db'}")
    yield app
    with app.app_context():
        db.engine.dispose()


def postgresql_base() -> str | None:
    url = os.environ.get("SIP_TEST_DATABASE_URL")
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url else None


@pytest.fixture
def postgresql_app() -> Iterator[Flask]:
    """An app on a PostgreSQL database created for the test and dropped after it."""
    base = postgresql_base()
    if base is None:
        pytest.skip("set SIP_TEST_DATABASE_URL to test backups of PostgreSQL")
    name = f"sip_backup_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    app = own_app(url)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=list(args), input=input)


def one_line(result: Result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def seed(app: Flask) -> tuple[int, int]:
    """A shared case with its kartläggning; return (case id, person id)."""
    with app.app_context():
        make = Factory()
        user = make.user()
        case = make.shared_case(user, make.unit())
        cases.save_kartlaggning(case, user=user, what_matters="Att bo kvar hemma.", needs=[])
        make.commit()
        return case.id, case.person_id


def damage(app: Flask, case_id: int) -> None:
    """What a restore must undo: a changed text, a deleted case and person, a new case."""
    with app.app_context():
        case = db.session.get_one(SipCase, case_id)
        user = case.created_by
        cases.save_kartlaggning(case, user=user, what_matters="Fel text.", needs=[])
        db.session.commit()
        person = case.person
        db.session.delete(case)
        db.session.delete(person)
        Factory().case(user)
        db.session.commit()


def state(app: Flask) -> tuple[list[tuple[int, str]], int]:
    with app.app_context():
        rows = db.session.execute(select(SipCase.id, SipCase.what_matters).order_by(SipCase.id))
        found = [(row[0], row[1]) for row in rows]
        people = db.session.scalar(select(func.count(Person.id))) or 0
        db.session.remove()
        return found, people


def round_trip(app: Flask, backup: Path) -> None:
    case_id, _ = seed(app)
    before = state(app)
    assert before[0] == [(case_id, "Att bo kvar hemma.")]

    made = run(app, "backup", str(backup))
    assert made.exit_code == 0, made.output
    assert str(backup) in one_line(made)
    assert mode(backup) == 0o600
    assert [p.name for p in backup.parent.iterdir() if ".partial" in p.name] == []

    damage(app, case_id)
    assert state(app) != before

    restored = run(app, "restore", str(backup), "--yes")
    assert restored.exit_code == 0, restored.output
    assert "återställd" in one_line(restored)
    assert state(app) == before
    with app.app_context():  # the log says the database was restored, and from what
        row = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "backup.restore")
        ).one()
        assert str(backup.resolve()) in (row.detail or "")


def test_sqlite_round_trip_brings_the_data_back(sqlite_app: Flask, tmp_path: Path):
    round_trip(sqlite_app, tmp_path / "backups" / "sip.backup")


@pytest.fixture(autouse=True)
def _backup_folder(tmp_path: Path) -> None:
    (tmp_path / "backups").mkdir()


def test_postgresql_round_trip_brings_the_data_back(postgresql_app: Flask, tmp_path: Path):
    round_trip(postgresql_app, tmp_path / "backups" / "sip.dump")


def test_a_sqlite_backup_is_online_and_holds_only_committed_data(sqlite_app: Flask, tmp_path: Path):
    """A writer in the middle of a transaction neither blocks the backup nor leaks into it."""
    case_id, _ = seed(sqlite_app)
    with sqlite_app.app_context():
        database = Path(db.engine.url.database or "")
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock until it ends
        writer.execute("UPDATE sip_case SET what_matters = 'ej sparat' WHERE id = ?", (case_id,))
        made = run(sqlite_app, "backup", str(tmp_path / "backups" / "online.db"))
        assert made.exit_code == 0, made.output
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with sqlite3.connect(tmp_path / "backups" / "online.db") as copy:
        assert copy.execute("SELECT what_matters FROM sip_case").fetchall() == [
            ("Att bo kvar hemma.",)
        ]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file


def test_restore_asks_first_and_a_no_changes_nothing(sqlite_app: Flask, tmp_path: Path):
    case_id, _ = seed(sqlite_app)
    backup = tmp_path / "backups" / "sip.backup"
    assert run(sqlite_app, "backup", str(backup)).exit_code == 0
    damage(sqlite_app, case_id)
    damaged = state(sqlite_app)

    refused = run(sqlite_app, "restore", str(backup), input="n\n")
    assert refused.exit_code == 1
    assert "Ersätta allt i databasen" in refused.output
    assert refused.output.strip().splitlines()[-1] == "Error: Avbrutet: ingenting återställdes."
    assert state(sqlite_app) == damaged
    assert run(sqlite_app, "restore", str(backup)).exit_code == 1  # no terminal: no
    assert state(sqlite_app) == damaged

    confirmed = run(sqlite_app, "restore", str(backup), input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert state(sqlite_app) != damaged


def test_a_backup_never_overwrites_a_file(sqlite_app: Flask, tmp_path: Path):
    existing = tmp_path / "backups" / "yesterday.db"
    existing.write_bytes(b"yesterday")
    result = run(sqlite_app, "backup", str(existing))
    assert result.exit_code == 1
    assert "finns redan" in one_line(result)
    assert existing.read_bytes() == b"yesterday"


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"not a database at all" * 100, "ingen säkerhetskopia"), (None, "ingen säkerhetskopia")],
    ids=["garbage", "another-sqlite-database"],
)
def test_restore_refuses_a_file_that_is_not_a_backup(
    sqlite_app: Flask, tmp_path: Path, content: bytes | None, words: str
):
    seed(sqlite_app)
    before = state(sqlite_app)
    path = tmp_path / "backups" / "other.db"
    if content is None:
        with sqlite3.connect(path) as other:
            other.execute("CREATE TABLE notes (x TEXT)")
        other.close()
    else:
        path.write_bytes(content)
    result = run(sqlite_app, "restore", str(path), "--yes")
    assert result.exit_code == 1
    assert words in one_line(result)
    assert state(sqlite_app) == before


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["restore", "/nonexistent/sip.backup", "--yes"], 2, "does not exist"),
        (["backup", "/nonexistent/folder/sip.backup"], 1, "finns inte"),
        (["backup"], 2, "PATH"),
    ],
)
def test_bad_paths_are_one_line(sqlite_app: Flask, args: list[str], code: int, words: str):
    result = run(sqlite_app, *args)
    assert result.exit_code == code
    assert words in one_line(result)


def test_without_pg_dump_the_backup_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A PostgreSQL server has pg_dump; an app server without the client is told so."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://sip@127.0.0.1:9/sip",
        }
    )
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump on it
    result = run(app, "backup", str(tmp_path / "backups" / "sip.dump"))
    assert result.exit_code == 1
    assert "pg_dump finns inte" in one_line(result)
    assert list((tmp_path / "backups").iterdir()) == []


@pytest.mark.skipif(
    shutil.which("pg_dump") is None, reason="the PostgreSQL client is not installed"
)
def test_a_failing_pg_dump_leaves_no_file_and_says_why(tmp_path: Path):
    """pg_dump runs, the server is not there: its own reason, in one line."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://sip:hemligt@127.0.0.1:9/sip",
        }
    )
    result = run(app, "backup", str(tmp_path / "backups" / "sip.dump"))
    assert result.exit_code == 1
    line = one_line(result)
    assert line.startswith("Error: pg_dump misslyckades:")
    assert "hemligt" not in line
    assert list((tmp_path / "backups").iterdir()) == []


def test_a_restore_deletes_every_export_folder(sqlite_app: Flask, tmp_path: Path):
    """Export files made after the backup have no row in it: they would stay for ever."""
    seed(sqlite_app)
    backup = tmp_path / "backups" / "sip.backup"
    assert run(sqlite_app, "backup", str(backup)).exit_code == 0
    exports = tmp_path / "exports"
    sqlite_app.config["FHIR_EXPORT_DIR"] = str(exports)
    (exports / "a-later-export").mkdir(parents=True)
    (exports / "a-later-export" / "Patient.ndjson").write_bytes(b'{"resourceType":"Patient"}\n')
    result = run(sqlite_app, "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    assert list(exports.iterdir()) == []


def test_a_backup_from_an_older_version_restores_and_says_to_upgrade(
    sqlite_app: Flask, tmp_path: Path
):
    case_id, _ = seed(sqlite_app)
    backup = tmp_path / "backups" / "old.backup"
    assert run(sqlite_app, "backup", str(backup)).exit_code == 0
    with closing(sqlite3.connect(backup)) as old:  # as a version before migration 0007 left it
        old.execute("DROP TABLE fhir_export_subject")
        old.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        old.execute("INSERT INTO alembic_version VALUES ('0005')")
        old.commit()
    damage(sqlite_app, case_id)
    result = run(sqlite_app, "restore", str(backup), "--yes")
    assert result.exit_code == 0, result.output
    line = one_line(result)
    assert "Migrering: 0005." in line and "db upgrade" in line
    assert [case for case, _ in state(sqlite_app)[0]] == [case_id]
