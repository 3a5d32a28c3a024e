"""The committed migrations build exactly the schema the models describe."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

import sip_tracker.models  # noqa: F401
from sip_tracker import create_app
from sip_tracker.db import db


@pytest.fixture
def empty_database(tmp_path):
    """A database nobody else uses: a new SQLite file, or a fresh PostgreSQL schema."""
    if os.environ.get("SIP_TEST_BACKEND") != "postgresql":
        yield "sqlite:///" + str(tmp_path / "migrations.db")
        return
    base = os.environ["SIP_TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        conn.execute(text("CREATE SCHEMA migration_check"))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3Dmigration_check"
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
    engine.dispose()


def test_migrations_match_the_models_and_downgrade_cleanly(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        assert differences == []
        downgrade(revision="base")
        with db.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


# A row of each kind a migration of referenced tables could lose on SQLite: rebuilding a
# table (batch mode) drops the old one, and with foreign keys on, that DROP fails or deletes
# every row that refers to it (ON DELETE CASCADE).
ROWS_AT_0005 = [
    ("huvudman", {"id": 1, "kind": "kommun", "name": "Testkommun"}),
    ("unit", {"id": 1, "huvudman_id": 1, "name": "Hemtjänsten", "active": True}),
    (
        "user_account",
        {
            "id": 1,
            "email": "karin@test.example",
            "name": "Karin",
            "password_hash": "x",
            "role": "samordnare",
            "unit_id": 1,
            "active": True,
            "created_at": "2026-01-01 00:00:00+00:00",
        },
    ),
    ("user_review_unit", {"user_id": 1, "unit_id": 1}),
    (
        "person",
        {
            "id": 1,
            "identifier": "195001011234",
            "identifier_kind": "personnummer",
            "given_name": "Karin",
            "family_name": "Nilsson",
            "created_at": "2026-01-01 00:00:00+00:00",
            "updated_at": "2026-01-01 00:00:00+00:00",
        },
    ),
    (
        "sip_case",
        {
            "id": 1,
            "person_id": 1,
            "stage": "forberedelse",
            "origin": "annan",
            "need_description": "Behov.",
            "initiating_unit_id": 1,
            "created_by_id": 1,
            "created_at": "2026-01-01 00:00:00+00:00",
            "updated_at": "2026-01-01 00:00:00+00:00",
            "what_matters": "Att bo kvar.",
        },
    ),
    (
        "stage_event",
        {
            "id": 1,
            "case_id": 1,
            "to_stage": "forberedelse",
            "at": "2026-01-01 00:00:00+00:00",
            "user_id": 1,
        },
    ),
    (
        "case_role",
        {"id": 1, "case_id": 1, "kind": "initiativtagare", "unit_id": 1, "person_name": "Karin"},
    ),
]


def test_upgrading_a_database_in_use_keeps_every_row(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as conn:
            for table, row in ROWS_AT_0005:
                columns = ", ".join(row)
                values = ", ".join(f":{name}" for name in row)
                conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)
        upgrade()
        with db.engine.connect() as conn:
            for table, _row in ROWS_AT_0005:
                assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1, table
            assert conn.execute(text("SELECT lock_version FROM sip_case")).scalar() == 1
            if conn.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()
