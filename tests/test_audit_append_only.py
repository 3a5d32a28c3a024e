"""The access log is append-only in the database itself: no UPDATE, no DELETE of a row
younger than five years (the retention command's older rows excepted), no emptying."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from sip_tracker import create_app
from sip_tracker.audit.models import AuditEvent
from sip_tracker.db import db, utcnow
from tests.conftest import empty_every_table
from tests.test_migrations import empty_database  # noqa: F401  (a fixture)


def _row(at: datetime) -> int:
    """A committed log row, written as the services write them."""
    with db.engine.begin() as conn:
        return conn.execute(
            insert(AuditEvent)
            .values(at=at, action="case.read", person_id=1)
            .returning(AuditEvent.id)
        ).scalar_one()


def _count() -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def _refused(statement) -> None:
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(statement)


@pytest.mark.usefixtures("ctx")
def test_a_row_cannot_be_changed():
    event_id = _row(utcnow())

    _refused(update(AuditEvent).where(AuditEvent.id == event_id).values(action="case.update"))
    _refused(
        update(AuditEvent)
        .where(AuditEvent.id == event_id)
        .values(at=datetime(2000, 1, 1, tzinfo=UTC))
    )

    with db.engine.connect() as conn:
        assert conn.execute(select(AuditEvent.action)).scalar_one() == "case.read"


@pytest.mark.usefixtures("ctx")
def test_a_change_through_the_orm_is_refused_too():
    event_id = _row(utcnow())
    event = db.session.get(AuditEvent, event_id)
    event.detail = "efterhandsändrad"

    with pytest.raises(DBAPIError, match="append-only"):
        db.session.flush()


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize("age", [timedelta(0), timedelta(days=365), timedelta(days=5 * 365)])
def test_a_row_younger_than_five_years_cannot_be_deleted(age):
    # Five years of 365 days is still a day or two short of five calendar years.
    event_id = _row(utcnow() - age)

    _refused(delete(AuditEvent).where(AuditEvent.id == event_id))

    assert _count() == 1


@pytest.mark.usefixtures("ctx")
def test_the_retention_command_may_delete_rows_older_than_five_years():
    old = _row(utcnow() - timedelta(days=5 * 366 + 2))
    recent = _row(utcnow() - timedelta(days=4 * 365))

    with db.engine.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.id == old))

    with db.engine.connect() as conn:
        assert conn.execute(select(AuditEvent.id)).scalars().all() == [recent]


@pytest.mark.usefixtures("ctx")
def test_the_log_cannot_be_emptied():
    _row(utcnow() - timedelta(days=6 * 366))  # old enough to delete on its own
    _row(utcnow())

    if db.engine.dialect.name == "postgresql":
        _refused(text("TRUNCATE audit_event CASCADE"))  # fires no row trigger: its own refuses
    _refused(delete(AuditEvent))

    assert _count() == 2


@pytest.mark.usefixtures("ctx")
def test_the_test_suite_empties_the_log_and_leaves_the_triggers_in_place():
    _row(utcnow())

    empty_every_table()

    assert _count() == 0
    event_id = _row(utcnow())
    _refused(delete(AuditEvent).where(AuditEvent.id == event_id))
    _refused(update(AuditEvent).values(detail="x"))


def test_the_migrations_create_the_same_triggers(empty_database):  # noqa: F811
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
    engine = create_engine(empty_database)
    try:
        with engine.begin() as conn:
            recent = conn.execute(
                insert(AuditEvent).values(at=utcnow(), action="case.read").returning(AuditEvent.id)
            ).scalar_one()
            old = conn.execute(
                insert(AuditEvent)
                .values(at=utcnow() - timedelta(days=6 * 366), action="case.read")
                .returning(AuditEvent.id)
            ).scalar_one()
        for statement in (
            update(AuditEvent).values(detail="x"),
            delete(AuditEvent).where(AuditEvent.id == recent),
        ):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(statement)
        with engine.begin() as conn:
            conn.execute(delete(AuditEvent).where(AuditEvent.id == old))
            assert conn.execute(select(AuditEvent.id)).scalars().all() == [recent]
    finally:
        engine.dispose()
        with app.app_context():
            db.engine.dispose()
