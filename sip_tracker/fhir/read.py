"""GET /fhir/<type>/<id>, the hottest path: token, resource, access rule and audit row in as
few round trips as the database allows.

The statement looks up the bearer token and the stored resource, evaluates the access rule
(fhir/access.py) for the token's organisation, and returns what the view needs to answer
(401, 403, 404, 304 or 200). On PostgreSQL the audit row, and the token's `last_used_at`
once a minute, are written by the same statement (data-modifying CTEs), on an autocommit
connection kept for this path: one round trip per read, and the audit row is committed,
with the read, before a byte is sent (how durably: see _HotConnection). SQLite has no
data-modifying CTEs; there (development) they are two more statements in the request's
transaction. The ORM and `fhir.resources` stay off this path: the bytes served are the
JSON validated when the version was written.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

import psycopg
from flask import current_app
from psycopg.conninfo import make_conninfo
from sqlalchemy import (
    Insert,
    Integer,
    Select,
    String,
    Update,
    and_,
    bindparam,
    cast,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.engine import URL

from sip_tracker.audit.models import AuditEvent
from sip_tracker.db import POSTGRESQL_SESSION, UTCDateTime, db, utcnow
from sip_tracker.fhir.access import organisation_may_read
from sip_tracker.fhir.models import ApiToken, StoredResource
from sip_tracker.fhir.tokens import PREFIX, digest
from sip_tracker.organizations.models import Unit

# How often a token's last_used_at is written: once a minute is precise enough.
LAST_USED_PRECISION = timedelta(seconds=60)
READ_ACTION = "fhir.read"


@dataclass(frozen=True)
class ReadOutcome:
    """What one read found. `token_live` is False for an unknown or revoked token; `content`
    is None when the resource is missing, not visible to the token, or has no version in
    that FHIR release."""

    token_live: bool
    can_read: bool
    found: bool
    allowed: bool
    version_id: int | None
    last_updated: datetime | None
    content: bytes | None


UNKNOWN_TOKEN = ReadOutcome(False, False, False, False, None, None, None)


class _Found(NamedTuple):
    """The statement's one row, in the order of its columns."""

    token_id: int
    name: str
    huvudman_id: int
    can_read: bool
    revoked_at: datetime | None
    last_used_at: datetime | None
    resource_pk: int | None
    version_id: int | None
    last_updated: datetime | None
    case_id: int | None
    person_id: int | None
    content: bytes | None
    allowed: bool | None


@dataclass(frozen=True)
class _Statements:
    found: Select[Any]  # token + resource + access: one row, none for an unknown token
    audit: Insert  # one audit row, if the read is served and holds a person's data
    touch: Update  # the token's last_used_at, if it is a minute old
    together: Select[Any]  # PostgreSQL: all three in one statement


@cache
def _statements(r5: bool) -> _Statements:
    """Built once per FHIR release (after every model is mapped): building SQL expressions
    costs more than running them."""
    token = (
        select(
            ApiToken.id.label("token_id"),
            ApiToken.name,
            ApiToken.huvudman_id,
            ApiToken.can_read,
            ApiToken.revoked_at,
            ApiToken.last_used_at,
        )
        .where(ApiToken.token_hash == bindparam("secret_hash"))
        .subquery("token")
    )
    content = StoredResource.content_r5 if r5 else StoredResource.content
    # The organisation's units, looked up once per statement (the rule names them six times).
    units = (
        select(Unit.id)
        .where(
            Unit.huvudman_id
            == select(ApiToken.huvudman_id)
            .where(ApiToken.token_hash == bindparam("secret_hash"))
            .scalar_subquery()
        )
        .cte("units")
    )
    found = select(
        *token.c,
        StoredResource.id.label("resource_pk"),
        StoredResource.version_id,
        StoredResource.last_updated,
        StoredResource.case_id,
        StoredResource.person_id,
        content.label("content"),
        organisation_may_read(
            select(units.c.id), StoredResource.case_id, StoredResource.person_id
        ).label("allowed"),
    ).select_from(
        token.outerjoin(
            StoredResource,
            and_(
                StoredResource.resource_type == bindparam("kind"),
                StoredResource.logical_id == bindparam("logical_id"),
            ),
        )
    )
    rows = found.cte("found")
    served = and_(
        rows.c.revoked_at.is_(None),
        rows.c.can_read,
        rows.c.allowed,
        rows.c.content.is_not(None),
        rows.c.person_id.is_not(None),  # only a person's data is logged
        # A conditional read answered 304 sends nothing.
        rows.c.version_id != bindparam("unless_version", type_=Integer),
    )
    detail = literal("API token ") + cast(rows.c.token_id, String) + " (" + rows.c.name + ")"
    audit = insert(AuditEvent).from_select(
        ["at", "action", "person_id", "case_id", "detail"],
        select(
            bindparam("now", type_=UTCDateTime()),
            literal(READ_ACTION),
            rows.c.person_id,
            rows.c.case_id,
            detail,
        ).where(served),
    )
    # A token row another transaction holds (its own last_used_at, a revocation) is left
    # alone: the next read a minute on will write it. Never wait for a lock on a read.
    stale = (
        select(ApiToken.id)
        .where(
            ApiToken.id == rows.c.token_id,
            rows.c.revoked_at.is_(None),
            or_(rows.c.last_used_at.is_(None), rows.c.last_used_at < bindparam("stale")),
        )
        .with_for_update(of=ApiToken, skip_locked=True)
        .correlate(None)
    )
    touch = (
        update(ApiToken)
        .where(ApiToken.id.in_(stale.scalar_subquery()))
        .values(last_used_at=bindparam("now"))
    )
    together = select(*rows.c).add_cte(audit.cte("logged"), touch.cte("touched"))
    assert tuple(column.name for column in together.selected_columns) == _Found._fields
    return _Statements(found=found, audit=audit, touch=touch, together=together)


