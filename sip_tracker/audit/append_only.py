"""Triggers that keep the access log append-only, in the database itself.

HSLF-FS 2016:40 asks for an access log nobody can alter. The application never changes or
deletes a row, and these triggers make sure nothing else does either (a bug, a console, a
compromised account): UPDATE is refused, and so is DELETE of a row younger than the log's
retention period of five years; only the retention command's deletion of older rows
passes. PostgreSQL refuses TRUNCATE as well (SQLite has none).

The messages of a case (case_message) are kept the same way: a message is never changed
after it is sent (a correction is a new message), and goes only with its case (a case's
deletion, gallring, cascades to it). Its kvittenser (message_receipt) are given once and
never changed or taken back.

The same statements are created with the tables (create_all, for the tests) and by the
migrations 0008 (the access log) and 0012 (messages), which keep frozen copies of them.
"""

from __future__ import annotations

from dataclasses import dataclass
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


# --- Messages: never changed once sent; deleted only with their case -----------------------

CASE_MESSAGE_POSTGRESQL_CREATE = (
    """
CREATE OR REPLACE FUNCTION case_message_sent() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM sip_case WHERE id = OLD.case_id) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION USING MESSAGE = 'case_message is never changed once sent: DELETE '
            || 'refused (a message goes with its case)';
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'case_message is never changed once sent: UPDATE refused';
END;
$$
""",
    "CREATE TRIGGER case_message_sent BEFORE UPDATE OR DELETE ON case_message "
    "FOR EACH ROW EXECUTE FUNCTION case_message_sent()",
)
CASE_MESSAGE_POSTGRESQL_DROP = ("DROP TRIGGER IF EXISTS case_message_sent ON case_message",)
RECEIPT_POSTGRESQL_CREATE = (
    """
CREATE OR REPLACE FUNCTION message_receipt_given_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM case_message WHERE id = OLD.message_id) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION USING MESSAGE = 'message_receipt is given once: DELETE refused '
            || '(a receipt goes with its message)';
    END IF;
    IF NEW.message_id <> OLD.message_id OR NEW.unit_id <> OLD.unit_id
            OR OLD.acknowledged_at IS NOT NULL THEN
        RAISE EXCEPTION USING MESSAGE = 'message_receipt is given once: UPDATE refused';
    END IF;
    RETURN NEW;
END;
$$
""",
    "CREATE TRIGGER message_receipt_given_once BEFORE UPDATE OR DELETE ON message_receipt "
    "FOR EACH ROW EXECUTE FUNCTION message_receipt_given_once()",
)
RECEIPT_POSTGRESQL_DROP = ("DROP TRIGGER IF EXISTS message_receipt_given_once ON message_receipt",)
CASE_MESSAGE_SQLITE_CREATE = (
    "CREATE TRIGGER case_message_no_update BEFORE UPDATE ON case_message "
    "BEGIN SELECT RAISE(ABORT, 'case_message is never changed once sent: UPDATE refused'); END",
    "CREATE TRIGGER case_message_no_delete BEFORE DELETE ON case_message "
    "WHEN EXISTS (SELECT 1 FROM sip_case WHERE id = OLD.case_id) "
    "BEGIN SELECT RAISE(ABORT, 'case_message is never changed once sent: DELETE refused "
    "(a message goes with its case)'); END",
)
CASE_MESSAGE_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS case_message_no_delete",
    "DROP TRIGGER IF EXISTS case_message_no_update",
)
RECEIPT_SQLITE_CREATE = (
    "CREATE TRIGGER message_receipt_given_once BEFORE UPDATE ON message_receipt "
    "WHEN NEW.message_id IS NOT OLD.message_id OR NEW.unit_id IS NOT OLD.unit_id "
    "OR OLD.acknowledged_at IS NOT NULL "
    "BEGIN SELECT RAISE(ABORT, 'message_receipt is given once: UPDATE refused'); END",
    "CREATE TRIGGER message_receipt_no_delete BEFORE DELETE ON message_receipt "
    "WHEN EXISTS (SELECT 1 FROM case_message WHERE id = OLD.message_id) "
    "BEGIN SELECT RAISE(ABORT, 'message_receipt is given once: DELETE refused "
    "(a receipt goes with its message)'); END",
)
RECEIPT_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS message_receipt_no_delete",
    "DROP TRIGGER IF EXISTS message_receipt_given_once",
)


@dataclass(frozen=True)
class Guard:
    """A table's triggers: made with it, dropped and made again by remove()/install()."""

    postgresql_create: tuple[str, ...]
    postgresql_drop: tuple[str, ...]
    sqlite_create: tuple[str, ...]
    sqlite_drop: tuple[str, ...]
    function: str  # PostgreSQL's trigger function, dropped with the table


GUARDS = {
    "audit_event": Guard(
        POSTGRESQL_CREATE,
        POSTGRESQL_DROP,
        SQLITE_CREATE,
        SQLITE_DROP,
        "audit_event_append_only()",
    ),
    "case_message": Guard(
        CASE_MESSAGE_POSTGRESQL_CREATE,
        CASE_MESSAGE_POSTGRESQL_DROP,
        CASE_MESSAGE_SQLITE_CREATE,
        CASE_MESSAGE_SQLITE_DROP,
        "case_message_sent()",
    ),
    "message_receipt": Guard(
        RECEIPT_POSTGRESQL_CREATE,
        RECEIPT_POSTGRESQL_DROP,
        RECEIPT_SQLITE_CREATE,
        RECEIPT_SQLITE_DROP,
        "message_receipt_given_once()",
    ),
}


def attach(table: Table) -> None:
    """Create the table's triggers whenever it is created (create_all), on either database."""
    guard = GUARDS[table.name]
    for statement in guard.postgresql_create:
        event.listen(table, "after_create", _ddl(statement).execute_if(dialect="postgresql"))
    for statement in guard.sqlite_create:
        event.listen(table, "after_create", _ddl(statement).execute_if(dialect="sqlite"))
    event.listen(
        table,
        "after_drop",
        DDL(f"DROP FUNCTION IF EXISTS {guard.function}").execute_if(dialect="postgresql"),
    )


def _ddl(statement: str) -> DDL:
    # DDL() and the drivers read % as a placeholder: the statements must hold none.
    assert "%" not in statement
    return DDL(statement)


def install(connection: Connection) -> None:
    """Create the triggers on the existing tables (after remove())."""
    for guard in GUARDS.values():
        for statement in _statements(connection, guard.postgresql_create, guard.sqlite_create):
            connection.exec_driver_sql(statement)


def remove(connection: Connection) -> None:
    """Drop the triggers; the test suite does so inside the transaction that empties the
    tables after each test, and puts them back before it commits."""
    for guard in GUARDS.values():
        for statement in _statements(connection, guard.postgresql_drop, guard.sqlite_drop):
            connection.exec_driver_sql(statement)


def _statements(connection: Connection, postgresql: Any, sqlite: Any) -> tuple[str, ...]:
    name = connection.dialect.name
    if name == "postgresql":
        return tuple(postgresql)
    if name == "sqlite":
        return tuple(sqlite)
    raise RuntimeError(f"no append-only triggers for {name}")
