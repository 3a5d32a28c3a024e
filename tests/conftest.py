"""Fixtures: a real database (SQLite, or PostgreSQL with SIP_TEST_BACKEND=postgresql),
emptied after every test, and small factories for the domain."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import text

from sip_tracker import create_app
from sip_tracker.audit import append_only
from sip_tracker.db import db
from sip_tracker.extensions import limiter
from tests.factories import Factory


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if os.environ.get("SIP_TEST_BACKEND") == "postgresql":
        url = os.environ.get("SIP_TEST_DATABASE_URL")
        if not url:
            raise RuntimeError("SIP_TEST_BACKEND=postgresql needs SIP_TEST_DATABASE_URL")
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = _database_url(tmp_path_factory)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            # A test that waits for SQLite's write lock is a test that holds two sessions
            # open at once: fail fast instead of after the production timeout.
            "SQLITE_LOCK_TIMEOUT": 2,
            "WTF_CSRF_ENABLED": False,
            # The worker's queue (embedded back end) in the test's own folder.
            "QUEUE_SQLITE_PATH": str(tmp_path_factory.mktemp("queue") / "queue.db"),
            "QUEUE_REDIS_URL": None,
        }
    )
    import sip_tracker.models  # noqa: F401  (every table in the metadata)

    @app.before_request
    def _forget_cached_user() -> None:
        # Tests keep an app context open that requests reuse: start each request afresh,
        # as it does in production (the user and language are cached per app context).
        g.pop("_login_user", None)
        g.pop("_flask_babel", None)

    with app.app_context():
        db.drop_all()
        _drop_alembic_version()
        db.create_all()
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _drop_alembic_version() -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _empty_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """A fresh database for every test: delete every row afterwards."""
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    limiter.reset()
    with app.app_context():
        empty_every_table()


def empty_every_table() -> None:
    """Delete every row of every table, the access log's included.

    The log refuses DELETE (audit/append_only.py): its triggers are dropped and created
    again inside this one transaction, so no other connection sees the table without them.
    """
    db.session.remove()
    with db.engine.begin() as conn:
        append_only.remove(conn)
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        append_only.install(conn)


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An application context for tests that call services directly."""
    with app.test_request_context():
        yield
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make(app: Flask, ctx: None) -> Factory:
    return Factory()
