"""The app under gunicorn, as production runs it, and a small HTTP client for the tests
that need real processes: several workers, threads, and a server that can be killed."""

from __future__ import annotations

import html
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask
from sqlalchemy import create_engine, text

from sip_tracker import create_app
from sip_tracker.db import db

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SECRET_KEY = "live-server-test-secret-key-0123456789abcdef"


def server_database(tmp_path: Path, schema: str) -> Iterator[str]:
    """A database only this test uses: a new SQLite file, or a fresh PostgreSQL schema."""
    if os.environ.get("SIP_TEST_BACKEND") != "postgresql":
        yield "sqlite:///" + str(tmp_path / "server.db")
        return
    base = os.environ["SIP_TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


@contextmanager
def database_app(url: str) -> Iterator[Flask]:
    """An app on the given database, with its tables, in an app context (to seed and check)."""
    import sip_tracker.models  # noqa: F401  (every table in the metadata)

    app = create_app({"SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


@dataclass
class Server:
    """gunicorn serving the app: `kill()` ends it at once, as a crash would."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def kill(self) -> None:
        """SIGKILL the master and every worker (its own process group): no clean shutdown."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def gunicorn(url: str, log: Path, *, workers: int = 2, threads: int = 4) -> Iterator[Server]:
    """Serve the app on a free port of 127.0.0.1 with gthread workers; yield when it answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                GUNICORN,
                "--bind",
                f"fd://{listener.fileno()}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--worker-class",
                "gthread",
                "--timeout",
                "60",
                "--no-control-socket",
                "--error-logfile",
                "-",
                "sip_tracker:create_app()",
            ],
            pass_fds=[listener.fileno()],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, so kill() reaches every worker
        )
    listener.close()  # gunicorn holds its own copy
    server = Server(process, port, log)
    try:
        _wait_until_up(server)
        yield server
    finally:
        server.stop()


def _wait_until_up(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("gunicorn ended at start:\n" + server.log_text())
        try:
            if Browser(server.port).get("/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer:\n" + server.log_text())


@dataclass
class Answer:
    status: int
    body: str
    headers: http.client.HTTPMessage

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")


@dataclass
class Browser:
    """One person's browser: a session cookie, the CSRF token of the last form, no redirects."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 60

    def request(
        self,
        method: str,
        path: str,
        form: Mapping[str, str | list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        sent = {"Accept-Language": "sv", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            payload = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Answer(response.status, payload, response.headers)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Answer:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, form: Mapping[str, str | list[str]]) -> Answer:
        return self.request("POST", path, form)

    def log_in(self, email: str, password: str) -> None:
        page = self.get("/login")
        answer = self.post(
            "/login",
            {"csrf_token": hidden(page.body, "csrf_token"), "email": email, "password": password},
        )
        if answer.status != 302:
            raise AssertionError(f"login as {email} answered {answer.status}")


def hidden(page: str, name: str) -> str:
    """The value of a hidden input of the page's form."""
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    if found is None:
        raise AssertionError(f"the page has no {name}")
    return html.unescape(found.group(1))
