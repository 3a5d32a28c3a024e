"""Sessions: kept on the server, ended everywhere at once, timed out, never fixed in advance.

Each browser here signs in through the login page with a password; "replaying" a cookie
means a fresh browser sending a copy of it, as someone who took it would.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from flask_login.utils import encode_cookie

from sip_tracker.auth.models import Role, WebSession
from sip_tracker.auth.sessions import REDIS_PREFIX, redis_interface
from sip_tracker.db import db
from tests.factories import PASSWORD, login

NEW_PASSWORD = "granen-vid-sjon-i-mars"


def _sign_in(app: Flask, email: str, password: str = PASSWORD) -> FlaskClient:
    """A new browser that signs in with the password, as a person does."""
    g.pop("_login_user", None)
    browser = app.test_client()
    assert browser.get("/login").status_code == 200  # a visitor's session, before sign-in
    response = browser.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def _cookie(browser: FlaskClient) -> str:
    cookie = browser.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _signed_in(app: Flask, browser: FlaskClient) -> bool:
    """The overview opens for a signed-in browser; anyone else is sent to the login page."""
    g.pop("_login_user", None)
    response = browser.get("/")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
        return False
    assert response.status_code == 200
    return True


def _replay(app: Flask, cookie: str) -> bool:
    """Whether a fresh browser holding only a copy of this cookie is signed in."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return _signed_in(app, thief)


@pytest.fixture(params=["database", "redis"])
def server(
    request: pytest.FixtureRequest, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    """The app with sessions in the database (the default) and, when a test Redis is
    given (SIP_TEST_REDIS_URL), in Redis: the controls that depend on the store must hold
    for both (the others are the same code whatever the store)."""
    if request.param == "database":
        yield app
        return
    url = os.environ.get("SIP_TEST_REDIS_URL")
    if not url:
        pytest.skip("SIP_TEST_REDIS_URL is not set: the Redis session store is not tested")
    interface = redis_interface(app, url)
    monkeypatch.setattr(app, "session_interface", interface)
    yield app
    for key in interface.client.scan_iter(f"{REDIS_PREFIX}*"):
        interface.client.delete(key)
    interface.client.connection_pool.disconnect()


# What the cookie holds -----------------------------------------------------------------


def test_the_cookie_holds_an_opaque_id_and_no_name(app, client, make):
    admin = make.user(role=Role.ADMINISTRATOR)
    unit = make.unit()
    make.commit()
    login(client, admin)

    response = client.post(
        "/admin/users/new",
        data={
            "name": "Karin Berg",
            "email": "karin.berg@test.example",
            "role": "samordnare",
            "unit_id": str(unit.id),
            "active": "y",
            "password": NEW_PASSWORD,
        },
    )
    set_cookies = response.headers.getlist("Set-Cookie")
    shown = client.get(response.headers["Location"]).get_data(as_text=True)

    assert "Användaren Karin Berg är skapad." in shown  # the message lives on the app
    for header in set_cookies:
        name, value = header.split(";")[0].split("=", 1)
        assert name == "session"
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), header  # 32 random bytes
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", _cookie(client))


def test_the_session_store_holds_no_usable_cookie(app, make):
    user = make.user()
    make.commit()
    browser = _sign_in(app, user.email)

    stored = db.session.scalars(db.select(WebSession.id)).all()

    assert _cookie(browser) not in stored
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{64}", stored[0])


def test_sign_in_sets_no_remember_me_cookie_and_refuses_a_forged_one(app, make):
    user = make.user()
    make.commit()
    browser = _sign_in(app, user.email)
    assert [cookie.key for cookie in browser._cookies.values()] == ["session"]

    forger = app.test_client()
    with app.test_request_context():
        forged = encode_cookie(str(user.id))  # signed with the real secret key
    forger.set_cookie("remember_token", forged)

    assert not _signed_in(app, forger)


# Sign-in, sign-out -----------------------------------------------------------------------


def test_sign_in_gives_the_browser_a_new_session_id(app, make):
    """A session id planted before sign-in (session fixation) opens nothing after it."""
    user = make.user()
    make.commit()
    browser = app.test_client()
    browser.get("/login?lang=sv")  # a visitor's session (it remembers the language)
    planted = _cookie(browser)

    browser.post("/login", data={"email": user.email, "password": PASSWORD})

    assert _cookie(browser) != planted
    assert _signed_in(app, browser)
    assert not _replay(app, planted)


def test_a_copied_cookie_is_refused_after_logout(server, make):
    user = make.user()
    make.commit()
    browser = _sign_in(server, user.email)
    copy = _cookie(browser)
    assert _replay(server, copy)

    g.pop("_login_user", None)
    response = browser.post("/logout", follow_redirects=True)

    assert "Du är utloggad." in response.get_data(as_text=True)
    assert not _replay(server, copy)
    assert not _signed_in(server, browser)


def test_logout_ends_the_users_sessions_in_every_browser(server, make):
    user = make.user()
    other = make.user()
    make.commit()
    laptop = _sign_in(server, user.email)
    phone = _sign_in(server, user.email)
    colleague = _sign_in(server, other.email)

    g.pop("_login_user", None)
    laptop.post("/logout")

    assert not _signed_in(server, phone)
    assert _signed_in(server, colleague)
    assert _signed_in(server, _sign_in(server, user.email))  # signing in again works


# A new password, deactivation ------------------------------------------------------------


