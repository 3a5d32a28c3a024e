"""Failed sign-ins: counted per account across all addresses and per address, then locked.

These run in one process against the real storage (the database, and Redis when
SIP_TEST_REDIS_URL is set); tests/test_login_throttle_server.py fires at a real server
with two worker processes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, g
from limits import RateLimitItem
from limits import parse as parse_limit
from sqlalchemy import select

from sip_tracker import create_app
from sip_tracker.auth.models import LoginFailure
from sip_tracker.auth.throttle import REDIS_PREFIX, RedisThrottle
from sip_tracker.db import db
from tests.factories import PASSWORD

WRONG = "fel-losenord-123"
LOCKED = "För många misslyckade inloggningar. Inloggningen är spärrad i"


def _post(app: Flask, email: str, password: str, address: str, **headers: str):
    g.pop("_login_user", None)
    browser = app.test_client()
    return browser.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


def _locked_minutes(response) -> int:
    """The minutes the lock message names; the answer must be 429 with Retry-After."""
    assert response.status_code == 429
    assert response.mimetype == "text/html"  # the login page, with the message at the form
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    found = re.search(rf"{LOCKED} (\d+) minut", html)
    assert found, html
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    return int(found.group(1))


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest, app: Flask, monkeypatch) -> Iterator[str]:
    """Failures counted in the database (the default) and, with SIP_TEST_REDIS_URL, in Redis
    (for the tests of what the store decides: the count, the lock and its length)."""
    if request.param == "database":
        yield "database"
        return
    url = os.environ.get("SIP_TEST_REDIS_URL")
    if not url:
        pytest.skip("SIP_TEST_REDIS_URL is not set: the Redis failure count is not tested")
    current = app.extensions["sip_login_throttle"]
    throttle = RedisThrottle(url, current.per_account, current.per_address)
    monkeypatch.setitem(app.extensions, "sip_login_throttle", throttle)
    yield "redis"
    for key in throttle.client.scan_iter(f"{REDIS_PREFIX}*"):
        throttle.client.delete(key)
    throttle.client.connection_pool.disconnect()


def test_wrong_passwords_for_one_account_from_many_addresses_stop_at_the_limit(app, make, store):
    """The reported attack: 50 wrong passwords from five addresses were all checked."""
    user = make.user()
    make.commit()
    answers = [_post(app, user.email, WRONG, f"10.0.0.{n % 5 + 1}").status_code for n in range(50)]

    assert answers == [422] * 5 + [429] * 45


def test_a_locked_account_refuses_even_the_right_password_and_says_for_how_long(app, make, store):
    user = make.user()
    make.commit()
    for n in range(5):
        _post(app, user.email, WRONG, f"10.0.1.{n}")

    response = _post(app, user.email, PASSWORD, "10.0.1.99")

    assert _locked_minutes(response) == 15
    assert "Lösenord" in response.get_data(as_text=True)  # the form is still there


def test_an_unknown_email_is_locked_the_same_way(app, make, store):
    """The answers do not tell whether an account has the address."""
    user = make.user()
    make.commit()
    known = [_post(app, user.email, WRONG, "10.0.2.1") for _ in range(6)]
    unknown = [_post(app, "ingen.alls@test.example", WRONG, "10.0.2.2") for _ in range(6)]

    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert known[-1].get_data(as_text=True) == unknown[-1].get_data(as_text=True).replace(
        "ingen.alls@test.example", user.email
    )


def test_the_email_is_counted_however_it_is_written(app, make):
    user = make.user(email="karin.berg@test.example")
    make.commit()
    for spelling in [
        "karin.berg@test.example",
        "Karin.Berg@test.example",
        " KARIN.BERG@TEST.EXAMPLE",
    ]:
        _post(app, spelling, WRONG, "10.0.3.1")
        _post(app, spelling, WRONG, "10.0.3.2")

    assert _post(app, user.email, PASSWORD, "10.0.3.3").status_code == 429


def test_one_address_is_locked_after_failures_at_many_accounts(app, make, monkeypatch):
    monkeypatch.setattr(
        app.extensions["sip_login_throttle"], "per_address", parse_limit("8 per 15 minutes")
    )
    user = make.user()
    make.commit()
    for n in range(8):
        assert _post(app, f"gissning{n}@test.example", WRONG, "10.0.4.1").status_code == 422

    assert _post(app, user.email, PASSWORD, "10.0.4.1").status_code == 429
    assert _post(app, user.email, PASSWORD, "10.0.4.2").status_code == 302  # elsewhere: fine


def test_the_default_limits_are_5_per_account_and_30_per_address_in_15_minutes(app):
    throttle = app.extensions["sip_login_throttle"]

    assert (throttle.per_account.amount, throttle.per_account.get_expiry()) == (5, 900)
    assert (throttle.per_address.amount, throttle.per_address.get_expiry()) == (30, 900)


def test_a_successful_sign_in_elsewhere_does_not_give_an_attacker_new_guesses(app, make, store):
    victim = make.user()
    make.commit()
    for _ in range(4):
        assert _post(app, victim.email, WRONG, "10.0.5.66").status_code == 422

    assert _post(app, victim.email, PASSWORD, "10.0.5.1").status_code == 302  # the victim

    assert _post(app, victim.email, WRONG, "10.0.5.66").status_code == 422
    assert _post(app, victim.email, WRONG, "10.0.5.66").status_code == 429


def test_signing_in_to_ones_own_account_does_not_reset_the_address_count(app, make, monkeypatch):
    throttle = app.extensions["sip_login_throttle"]
    monkeypatch.setattr(throttle, "per_address", parse_limit("6 per 15 minutes"))
    attacker = make.user()
    make.commit()
    for n in range(5):
        assert _post(app, f"offer{n}@test.example", WRONG, "10.0.6.66").status_code == 422

    assert _post(app, attacker.email, PASSWORD, "10.0.6.66").status_code == 302

    assert _post(app, "offer9@test.example", WRONG, "10.0.6.66").status_code == 422
    assert _post(app, "offer10@test.example", WRONG, "10.0.6.66").status_code == 429


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    return time_machine


def test_the_lock_lifts_as_the_failures_age_out(app, make, clock):
    user = make.user()
    make.commit()
    for _ in range(5):
        _post(app, user.email, WRONG, "10.0.7.1")
        clock.shift(timedelta(minutes=1))

    # The first failure was 5 minutes ago: it leaves the 15-minute window in 10.
    assert _locked_minutes(_post(app, user.email, PASSWORD, "10.0.7.2")) == 10
    clock.shift(timedelta(minutes=9))
    assert _locked_minutes(_post(app, user.email, PASSWORD, "10.0.7.2")) == 1
    clock.shift(timedelta(minutes=1, seconds=1))

    assert _post(app, user.email, PASSWORD, "10.0.7.2").status_code == 302


def test_failures_are_kept_without_the_email_or_the_address(app, make):
    user = make.user()
    make.commit()
    _post(app, user.email, WRONG, "10.0.8.1")

    [row] = db.session.scalars(select(LoginFailure)).all()

    for value in (row.account_key, row.address_key):
        assert re.fullmatch(r"[0-9a-f]{64}", value)
    assert user.email not in {row.account_key, row.address_key}


@pytest.fixture
def three_per_address() -> RateLimitItem:
    return parse_limit("3 per 15 minutes")


@pytest.fixture
def behind_proxy(app: Flask, three_per_address: RateLimitItem) -> Iterator[Flask]:
    """The app as configured behind one reverse proxy (SIP_TRUSTED_PROXIES=1)."""
    proxied = create_app({**app.config, "TRUSTED_PROXIES": 1})
    proxied.extensions["sip_login_throttle"].per_address = three_per_address
    yield proxied
    with proxied.app_context():
        db.engine.dispose()


def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(
    app, ctx, monkeypatch, three_per_address
):
    """Otherwise anyone could claim a new address on every guess."""
    monkeypatch.setattr(app.extensions["sip_login_throttle"], "per_address", three_per_address)
    for n in range(3):
        forwarded = {"X-Forwarded-For": f"192.0.2.{n}"}
        assert _post(app, f"a{n}@test.example", WRONG, "10.0.9.1", **forwarded).status_code == 422
    forwarded = {"X-Forwarded-For": "192.0.2.200"}

    assert _post(app, "b@test.example", WRONG, "10.0.9.1", **forwarded).status_code == 429


def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(ctx, behind_proxy):
    client, other_client = {"X-Forwarded-For": "192.0.2.7"}, {"X-Forwarded-For": "192.0.2.8"}
    for n in range(3):
        response = _post(behind_proxy, f"c{n}@test.example", WRONG, "10.0.9.2", **client)
        assert response.status_code == 422

    assert _post(behind_proxy, "d@test.example", WRONG, "10.0.9.2", **client).status_code == 429
    assert (
        _post(behind_proxy, "d@test.example", WRONG, "10.0.9.2", **other_client).status_code == 422
    )
