"""The app's PostgreSQL connections: JIT off (issue 10), whatever the pool hands out."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text

from sip_tracker.db import db


def test_jit_is_off_on_every_connection_the_app_uses(app: Flask) -> None:
    if not str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no JIT (the PostgreSQL run covers it)")
    with app.app_context():
        with db.engine.connect() as first, db.engine.connect() as second:
            assert first.scalar(text("SHOW jit")) == "off"
            first.rollback()  # the pool's reset on return: a rollback keeps it off
            assert first.scalar(text("SHOW jit")) == "off"
            assert second.scalar(text("SHOW jit")) == "off"
        assert db.session.scalar(text("SHOW jit")) == "off"
        db.session.rollback()
