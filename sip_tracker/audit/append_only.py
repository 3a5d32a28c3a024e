"""Triggers that keep the access log append-only, in the database itself.

HSLF-FS 2016:40 asks for an access log nobody can alter. The application never changes or
deletes a row, and these triggers make sure nothing else does either (a bug, a console, a
compromised account): UPDATE is refused, and so is DELETE of a row younger than the log's
retention period of five years; only the retention command's deletion of older rows
passes. PostgreSQL refuses TRUNCATE as well (SQLite has none).

The same statements are created with the table (create_all, for the tests) and by the
migration 0008, which keeps a frozen copy of them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, Connection, Table, event

RETENTION_YEARS = 5

POSTGRESQL_CREATE = (
    f"""
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.at < now() - interval '{RETENTION_YEARS} years' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION USING MESSAGE = 'audit_event is append-only: DELETE of a row '
            || 'younger than {RETENTION_YEARS} years refused';
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'audit_event is append-only: ' || TG_OP || ' refused';
END;
$$
""",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
)

# SQLite stores a timestamp as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, which compares as text
# with datetime('now', …) ('YYYY-MM-DD HH:MM:SS', UTC).
SQLITE_CREATE = (
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    f"WHEN OLD.at >= datetime('now', '-{RETENTION_YEARS} years') "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE of a row younger than "
    f"{RETENTION_YEARS} years refused'); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
)


def attach(table: Table) -> None:
    """Create the triggers whenever the table is created (create_all), on either database."""
    for statement in POSTGRESQL_CREATE:
        event.listen(table, "after_create", _ddl(statement).execute_if(dialect="postgresql"))
    for statement in SQLITE_CREATE:
        event.listen(table, "after_create", _ddl(statement).execute_if(dialect="sqlite"))
    event.listen(
        table,
        "after_drop",
        DDL("DROP FUNCTION IF EXISTS audit_event_append_only()").execute_if(dialect="postgresql"),
    )


def _ddl(statement: str) -> DDL:
    # DDL() and the drivers read % as a placeholder: the statements must hold none.
    assert "%" not in statement
    return DDL(statement)


def install(connection: Connection) -> None:
    """Create the triggers on an existing table (after remove())."""
    for statement in _statements(connection, POSTGRESQL_CREATE, SQLITE_CREATE):
        connection.exec_driver_sql(statement)


def remove(connection: Connection) -> None:
    """Drop the triggers; the test suite does so inside the transaction that empties the
    tables after each test, and puts them back before it commits."""
    for statement in _statements(connection, POSTGRESQL_DROP, SQLITE_DROP):
        connection.exec_driver_sql(statement)


def _statements(connection: Connection, postgresql: Any, sqlite: Any) -> tuple[str, ...]:
    name = connection.dialect.name
    if name == "postgresql":
        return tuple(postgresql)
    if name == "sqlite":
        return tuple(sqlite)
    raise RuntimeError(f"no append-only triggers for {name}")
