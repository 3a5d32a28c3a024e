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