def test_a_new_password_set_by_an_administrator_ends_every_session_of_the_user(app, make):
    admin = make.user(role=Role.ADMINISTRATOR)
    user = make.user()
    make.commit()
    browser = _sign_in(app, user.email)
    copy = _cookie(browser)
    admin_browser = _sign_in(app, admin.email)

    g.pop("_login_user", None)
    response = admin_browser.post(
        f"/admin/users/{user.id}",
        data={
            "name": user.name,
            "role": "samordnare",
            "unit_id": str(user.unit_id),
            "active": "y",
            "password": NEW_PASSWORD,
            "lock_version": "1",
        },
    )

    assert response.status_code == 302
    assert not _signed_in(app, browser)
    assert not _replay(app, copy)
    assert _signed_in(app, admin_browser)
    assert _signed_in(app, _sign_in(app, user.email, NEW_PASSWORD))


def test_an_administrator_who_sets_their_own_password_stays_signed_in(app, make):
    admin = make.user(role=Role.ADMINISTRATOR)
    make.commit()
    here = _sign_in(app, admin.email)
    elsewhere = _sign_in(app, admin.email)

    g.pop("_login_user", None)
    response = here.post(
        f"/admin/users/{admin.id}",
        data={
            "name": admin.name,
            "role": "administrator",
            "unit_id": str(admin.unit_id),
            "active": "y",
            "password": NEW_PASSWORD,
            "lock_version": "1",
        },
    )

    assert response.status_code == 302
    assert _signed_in(app, here)
    assert not _signed_in(app, elsewhere)


def test_a_users_own_new_password_ends_their_other_sessions_and_keeps_this_one(app, make):
    user = make.user()
    make.commit()
    here = _sign_in(app, user.email)
    copy = _cookie(here)
    elsewhere = _sign_in(app, user.email)

    g.pop("_login_user", None)
    response = here.post(
        "/account/password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        follow_redirects=True,
    )

    assert "Lösenordet är bytt." in response.get_data(as_text=True)
    assert _signed_in(app, here)
    assert not _signed_in(app, elsewhere)
    assert not _replay(app, copy)  # this browser too got a new session id
    assert _signed_in(app, _sign_in(app, user.email, NEW_PASSWORD))


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "message"),
    [
        ("fel-losenord-123", NEW_PASSWORD, NEW_PASSWORD, "current_password", "är fel"),
        (PASSWORD, "kort", "kort", "password", "minst 12 tecken"),
        (PASSWORD, "password1234", "password1234", "password", "vanliga lösenord"),
        (PASSWORD, NEW_PASSWORD, "granen-vid-sjon", "confirm", "inte lika"),
        (PASSWORD, PASSWORD, PASSWORD, "password", "skilja sig"),
    ],
)
def test_a_refused_password_change_says_why_at_the_field_and_signs_nobody_out(
    app, make, current, new, confirm, field, message
):
    user = make.user()
    make.commit()
    here = _sign_in(app, user.email)
    elsewhere = _sign_in(app, user.email)

    g.pop("_login_user", None)
    response = here.post(
        "/account/password", data={"current_password": current, "password": new, "confirm": confirm}
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert error is not None and message in error.group(1)
    assert new not in html and current not in html  # no password is echoed back
    assert _signed_in(app, here)
    assert _signed_in(app, elsewhere)


def test_the_password_page_is_for_signed_in_users(client):
    response = client.get("/account/password")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_deactivation_ends_every_session_even_once_the_account_is_active_again(app, make):
    admin = make.user(role=Role.ADMINISTRATOR)
    user = make.user()
    make.commit()
    browser = _sign_in(app, user.email)
    copy = _cookie(browser)
    admin_browser = _sign_in(app, admin.email)
    form = {"name": user.name, "role": "samordnare", "unit_id": str(user.unit_id)}

    g.pop("_login_user", None)
    deactivated = admin_browser.post(f"/admin/users/{user.id}", data={**form, "lock_version": "1"})
    assert deactivated.status_code == 302
    assert not _signed_in(app, browser)
    g.pop("_login_user", None)
    admin_browser.post(f"/admin/users/{user.id}", data={**form, "active": "y", "lock_version": "2"})

    assert not _replay(app, copy)
    assert not _signed_in(app, browser)


# Timeouts --------------------------------------------------------------------------------


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    return time_machine


def test_a_session_ends_after_30_minutes_without_a_request(server, make, clock):
    user = make.user()
    make.commit()
    idle = _sign_in(server, user.email)
    busy = _sign_in(server, user.email)

    clock.shift(timedelta(minutes=20))
    assert _signed_in(server, busy)
    clock.shift(timedelta(minutes=20))  # 40 minutes after sign-in, 20 after busy's request

    assert _signed_in(server, busy)
    assert not _signed_in(server, idle)


def test_a_session_ends_12_hours_after_sign_in_however_busy(app, make, clock):
    user = make.user()
    make.commit()
    browser = _sign_in(app, user.email)

    for _ in range(11 * 3 + 2):  # a request every 20 minutes: 11 h 40 min
        clock.shift(timedelta(minutes=20))
        assert _signed_in(app, browser)
    clock.shift(timedelta(minutes=21))

    assert not _signed_in(app, browser)


def test_the_timeouts_are_configurable(app, make, clock, monkeypatch):
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(minutes=5))
    monkeypatch.setitem(app.config, "SESSION_MAX_LIFETIME", timedelta(minutes=8))
    user = make.user()
    make.commit()
    idle = _sign_in(app, user.email)
    busy = _sign_in(app, user.email)

    clock.shift(timedelta(minutes=4))
    assert _signed_in(app, busy)
    clock.shift(timedelta(minutes=2))
    assert not _signed_in(app, idle)
    assert _signed_in(app, busy)
    clock.shift(timedelta(minutes=3))
    assert not _signed_in(app, busy)