def read_stored(
    secret: str, kind: str, logical_id: str, *, r5: bool, unless_version: int = 0
) -> ReadOutcome:
    """Read one stored resource for a bearer token, auditing the read if it is served."""
    if not secret.startswith(PREFIX):
        return UNKNOWN_TOKEN
    now = utcnow()
    params = {
        "secret_hash": digest(secret),
        "kind": kind,
        "logical_id": logical_id,
        "unless_version": unless_version,
        "now": now,
        "stale": now - LAST_USED_PRECISION,
    }
    dialect = db.engine.dialect
    if (dialect.name, dialect.driver) == ("postgresql", "psycopg"):
        found = _run_on_postgresql(r5, params)
    else:
        # SQLite (development) has no data-modifying CTEs and allows one writer: three
        # statements through the request's session, committed with it after the view.
        statements = _statements(r5)
        connection = db.session.connection()
        first = connection.execute(statements.found, params).first()
        connection.execute(statements.audit, params)
        connection.execute(statements.touch, params)
        found = None if first is None else _Found._make(first)
    if found is None:
        return UNKNOWN_TOKEN
    return ReadOutcome(
        token_live=found.revoked_at is None,
        can_read=bool(found.can_read),
        found=found.resource_pk is not None,
        allowed=bool(found.allowed),
        version_id=found.version_id,
        last_updated=found.last_updated and found.last_updated.astimezone(UTC),
        content=found.content if found.allowed else None,
    )


@cache
def _postgresql_sql(r5: bool) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """The one statement, compiled once with PostgreSQL's own $n placeholders: its SQL, the
    order of its parameters, and the literals it binds."""
    compiled = _statements(r5).together.compile(
        dialect=psycopg_dialect(paramstyle="numeric_dollar")
    )
    assert compiled.positiontup is not None
    return str(compiled), tuple(compiled.positiontup), dict(compiled.params)


@cache
def _conninfo(url: URL) -> str:
    """libpq's connection string for the engine's URL (query options such as
    `options=-csearch_path=…` included)."""
    parts: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
        "dbname": url.database,
        **url.query,
    }
    return make_conninfo(**{key: value for key, value in parts.items() if value is not None})


class _Connections:
    """Autocommit connections kept for this path alone, a few per process, shared by its
    threads (a sync worker uses one; a threaded server as many as it has requests at once).

    The pool's pre-ping would add a round trip to every read; a connection here is instead
    dropped when it turns out broken, and the read retried once on a new one. (A read
    retried after the server committed it is logged twice: a spare audit row, never a
    missing one.)

    With FHIR_READ_AUDIT_COMMIT = "async" (the default) they commit with synchronous_commit
    off: the statement, audit row included, is committed before the response is sent, but
    PostgreSQL flushes it to disk up to 3 × wal_writer_delay (0.6 s by default) later, so a
    crash of the database server (not of the app) within that time can lose the newest
    read-log rows. "sync" waits for that flush on every read; `make bench` shows the cost.
    """

    KEEP = 8  # idle connections kept per process

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[tuple[tuple[str, bool], psycopg.RawCursor[Any]]] = []
        self._pid = os.getpid()
        # A forked child must neither use nor close its parent's connections (closing
        # would end the parent's sessions): it keeps them, untouched, and opens its own.
        self._inherited: list[Any] = []

    def take(self, conninfo: str, *, synchronous: bool) -> psycopg.RawCursor[Any]:
        """An idle cursor (a raw one: the compiled text is sent as it is), or a new one."""
        key = (conninfo, synchronous)
        stale = []
        with self._lock:
            if self._pid != os.getpid():
                self._inherited.append(self._idle)
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                idle_key, cursor = self._idle.pop()
                if idle_key == key and not cursor.closed:
                    return cursor
                stale.append(cursor)
        for cursor in stale:  # another database or setting (tests, a config change)
            cursor.connection.close()
        connection = psycopg.connect(conninfo, autocommit=True)
        for setting in POSTGRESQL_SESSION:
            connection.execute(setting)
        connection.execute(f"SET synchronous_commit = {'on' if synchronous else 'off'}")
        return psycopg.RawCursor(connection)

    def give_back(
        self, cursor: psycopg.RawCursor[Any], *, conninfo: str, synchronous: bool
    ) -> None:
        with self._lock:
            if self._pid == os.getpid() and len(self._idle) < self.KEEP:
                self._idle.append(((conninfo, synchronous), cursor))
                return
        cursor.connection.close()


_connections = _Connections()


def _run_on_postgresql(r5: bool, params: dict[str, Any]) -> _Found | None:
    """Run the statement straight through the driver, on a connection kept for this path.

    SQLAlchemy's per-execution work (cache key, result wrapping) and psycopg's placeholder
    conversion would cost more than the statement itself: a raw cursor sends the compiled
    text as it is, and psycopg prepares it on the server after a few runs."""
    sql, order, literals = _postgresql_sql(r5)
    arguments = [params[name] if name in params else literals[name] for name in order]
    conninfo = _conninfo(db.engine.url)
    synchronous = current_app.config["FHIR_READ_AUDIT_COMMIT"] == "sync"
    for attempt in (1, 2):
        cursor = _connections.take(conninfo, synchronous=synchronous)
        try:
            cursor.execute(sql, arguments)
            row = cursor.fetchone()
        except psycopg.OperationalError:
            cursor.connection.close()
            if attempt == 2:
                raise
            continue
        except BaseException:
            cursor.connection.close()  # in an unknown state: never reused
            raise
        _connections.give_back(cursor, conninfo=conninfo, synchronous=synchronous)
        return None if row is None else _Found._make(row)
    raise AssertionError("unreachable")
