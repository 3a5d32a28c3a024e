"""Sessions kept on the server: the cookie holds a random id and nothing else.

Flask-Session provides the session object, the id, the serialisation and the cookie, and
its Redis store when SIP_REDIS_URL is set. By default sessions live in the application's
database (table web_session), written in the request's own transaction. Flask-Session's
own SQLAlchemy store does not fit: it creates its table when the app starts, declares its
model anew for every app, and commits the request's database session itself.

A signed-in session records the user, the user's session generation, when it began and
when it was last used; load_user() refuses it once the generation moved on (sign-out,
a new password, deactivation), after SESSION_MAX_LIFETIME since sign-in, or after
PERMANENT_SESSION_LIFETIME without a request.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response, current_app, session
from flask_login import login_user, logout_user
from flask_session.base import ServerSideSession, ServerSideSessionInterface
from flask_session.redis import RedisSessionInterface
from redis import Redis
from sqlalchemy import delete

from sip_tracker.auth.models import User, WebSession
from sip_tracker.db import db, utcnow

REDIS_PREFIX = "sip-tracker:session:"
# How stale "last used" may get before a request writes it again: the idle timeout is
# this precise, and a busy user's session is written once a minute, not on every click.
TOUCH_AFTER_SECONDS = 60
_USER, _GENERATION, _STARTED, _SEEN = "_user_id", "_generation", "_started_at", "_seen_at"
_SIGNED_IN_KEYS = (_USER, "_fresh", "_id", _GENERATION, _STARTED, _SEEN)


class _HashedIds:
    """Store a session under a hash of its id, so a copy of the store opens no session."""

    key_prefix: str

    def _get_store_id(self, sid: str) -> str:
        return self.key_prefix + hashlib.sha256(sid.encode()).hexdigest()


class DatabaseSessionInterface(_HashedIds, ServerSideSessionInterface):
    """Sessions as rows of web_session, read and written in the request's transaction.

    Flask saves the session after every after_request hook, so after the commit; init_app
    saves it from a hook that runs just before the commit instead, and the later call
    only finds it done.
    """

    # Expired rows are never read (the query asks for live ones); sign-in deletes them.
    ttl = True

    def __init__(self, app: Flask) -> None:
        super().__init__(app, key_prefix="", permanent=False)

    def open_session(self, app: Flask, request: Request) -> ServerSideSession:
        if request.path.startswith(f"{app.static_url_path}/"):
            # Stylesheets need no session, and on SQLite reading one would take the lock.
            return self.session_class(sid=self._generate_sid(self.sid_length))
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if getattr(session, "saved", False):
            return
        super().save_session(app, session, response)
        session.saved = True

    def _retrieve_session_data(self, store_id: str) -> dict[str, Any] | None:
        row = db.session.get(WebSession, store_id)
        if row is None or row.expires_at <= utcnow():
            return None
        data: dict[str, Any] = self.serializer.decode(row.data)
        return data

    def _delete_session(self, store_id: str) -> None:
        db.session.execute(delete(WebSession).where(WebSession.id == store_id))

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        row = db.session.get(WebSession, store_id)
        if row is None:
            row = WebSession(id=store_id)
            db.session.add(row)
        row.data = self.serializer.encode(session)
        row.expires_at = utcnow() + session_lifetime
        db.session.flush()


class HashedRedisSessionInterface(_HashedIds, RedisSessionInterface):
    """Flask-Session's Redis store; Redis expires each session after the idle timeout."""


def init_app(app: Flask) -> None:
    """Keep sessions on the server: in Redis when REDIS_URL is set, else in the database.

    Call after web.init_app: Flask runs after_request hooks in reverse order, so the hook
    registered here saves a database session before web.py's hook commits.
    """
    url = app.config.get("REDIS_URL")
    app.session_interface = redis_interface(app, url) if url else DatabaseSessionInterface(app)

    @app.after_request
    def save_session_before_commit(response: Response) -> Response:
        interface = app.session_interface
        if isinstance(interface, DatabaseSessionInterface):
            stored: Any = session._get_current_object()  # type: ignore[attr-defined]
            if response.status_code >= 500:
                stored.saved = True  # rolled back with the request: nothing to keep
            else:
                interface.save_session(app, stored, response)
        return response


def redis_interface(app: Flask, url: str) -> HashedRedisSessionInterface:
    return HashedRedisSessionInterface(
        app, client=Redis.from_url(url), key_prefix=REDIS_PREFIX, permanent=False
    )


def start(user: User) -> None:
    """Sign the user in on a new session id (no fixation), keeping the visitor's data."""
    if isinstance(current_app.session_interface, ServerSideSessionInterface):
        current_app.session_interface.regenerate(session)
    if isinstance(current_app.session_interface, DatabaseSessionInterface):
        # Rows of sessions that ended unused would otherwise stay; this is a cheap moment.
        db.session.execute(delete(WebSession).where(WebSession.expires_at <= utcnow()))
    login_user(user)
    mark_signed_in(session, user)


def mark_signed_in(stored: MutableMapping[str, Any], user: User) -> None:
    """Record in a session that the user signed in to it now, under the current generation."""
    now = time.time()
    stored[_USER] = str(user.id)
    stored["_fresh"] = True
    stored[_GENERATION] = user.session_generation
    stored[_STARTED] = now
    stored[_SEEN] = now


def end() -> None:
    """Sign out this browser: its session id is dropped, so a copied cookie opens nothing."""
    logout_user()
    _forget()


def is_current(user: User, user_id: str) -> bool:
    """Whether this request's session was started for the user and may go on; note the use.

    user_id: what Flask-Login loaded the user by. A remember-me cookie's id is refused: only
    a sign-in starts a session.
    """
    now = time.time()
    started, seen = session.get(_STARTED), session.get(_SEEN)
    if session.get(_USER) != user_id or started is None or seen is None:
        return False
    if session.get(_GENERATION) != user.session_generation:
        return False
    config = current_app.config
    if now - started > config["SESSION_MAX_LIFETIME"].total_seconds():
        return False
    if now - seen > config["PERMANENT_SESSION_LIFETIME"].total_seconds():
        return False
    if now - seen > TOUCH_AFTER_SECONDS:
        session[_SEEN] = now
    return True


def refuse() -> None:
    """Forget who the session was for, under a new id: it may not go on."""
    _forget()


def _forget() -> None:
    if isinstance(current_app.session_interface, ServerSideSessionInterface):
        current_app.session_interface.regenerate(session)
    for key in _SIGNED_IN_KEYS:
        session.pop(key, None)
