"""The login throttle under a real server: gunicorn with two worker processes, clients on
several loopback addresses (all of 127/8 is this machine) firing at once.

It runs on the test database (SQLite, or PostgreSQL with SIP_TEST_BACKEND=postgresql) and,
with SIP_TEST_REDIS_URL set, again with the failures and sessions in Redis.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import func, select

from sip_tracker import ROOT
from sip_tracker.auth.models import LoginFailure
from sip_tracker.auth.sessions import REDIS_PREFIX as SESSION_PREFIX
from sip_tracker.auth.throttle import REDIS_PREFIX as THROTTLE_PREFIX
from sip_tracker.db import db
from tests.factories import PASSWORD

ADDRESSES = [f"127.0.0.{n}" for n in range(2, 7)]
ATTEMPTS_PER_ADDRESS = 10
ACCOUNT_LIMIT = 5  # the default: 5 failures per account in 15 minutes
STARTUP_SECONDS = 60


@dataclass
class Server:
    port: int
    redis_url: str | None


@pytest.fixture(params=["database", "redis"])
def server(request: pytest.FixtureRequest, app: Flask) -> Iterator[Server]:
    redis_url = None
    if request.param == "redis":
        redis_url = os.environ.get("SIP_TEST_REDIS_URL")
        if not redis_url:
            pytest.skip("SIP_TEST_REDIS_URL is not set: the Redis store is not tested")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": str(app.config["SQLALCHEMY_DATABASE_URI"]),
        "SECRET_KEY": "a-secret-key-for-the-server-under-test-0123456789",
        "SIP_ENV": "development",
        "SIP_TRUSTED_PROXIES": "0",
        **({"SIP_REDIS_URL": redis_url} if redis_url else {}),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers=2",
            "--bind=127.0.0.1:0",
            "--graceful-timeout=5",
            "sip_tracker:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    # Keep reading its log once it has started, so a full pipe never stalls it.
    drain = threading.Thread(target=process.stderr.read, daemon=True)
    try:
        port = _wait_for_workers(process)
        drain.start()
        yield Server(port=port, redis_url=redis_url)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        if drain.is_alive():
            drain.join(timeout=5)
        process.stderr.close()
        if redis_url:
            client = Redis.from_url(redis_url)
            for prefix in (SESSION_PREFIX, THROTTLE_PREFIX):
                for key in client.scan_iter(f"{prefix}*"):
                    client.delete(key)
            client.close()


def _wait_for_workers(process: subprocess.Popen[str]) -> int:
    """The port gunicorn chose, once both workers have booted."""
    assert process.stderr is not None
    port, booted, deadline = None, 0, time.monotonic() + STARTUP_SECONDS
    while booted < 2:
        line = process.stderr.readline()
        if not line or time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not start (last line: {line!r})")
        if found := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line):
            port = int(found.group(1))
        booted += "Booting worker" in line
    assert port is not None
    return port


class Browser:
    """One visitor on one source address: keeps its session cookie, sends the CSRF token."""

    def __init__(self, port: int, address: str) -> None:
        self.port, self.address, self.cookie = port, address, ""

    def request(self, method: str, path: str, body: str = "", **headers: str):
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(self.address, 0)
        )
        if self.cookie:
            headers["Cookie"] = f"session={self.cookie}"
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        html = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            if "session" in cookie:
                self.cookie = cookie["session"].value
        connection.close()
        return response.status, response.headers, html

    def sign_in(self, email: str, password: str, forwarded_for: str = "") -> int:
        _, _, html = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        assert token, html
        body = urlencode({"csrf_token": token.group(1), "email": email, "password": password})
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        status, _, _ = self.request("POST", "/login", body, **headers)
        return status


def test_two_workers_check_no_more_wrong_passwords_than_the_limit(server, make):
    user = make.user()
    email = user.email
    make.commit()

    def guess(n: int) -> int:
        address = ADDRESSES[n % len(ADDRESSES)]
        # A made-up X-Forwarded-For on every guess: no proxy is trusted, so it counts for nothing.
        return Browser(server.port, address).sign_in(email, f"gissning-{n}", f"198.51.100.{n}")

    with ThreadPoolExecutor(max_workers=2 * len(ADDRESSES)) as pool:
        answers = list(pool.map(guess, range(len(ADDRESSES) * ATTEMPTS_PER_ADDRESS)))

    assert answers.count(422) == ACCOUNT_LIMIT  # checked, and wrong
    assert answers.count(429) == len(answers) - ACCOUNT_LIMIT  # refused unchecked
    if server.redis_url is None:
        assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == ACCOUNT_LIMIT
        db.session.commit()
    # The account is locked for everyone, whatever the address and the password.
    assert Browser(server.port, "127.0.0.9").sign_in(email, PASSWORD) == 429


@pytest.mark.parametrize("server", ["database"], indirect=True)
def test_a_session_started_by_one_worker_ends_for_both_at_logout(server, make):
    user = make.user()
    email = user.email
    make.commit()
    browser = Browser(server.port, "127.0.0.10")

    assert browser.sign_in(email, PASSWORD) == 302
    copy = browser.cookie
    pages = [browser.request("GET", "/")[0] for _ in range(6)]  # served by either worker
    _, _, html = browser.request("GET", "/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, html
    assert browser.request("POST", "/logout", urlencode({"csrf_token": token.group(1)}))[0] == 302

    thief = Browser(server.port, "127.0.0.11")
    thief.cookie = copy
    replays = [thief.request("GET", "/") for _ in range(6)]

    assert pages == [200] * 6
    assert [(status, headers["Location"][:6]) for status, headers, _ in replays] == [
        (302, "/login")
    ] * 6
