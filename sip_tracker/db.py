"""The database handle and the typed declarative base."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite drops the zone; PostgreSQL keeps it. Both come back aware in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)


def commit() -> None:
    """Commit the unit of work: the one place the application commits.

    Called after the view by the request hook (web.py), when a `flask` command ends
    (cli_support.py), and by the Bulk Data export worker after each batch. Services only
    flush, so a failure anywhere before this point leaves nothing half-written.
    """
    db.session.commit()


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite: enforce foreign keys, and let SQLAlchemy own transactions so SAVEPOINTs work.

    WAL lets readers go on while one writer writes; every transaction is begun IMMEDIATE
    (see _sqlite_begin) and waits for the write lock as long as the driver's `timeout`
    (config.py sets it).
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
            cursor.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=FULL: a commit acknowledged is on disk (FULL, not NORMAL,
        # which can lose the last transactions on power loss).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()


# Every PostgreSQL connection of the app, pooled or the FHIR read path's own, runs these.
POSTGRESQL_SESSION = ("SET jit = off",)


@event.listens_for(Engine, "connect")
def _postgresql_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """PostgreSQL: no JIT for the app's connections. Its short queries were compiled on
    every execution (83–609 ms a statement at county scale, from row estimates in the
    millions) for nothing: the overview went from 280 to 87 ms with JIT off.

    Set for the session outside any transaction (autocommit, on the new connection), so a
    rollback does not bring it back.
    """
    if type(dbapi_connection).__module__.startswith("psycopg"):
        dbapi_connection.autocommit = True
        for setting in POSTGRESQL_SESSION:
            dbapi_connection.execute(setting)
        dbapi_connection.autocommit = False


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Any) -> None:
    """Every request writes (at least its audit row): take the write lock at BEGIN.

    A deferred transaction that reads and then writes must upgrade its lock, and SQLite
    refuses the upgrade at once ("database is locked") when another connection wrote in
    between, whatever the busy timeout. BEGIN IMMEDIATE waits for the lock instead.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
