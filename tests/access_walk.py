"""How the access matrix asks and judges: cells (who, method, URL, expected answer) and a
walker that sends them as each user or token would and collects every wrong answer.

The expectations are written out by hand (tests/test_access_matrix.py), never computed
with the access rule they check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Protocol

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from sip_tracker.db import db
from tests.access_world import ANONYMOUS, NO_TOKEN, World
from tests.factories import login

# None when the answer is right; otherwise what is wrong with it.
Expect = Callable[[TestResponse], str | None]


def _to_login(response: TestResponse) -> bool:
    return response.status_code in (301, 302, 303) and "/login" in response.headers.get(
        "Location", ""
    )


def reads(response: TestResponse) -> str | None:
    """Allowed to look: a page or a redirect (never 401/403/404, a 5xx or the login page)."""
    if 200 <= response.status_code < 400 and not _to_login(response):
        return None
    return f"expected 2xx/3xx, got {response.status_code} {response.headers.get('Location', '')}"


def acts(response: TestResponse) -> str | None:
    """Allowed to send the form: anything but a refusal (a 422 for an empty form is fine)."""
    if response.status_code in (401, 403, 404) or response.status_code >= 500:
        return f"expected the form to be handled, got {response.status_code}"
    if _to_login(response):
        return "expected the form to be handled, was sent to the login page"
    return None


def to_login(response: TestResponse) -> str | None:
    if _to_login(response):
        return None
    return f"expected a redirect to /login, got {response.status_code}"


def status(*codes: int) -> Expect:
    def expect(response: TestResponse) -> str | None:
        if response.status_code in codes:
            return None
        return f"expected {'/'.join(map(str, codes))}, got {response.status_code}"

    return expect


def redirects_to(path: str) -> Expect:
    def expect(response: TestResponse) -> str | None:
        location = response.headers.get("Location", "")
        if response.status_code in (302, 303) and location.split("?")[0] in (path, f"/{path}"):
            return None
        return f"expected a redirect to {path}, got {response.status_code} {location}"

    return expect


def both(*checks: Expect) -> Expect:
    def expect(response: TestResponse) -> str | None:
        for check in checks:
            wrong = check(response)
            if wrong:
                return wrong
        return None

    return expect


@dataclass
class Cell:
    """One request of the matrix and the answer it must get."""

    who: str  # a user (HTML) or a token (FHIR) of access_world
    method: str
    url: str
    expect: Expect
    relation: str = ""  # what the request is about, for the failure message
    data: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    fresh_client: bool = False  # e.g. logging out: not the client the other cells share


@dataclass
class RouteInfo:
    """A route as the app has it: its rule(s) under one path, and their methods."""

    path: str
    rules: list[Rule]

    @property
    def methods(self) -> list[str]:
        found = {m for rule in self.rules for m in rule.methods or ()} - {"HEAD", "OPTIONS"}
        return sorted(found)

    def url(self, **values: Any) -> str:
        built = self.rules[0].build(values, append_unknown=False)
        assert built is not None, (self.path, values)
        return built[1]


class Kind(Protocol):
    """A kind of route (a case's page, an administrator's page, a FHIR read …): the cells
    that walk it, and whether it shows or changes a person's data (tests/test_audit_walk.py)."""

    @property
    def methods(self) -> frozenset[str]: ...

    @property
    def personal(self) -> bool: ...

    def cells(self, route: RouteInfo, walker: Walker) -> Iterable[Cell]: ...


class Walker:
    """Sends cells as their user (a logged-in client) or token, and judges the answers."""

    def __init__(self, app: Flask, world: World) -> None:
        self.app = app
        self.world = world
        self._clients: dict[str, FlaskClient] = {}
        self.asked = 0

    def route(self, path: str) -> RouteInfo:
        rules = [rule for rule in self.app.url_map.iter_rules() if rule.rule == path]
        assert rules, f"{path} is in the access matrix's table but the app has no such route"
        return RouteInfo(path, rules)

    def client(self, who: str, *, fresh: bool = False) -> FlaskClient:
        if who in self._clients and not fresh:
            return self._clients[who]
        client = self.app.test_client()
        if who in self.world.users:
            with self.app.app_context():
                login(client, self.world.users[who])
                db.session.commit()  # the session is kept on the server
        if not fresh:
            self._clients[who] = client
        return client

    def send(self, cell: Cell) -> TestResponse:
        headers = dict(cell.headers)
        if cell.who in self.world.tokens:
            headers["Authorization"] = f"Bearer {self.world.tokens[cell.who]}"
            client = self.client(NO_TOKEN)
        else:
            client = self.client(cell.who, fresh=cell.fresh_client)
        response = client.open(cell.url, method=cell.method, data=cell.data, headers=headers)
        if cell.fresh_client:
            # Signing out ends every session of the user (auth/sessions.py): sign in anew.
            self._clients.pop(cell.who, None)
        return response

    def check(self, cells: Iterable[Cell]) -> list[str]:
        """Send every cell; return one line per wrong answer."""
        wrong = []
        for cell in cells:
            response = self.send(cell)
            try:
                problem = cell.expect(response) or self._leak(response)
            finally:
                response.close()  # a file download keeps its file open until closed
            self.asked += 1
            if problem:
                about = f" ({cell.relation})" if cell.relation else ""
                wrong.append(f"{cell.who} {cell.method} {cell.url}{about}: {problem}")
        return wrong

    def _leak(self, response: TestResponse) -> str | None:
        """A refusal (401, 403, 404, the way to the login page) must not show whose case it is."""
        if response.status_code not in (401, 403, 404) and not _to_login(response):
            return None
        body = response.get_data(as_text=True)
        shown = [secret for secret in self.world.secrets if secret in body]
        return f"the refusal shows {shown}" if shown else None

    def fhir(self, token: str, path: str, **headers: str) -> TestResponse:
        """A FHIR request outside the matrix's count (polling, setting up); read it whole."""
        response = self.send(Cell(token, "GET", path, reads, headers=headers))
        response.get_data()
        response.close()
        return response


def anonymous_or(who: str, expect: Expect) -> Expect:
    return to_login if who == ANONYMOUS else expect


class _HiddenFields(HTMLParser):
    """The hidden inputs of a page's forms, which a browser sends back (versions, tokens)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.fields[found["name"] or ""] = found.get("value") or ""


def hidden_fields(html: str) -> dict[str, str]:
    parser = _HiddenFields()
    parser.feed(html)
    return parser.fields
