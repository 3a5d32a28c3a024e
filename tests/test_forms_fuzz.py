"""Every form of the web app, filled with generated values, never answers 5xx.

The forms are found as a user finds them: by walking the pages of the demo data (a case in
every stage) as its coordinators, an administrator and a visitor, and reading each
<form> from the HTML. Hypothesis then fills each one (unicode, NUL, huge strings, odd
dates and numbers, choices that were never offered, fields left out) and sends it as the
user who saw it. A POST route with no form found fails the test, so a new form cannot be
left out. Derandomised: CI sees the same inputs every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sip_tracker.auth.models import Role, User
from sip_tracker.cases.access import units_taking_part
from sip_tracker.cases.codes import FINAL_STAGES, Stage
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.demo import load_demo_data, load_demo_plan
from sip_tracker.meetings import services as meetings
from sip_tracker.messages import services as messages
from sip_tracker.organizations.reference import load_reference_data
from tests.factories import login

EXAMPLES_PER_FORM = 20
# Where nothing is a form of the web app: the FHIR API (tests/fhir_api/test_openapi.py).
NOT_FORMS = ("fhir.",)


# --- Reading forms from pages -------------------------------------------------------------


@dataclass
class Control:
    name: str
    kind: str  # text, textarea, select, select-multiple, checkbox, radio, date, number, ...
    values: list[str] = field(default_factory=list)  # offered values (options, checkboxes)
    shown: list[str] = field(default_factory=list)  # what a browser would send as it is


@dataclass
class Form:
    method: str
    action: str
    controls: dict[str, Control] = field(default_factory=dict)
    user_id: int | None = None  # who saw it; None: nobody logged in
    found_on: str = ""

    def add(self, name: str, kind: str, value: str | None = None, shown: bool = False) -> Control:
        control = self.controls.setdefault(name, Control(name, kind))
        if value is not None and value not in control.values:
            control.values.append(value)
        if shown and value is not None:
            control.shown.append(value)
        return control

    def as_shown(self) -> dict[str, list[str]]:
        """What submitting the form untouched sends (the first button pressed)."""
        sent = {}
        for name, control in self.controls.items():
            shown = control.shown or (control.values[:1] if control.kind == "select" else [])
            if control.kind == "button":
                shown = control.values[:1]
            if shown:
                sent[name] = shown
        return sent


class FormReader(HTMLParser):
    """Every <form> of a page: its named controls, the values each offers and shows."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: Control | None = None
        self._formactions: list[tuple[Form, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"].split("#")[0])
        if tag == "form":
            action = a.get("action") or self.page
            self._form = Form(a.get("method", "get").lower(), action, found_on=self.page)
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag in ("button", "input") and a.get("formaction"):
            self._formactions.append((self._form, a["formaction"]))
        if tag == "option" and self._select is not None:
            self._form.add(self._select, "select", a.get("value", ""), shown="selected" in a)
        if not a.get("name"):
            return
        kind = a.get("type", "text").lower()
        if tag == "button" or (tag == "input" and kind in ("submit", "button", "image")):
            self._form.add(a["name"], "button", a.get("value", ""))
        elif tag == "input" and kind in ("checkbox", "radio"):
            self._form.add(a["name"], kind, a.get("value", "on"), shown="checked" in a)
        elif tag == "input":
            self._form.add(a["name"], kind, a.get("value"), shown=True)
        elif tag == "textarea":
            self._textarea = self._form.add(a["name"], "textarea")
            self._textarea.shown.append("")
        elif tag == "select":
            self._select = a["name"]
            self._form.add(a["name"], "select-multiple" if "multiple" in a else "select")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            # The first newline after <textarea> is not part of its text (HTML).
            text = self._textarea.shown[-1] + data
            self._textarea.shown[-1] = text.removeprefix("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def close(self) -> None:
        """A button with its own formaction sends the same form elsewhere: one more form."""
        super().close()
        for form, action in self._formactions:
            self.forms.append(Form(form.method, action, form.controls, found_on=form.found_on))


# --- Walking the pages --------------------------------------------------------------------

SKIP_LINKS = ("/static/", "/fhir", "/logout", ".ics", ".csv", "lang=")


def crawl(
    client: FlaskClient, user_id: int | None, starts: list[str], within: tuple[str, ...]
) -> list[Form]:
    """GET every page reachable from starts by links under within; the forms on them."""
    seen: set[str] = set()
    queue = list(starts)
    forms: list[Form] = []
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        if user_id is not None:
            login(client, user_id)
        response = client.get(url)
        assert response.status_code < 500, url
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        reader = FormReader(url)
        reader.feed(response.get_data(as_text=True))
        reader.close()
        for form in reader.forms:
            form.user_id = user_id
            forms.append(form)
        for link in reader.links:
            path = urlsplit(link).path
            if (
                link not in seen
                and path.startswith(within)
                and not any(s in link for s in SKIP_LINKS)
            ):
                queue.append(link)
    return forms


def endpoint_of(app: Flask, form: Form) -> str:
    parts = urlsplit(form.action)
    adapter = app.url_map.bind("localhost")
    endpoint, _ = adapter.match(parts.path, method=form.method.upper())
    return str(endpoint)


# --- What to fill them with ---------------------------------------------------------------

WEIRD = [
    "",
    " ",
    "0",
    "-1",
    str(2**31),
    str(2**63),
    str(10**40),
    "1e309",
    "NaN",
    "-0",
    "None",
    "null",
    "true",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "\u202eevil",
    "\ufeff",
    "١٩٥٠٠١٠١-٠٠٠٣",
    "19121212-1212",
    "x" * 6000,
    "å" * 3000,
]
BIG = "x" * (1024 * 1024 + 1)  # past the form limit (MAX_CONTENT_LENGTH): a 413

text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=80)
with_nul = text.map(lambda s: s[: len(s) // 2] + "\x00" + s[len(s) // 2 :])
weird = st.sampled_from(WEIRD)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "2024-02-30",
            "0000-01-01",
            "10000-01-01",
            "2024-13-01",
            "-1-01-01",
            "2024-1-1",
            "١٩٥٠-٠١-٠١",
        ]
    ),
)
times = st.one_of(
    st.times().map(lambda t: t.strftime("%H:%M")), st.sampled_from(["24:00", "99:99", "7"])
)
numbers = st.one_of(st.integers().map(str), st.floats().map(str))


def value_for(control: Control) -> st.SearchStrategy[Any]:
    """Mostly what the field expects, often what it does not."""
    offered = [v for v in control.values if v is not None]
    usual: st.SearchStrategy[Any]
    if control.kind in ("select", "radio", "button", "hidden") and offered:
        usual = st.sampled_from(offered)
    elif control.kind in ("select-multiple", "checkbox") and offered:
        usual = st.lists(st.sampled_from(offered), max_size=len(offered), unique=True)
    elif control.kind == "date":
        usual = dates
    elif control.kind == "time":
        usual = times
    elif control.kind == "number":
        usual = numbers
    else:
        usual = text
    return st.one_of(usual, usual, usual, text, weird, st.lists(weird, max_size=3))


TEXT_KINDS = ("text", "textarea", "search", "email", "tel", "url", "password")


@st.composite
def form_data(draw: st.DrawFn, form: Form) -> dict[str, Any]:
    """The form as shown with a few fields changed (so that it gets past its checks to the
    service and the database), or filled from scratch; now and then a NUL or a huge body.

    A NUL goes in one field of one input in ten, not drawn per field: a NUL anywhere stops
    the request at the 400 before the form is read, and the form's own checks would go
    untried.
    """
    kind = draw(st.integers(0, 9))
    if kind == 9:
        return {"_": BIG}
    names = sorted(form.controls)
    data: dict[str, Any] = form.as_shown()
    if kind == 8:
        texts = [n for n in names if form.controls[n].kind in TEXT_KINDS] or [*names, "x"]
        data[draw(st.sampled_from(texts))] = draw(with_nul)
        return data
    if kind < 4 or not names:
        data = {}
        changed = names
    else:
        changed = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    for name in changed:
        value = draw(st.one_of(st.none(), value_for(form.controls[name])))
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


# --- The world ----------------------------------------------------------------------------


@pytest.fixture
def demo(app: Flask, ctx: None) -> dict[str, Any]:
    """The demo data: a case in every stage; their coordinators and an administrator."""
    load_reference_data()
    load_demo_plan()
    load_demo_data()
    db.session.commit()
    one_per_stage: dict[Any, SipCase] = {}
    for case in db.session.scalars(select(SipCase).order_by(SipCase.id)):
        one_per_stage.setdefault(case.stage, case)
    # Every demo meeting has its kallelse sent: book one that has not, for its form.
    preparing = one_per_stage[Stage.FORBEREDELSE]
    meetings.schedule_meeting(
        preparing,
        user=preparing.created_by,
        starts_at=datetime.now(UTC) + timedelta(days=10),
        duration_minutes=60,
        place="Rum 1",
        video_link=None,
        participants=preparing.participants,
    )
    _ask_for_a_receipt(list(one_per_stage.values()))
    db.session.commit()
    admin = db.session.scalar(select(User).where(User.role == Role.ADMINISTRATOR))
    assert admin is not None
    return {
        "cases": [(case.id, case.created_by_id) for case in one_per_stage.values()],
        "admin": admin.id,
        "invited": _invited_user(one_per_stage[Stage.KALLAD]),
    }


def _ask_for_a_receipt(cases: list[SipCase]) -> None:
    """A partner's message asking the coordinator's unit for kvittens, for its form."""
    for case in cases:
        partners = [u for u in units_taking_part(case) if u != case.initiating_unit_id]
        if case.stage in FINAL_STAGES or not partners:
            continue
        sender = db.session.scalar(
            select(User).where(User.unit_id == partners[0], User.role == Role.SAMORDNARE)
        )
        if sender is not None:
            messages.send_message(case, user=sender, body="Kvittera, tack.", receipt_requested=True)
            return
    raise AssertionError("the demo has no open case with a partner unit's coordinator")


def _invited_user(case: SipCase) -> tuple[str, int]:
    """A meeting page and a user of a unit invited to it: who answers for their own unit."""
    meeting = next(m for m in case.meetings if m.kallelse_sent_at and m.held_at is None)
    for invitation in meeting.invitations:
        unit_id = invitation.participant.unit_id
        if unit_id is None or unit_id == case.initiating_unit_id:
            continue
        user = db.session.scalar(
            select(User).where(User.unit_id == unit_id, User.role == Role.SAMORDNARE)
        )
        if user is not None:
            return f"/cases/{case.id}/meetings/{meeting.id}", user.id
    raise AssertionError("the demo has no user of a unit invited to a called meeting")


def all_forms(app: Flask, client: FlaskClient, demo: dict[str, Any]) -> dict[tuple[Any, ...], Form]:
    """One form per (method, endpoint, controls): the first found."""
    found = crawl(client, None, ["/login"], ("/login",))
    for case_id, coordinator in demo["cases"]:
        found += crawl(
            client, coordinator, [f"/cases/{case_id}"], (f"/cases/{case_id}", "/people/")
        )
    meeting_page, invited = demo["invited"]
    found += crawl(client, invited, [meeting_page], (meeting_page,))
    coordinator = demo["cases"][0][1]
    found += crawl(
        client,
        coordinator,
        [
            "/",
            "/idag",
            "/inbox",
            "/cases/new",
            "/indicators",
            "/account/password",
            "/account/notifications",
        ],
        ("/cases/new", "/account/"),
    )
    found += crawl(
        client,
        demo["admin"],
        ["/admin/users", "/admin/units", "/handlingsplan", "/admin/audit/"],
        ("/admin/", "/handlingsplan"),
    )
    forms: dict[tuple[Any, ...], Form] = {}
    for form in found:
        key = (form.method, endpoint_of(app, form), tuple(sorted(form.controls)))
        forms.setdefault(key, form)
    return forms


# Forms that end what the others work on (a case, a consent, the session): sent last, so
# that the other forms of the same case are tried while it is still open.
LAST = ("cases.end", "cases.withdraw_consent", "cases.remove_participant", "auth.logout")


def fuzz_order(item: tuple[tuple[Any, ...], Form]) -> tuple[bool, str, str]:
    method, endpoint, _ = item[0]
    return endpoint in LAST, endpoint, method


@dataclass
class Tally:
    sent: int = 0
    # Answers that show the form was read: shown again with errors, saved, refused by a
    # rule. Not the 400 of a NUL, the 413 of a huge body, or a way back to the login.
    read: int = 0


def fuzzer(client: FlaskClient, form: Form, endpoint: str, tally: Tally) -> Callable[[], None]:
    """A Hypothesis test that sends generated values in the form, as the user who saw it."""

    @settings(
        max_examples=EXAMPLES_PER_FORM,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=form_data(form))
    def send(data: dict[str, Any]) -> None:
        if form.user_id is not None:
            login(client, form.user_id)
        else:
            with client.session_transaction() as session:
                session.clear()
        if form.method == "post":
            response = client.post(form.action, data=data)
        else:
            response = client.get(form.action, query_string=data)
        tally.sent += 1
        to_login = response.headers.get("Location", "").startswith("/login")
        to_login = to_login and endpoint != "auth.logout"  # where logging out leads
        if response.status_code in (200, 302, 303, 409, 422) and not to_login:
            tally.read += 1
        assert response.status_code < 500, (form.action, data)

    return send


def test_every_form_is_found_and_no_generated_input_gives_a_server_error(app, client, demo, capsys):
    # One test for both: finding the forms walks ~300 pages of demo data.
    forms = all_forms(app, client, demo)
    posted = {endpoint for method, endpoint, _ in forms if method == "post"}
    routes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and not rule.endpoint.startswith(NOT_FORMS)
    }
    assert routes - posted == set(), "a POST route with no form on any page walked"

    tallies: dict[str, Tally] = {}
    failures: dict[str, str] = {}
    for (method, endpoint, _), form in sorted(forms.items(), key=fuzz_order):
        name = f"{method.upper()} {form.action} ({endpoint})"
        tallies[name] = Tally()
        try:
            fuzzer(client, form, endpoint, tallies[name])()
        except Exception as error:  # every form is tried; all failures are shown
            failures[name] = repr(error)[:3000]
    with capsys.disabled():
        sent = sum(t.sent for t in tallies.values())
        print(f"\n{sent} generated inputs sent to {len(forms)} forms")
    assert failures == {}
    # Not a vacuous pass: every form was read, most inputs reached it.
    assert [name for name, t in tallies.items() if t.read == 0] == []
    assert sum(t.read for t in tallies.values()) > 0.7 * sent
