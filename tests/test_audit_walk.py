"""Every route that shows or changes a person's data writes the access log (issue 8, point 4:
100% of reads, re-rendered forms and downloads included, and of changes).

Each route the access matrix marks personal (tests/test_access_matrix.py ROUTES) is visited
here as a user allowed there, as a browser would: the page (GET, a download), a refused form
shown again, and a save. After each, the new audit rows must name the person, and the case
where the route is a case's: a read row for what was shown, a change row for what was saved,
and no change row for a refused save. A personal route missing from WALK fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from sip_tracker import clock
from sip_tracker.audit.models import AuditEvent
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.fhir import systems
from sip_tracker.inbox.models import InboxKind
from sip_tracker.inbox.services import notify
from tests.access_walk import hidden_fields
from tests.access_world import Place, build_place
from tests.factories import Factory, login
from tests.fhir_api.test_import import export, transaction
from tests.test_access_matrix import ROUTES

# What a read writes; any other action is a change.
READ_ACTIONS = {
    "case.read",
    "case.list",
    "person.read",
    "audit.read",
    "fhir.read",
    "fhir.search",
    "fhir.export",
    "fhir.export.download",
}
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
FHIR_JSON = {"Content-Type": "application/fhir+json"}


@dataclass
class Visitor:
    """Asks as the user logged in on the client, or with the token; reads what was logged."""

    client: FlaskClient
    token: str | None

    def send(
        self, method: str, url: str, data: Any = None, headers: dict[str, str] | None = None
    ) -> TestResponse:
        headers = dict(headers or {})
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        response = self.client.open(url, method=method, data=data, headers=headers)
        response.get_data()  # a download is read to its end, as a browser would
        response.close()
        return response

    def logged(
        self, method: str, url: str, data: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[TestResponse, list[AuditEvent]]:
        """Send; the answer and the audit rows the request wrote."""
        before = db.session.scalar(select(func.max(AuditEvent.id))) or 0
        response = self.send(method, url, data, headers)
        db.session.rollback()  # read what the request committed
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.id > before)).all()
        return response, list(rows)


def _export_file(visitor: Visitor, place: Place) -> dict[str, Any]:
    """The CarePlan file of an export the token made: its job id and file name."""
    started = visitor.send("GET", "/fhir/$export", headers=ASYNC)
    status_path = "/fhir/" + started.headers["Content-Location"].split("/fhir/", 1)[1]
    manifest = visitor.send("GET", status_path).get_json()
    [url] = [o["url"] for o in manifest["output"] if o["type"] == "CarePlan"]
    job_id, file_name = url.rsplit("/", 2)[-2:]
    return {"job_id": job_id, "file_name": file_name}


Form = Callable[[Place], dict[str, Any] | bytes]


def _case(p: Place) -> dict[str, Any]:
    return {"case_id": p.case_id}


def _meeting(p: Place) -> dict[str, Any]:
    return {"case_id": p.case_id, "meeting_id": p.meeting_id}


def _person(p: Place) -> dict[str, Any]:
    return {"person_id": p.person_id}


def _plan(p: Place) -> dict[str, Any]:
    return {
        "goals-0": "Jag vill bo kvar hemma.",
        "insatser-0-description": "Hemtjänst",
        "insatser-0-huvudman_id": str(p.huvudman_id),
        "insatser-0-unit_id": str(p.unit_id),
        "lead_unit_id": str(p.unit_id),
        "lead_person_name": "Karin Samordnare",
        "follow_up_method": "Uppföljande SIP-möte.",
        "follow_up_on": (clock.today() + timedelta(days=60)).isoformat(),
    }


def _meeting_form(p: Place) -> dict[str, Any]:
    return {
        "date": (clock.today() + timedelta(days=20)).isoformat(),
        "time": "13:30",
        "duration_minutes": "60",
        "place": "Mötesrum 4",
        "participant_ids": [str(p.participant_id)],
    }


def _bundle(p: Place) -> bytes:
    return orjson.dumps(transaction(export(db.session.get_one(SipCase, p.case_id))))


@dataclass(frozen=True)
class Visit:
    """How the walk visits one route, as a user allowed there.

    get: the GET shows (or downloads) the person's data; refused: form data the route
    refuses and shows again; saved: form data it saves. values: the route's arguments;
    save_values: other ones for the save (a case or meeting in the state a save needs).
    form_page: where a browser finds the form of a POST-only route (its hidden fields).
    why_not: why a step the route's methods allow is not walked.
    """

    values: Callable[[Place], dict[str, Any]] = _case
    who: str = "samordnare"  # or "admin", "partner" (of an invited unit), "token" (the FHIR API)
    get: bool = True
    refused: Form | None = None
    saved: Form | None = None
    save_values: Callable[[Place], dict[str, Any]] | None = None
    form_page: Callable[[Place], str] | None = None
    prepare: Callable[[Visitor, Place], dict[str, Any]] | None = None  # values made by asking
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    names_case: bool = True
    why_not: str = ""


def _no_form(p: Place) -> dict[str, Any]:
    return {}


IMPORT = "a refused import answers an OperationOutcome naming the rule, none of the case's data"
FILTER = "the filter form changes nothing: it redirects to the GET that is walked"


def _event_of_person(visitor: Visitor, place: Place) -> dict[str, Any]:
    """A log row about the person (opening their case writes one)."""
    visitor.send("GET", f"/cases/{place.case_id}")
    event_id = db.session.scalar(
        select(AuditEvent.id).where(AuditEvent.person_id == place.person_id).limit(1)
    )
    return {"event_id": event_id}


def _sample_of_month(visitor: Visitor, place: Place) -> dict[str, Any]:
    """A sample of this month drawn large enough to hold every row of the small world."""
    visitor.send("GET", f"/cases/{place.case_id}")
    month = clock.today().replace(day=1).isoformat()[:7]
    response = visitor.send("POST", "/admin/audit/samples", {"month": month, "size": "500"})
    return {"sample_id": int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])}


def _inbox_item(visitor: Visitor, place: Place) -> dict[str, Any]:
    """A message item about the case in the user's unit's inbox (Inkorg and Idag show it)."""
    case = db.session.get_one(SipCase, place.case_id)
    [item] = notify(InboxKind.MESSAGE, case, units=[place.unit_id])
    db.session.commit()
    return {"item_id": item.id}


def _unread_message(visitor: Visitor, place: Place) -> dict[str, Any]:
    """The item only: the page lists it."""
    _inbox_item(visitor, place)
    return {}


WALK: dict[str, Visit] = {
    "/": Visit(values=lambda p: {}),
    # The week of the place's follow-up meeting (30 days ahead), as the unit's calendar.
    "/kalender": Visit(
        values=lambda p: {},
        query=f"?scope=unit&date={(clock.today() + timedelta(days=30)).isoformat()}",
    ),
    "/admin/audit/": Visit(
        values=lambda p: {},
        who="admin",
        query="?person={person_id}",
        names_case=False,
        why_not=FILTER,
    ),
    "/admin/audit/events/<int:event_id>": Visit(
        prepare=_event_of_person,
        who="admin",
        refused=_no_form,
        saved=lambda p: {"outcome": "ok"},
        names_case=False,
    ),
    "/admin/audit/extract": Visit(
        values=lambda p: {},
        who="admin",
        query="?person={person_id}",
        saved=lambda p: {"personnummer": p.identifier},
        names_case=False,
        why_not="a refused extract names no person: it shows only the number typed",
    ),
    "/admin/audit/samples/<int:sample_id>": Visit(
        prepare=_sample_of_month, who="admin", names_case=False
    ),
    "/cases/<int:case_id>": Visit(),
    "/cases/<int:case_id>/<any(decline, abort, close):action>": Visit(
        values=lambda p: {"case_id": p.case_id, "action": "close"},
        refused=_no_form,
        saved=lambda p: {"reason": "Målen är nådda."},
    ),
    "/cases/<int:case_id>/consent": Visit(
        refused=_no_form,
        saved=lambda p: {
            "given_by": "person",
            "method": "skriftligt",
            "given_on": clock.today().isoformat(),
            "unit_ids": [str(p.unit_id), str(p.partner_unit_id)],
        },
    ),
    "/cases/<int:case_id>/consent/withdraw": Visit(
        refused=_no_form, saved=lambda p: {"withdrawn_on": clock.today().isoformat()}
    ),
    "/cases/<int:case_id>/edit": Visit(
        refused=_no_form,
        saved=lambda p: {
            "origin": "annan",
            "sakomraden": ["aldre"],
            "need_description": "Behöver stöd hemma.",
        },
    ),
    "/cases/<int:case_id>/follow-ups": Visit(),
    "/cases/<int:case_id>/follow-ups/new": Visit(
        refused=_no_form,
        saved=lambda p: {
            "plan_version": str(p.version),
            "held_on": clock.today().isoformat(),
            "evaluations-0-outcome": "delvis",
            "evaluations-1-outcome": "pagar",
            "next_follow_up_on": (clock.today() + timedelta(days=90)).isoformat(),
        },
    ),
    "/cases/<int:case_id>/handlingsplan": Visit(
        refused=lambda p: {"activity_ids": ["999999"]},
        saved=lambda p: {"activity_ids": [str(p.activity_id)]},
    ),
    "/cases/<int:case_id>/kartlaggning": Visit(
        refused=lambda p: {"needs-0-area": "inget-livsomrade"},
        saved=lambda p: {"what_matters": "Att bo kvar hemma.", "needs-0-area": "halsa"},
    ),
    "/cases/<int:case_id>/meetings/<int:meeting_id>": Visit(values=_meeting),
    "/cases/<int:case_id>/meetings/<int:meeting_id>/answer": Visit(
        values=_meeting,
        who="partner",
        refused=lambda p: {"response": "kommer", "attendee_names": ""},
        saved=lambda p: {"response": "kommer", "attendee_names": "Eva Ek, sjuksköterska"},
    ),
    "/cases/<int:case_id>/meetings/<int:meeting_id>/cancel": Visit(
        values=_meeting,
        refused=_no_form,
        saved=lambda p: {"reason": "Personen är sjuk."},
    ),
    "/cases/<int:case_id>/meetings/<int:meeting_id>/edit": Visit(
        values=_meeting, refused=_no_form, saved=_meeting_form
    ),
    "/cases/<int:case_id>/meetings/<int:meeting_id>/held": Visit(
        values=_meeting,
        refused=_no_form,
        saved=lambda p: {
            "held_date": clock.today().isoformat(),
            "held_time": "00:00",
            "person_attended": "ja",
        },
    ),
    "/cases/<int:case_id>/meetings/<int:meeting_id>/kallelse": Visit(
        values=_meeting,
        refused=_no_form,  # this meeting's kallelse is already sent
        saved=_no_form,
        save_values=lambda p: {"case_id": p.case_id, "meeting_id": p.unsent_meeting_id},
        form_page=lambda p: f"/cases/{p.case_id}/meetings/{p.unsent_meeting_id}",
    ),
    "/cases/<int:case_id>/meetings/<int:meeting_id>/kallelse.ics": Visit(values=_meeting),
    "/cases/<int:case_id>/meetings/<int:meeting_id>/responses": Visit(
        values=_meeting,
        refused=lambda p: {f"response_{i}": "kanske-inte" for i in p.invitations},
        saved=lambda p: {f"response_{i}": "kommer" for i in p.invitations},
        form_page=lambda p: f"/cases/{p.case_id}/meetings/{p.meeting_id}",
    ),
    "/cases/<int:case_id>/meetings/new": Visit(refused=_no_form, saved=_meeting_form),
    "/cases/<int:case_id>/messages": Visit(
        refused=lambda p: {"body": ""}, saved=lambda p: {"body": "Kallelsen är skickad."}
    ),
    "/cases/<int:case_id>/messages/<int:message_id>/receipt": Visit(
        values=lambda p: {"case_id": p.case_id, "message_id": p.partner_message_id},
        saved=_no_form,
        form_page=lambda p: f"/cases/{p.case_id}/messages",
        why_not="a kvittens has nothing to fill in: a refused one redirects with a message",
    ),
    "/cases/<int:case_id>/participants": Visit(
        refused=_no_form, saved=lambda p: {"kind": "annan", "name": "Eva Ek"}
    ),
    "/cases/<int:case_id>/participants/<int:participant_id>/remove": Visit(
        values=lambda p: {"case_id": p.case_id, "participant_id": p.spare_id},
        saved=_no_form,
        form_page=lambda p: f"/cases/{p.case_id}/participants",
        why_not="a refused removal is not shown again: it redirects with a message",
    ),
    "/cases/<int:case_id>/plan": Visit(refused=lambda p: {"lock_version": "999"}, saved=_plan),
    "/cases/<int:case_id>/plan/establish": Visit(
        refused=lambda p: {**_plan(p), "lock_version": "999"},
        saved=_plan,
        form_page=lambda p: f"/cases/{p.case_id}/plan",
    ),
    "/cases/<int:case_id>/plan/versions": Visit(),
    "/cases/<int:case_id>/plan/versions/<int:number>": Visit(
        values=lambda p: {"case_id": p.case_id, "number": p.version}
    ),
    "/cases/<int:case_id>/roles": Visit(
        refused=_no_form,
        saved=lambda p: {
            "kind": "motesledare",
            "unit_id": str(p.unit_id),
            "person_name": "Karin Samordnare",
        },
    ),
    "/cases/<int:case_id>/start": Visit(
        saved=_no_form,
        save_values=lambda p: {"case_id": p.new_case_id},
        form_page=lambda p: f"/cases/{p.new_case_id}",
        why_not="a refused start is not shown again: it redirects with a message",
    ),
    "/cases/new": Visit(
        values=lambda p: {},
        get=False,
        refused=None,
        saved=lambda p: {
            "identifier": p.identifier,
            "given_name": "Karin",
            "family_name": "Nilsson",
            "origin": "annan",
            "sakomraden": ["aldre"],
            "need_description": "Behöver insatser från både kommun och region.",
        },
        names_case=False,  # the new case's id is not known before
        why_not="the empty form, and the form shown again, hold only what the user typed",
    ),
    "/idag": Visit(prepare=_unread_message),
    "/inbox": Visit(prepare=_unread_message),
    "/inbox/<int:item_id>": Visit(prepare=_inbox_item),
    "/people/<int:person_id>": Visit(
        values=_person,
        refused=_no_form,
        saved=lambda p: {"kind": "narstaende", "name": "Eva Dotter", "relation": "dotter"},
        names_case=False,
    ),
    "/people/<int:person_id>/edit": Visit(
        values=_person,
        refused=_no_form,
        saved=lambda p: {"given_name": "Karin", "family_name": "Nilsson-Berg"},
        names_case=False,
    ),
    # The FHIR API, with a read and write token of the organisation that started the case.
    "/fhir/<resource_type>/<logical_id>": Visit(
        values=lambda p: {
            "resource_type": "CarePlan",
            "logical_id": systems.careplan_id(p.case_id),
        },
        who="token",
    ),
    "/fhir/<resource_type>": Visit(values=lambda p: {"resource_type": "CarePlan"}, who="token"),
    "/fhir/Patient/<logical_id>/$everything": Visit(
        values=lambda p: {"logical_id": systems.patient_id(p.person_id)}, who="token"
    ),
    "/fhir/$export": Visit(values=lambda p: {}, who="token", headers=ASYNC),
    "/fhir/Patient/$export": Visit(values=lambda p: {}, who="token", headers=ASYNC),
    "/fhir/$export-file/<job_id>/<file_name>": Visit(who="token", prepare=_export_file),
    "/fhir": Visit(
        values=lambda p: {}, who="token", saved=_bundle, headers=FHIR_JSON, why_not=IMPORT
    ),
    "/fhir/": Visit(
        values=lambda p: {}, who="token", saved=_bundle, headers=FHIR_JSON, why_not=IMPORT
    ),
}


def _url(app: Flask, path: str, values: dict[str, Any]) -> str:
    [rule, *_] = [r for r in app.url_map.iter_rules() if r.rule == path]
    built = rule.build(values, append_unknown=False)
    assert built is not None
    return built[1]


def _methods(app: Flask, path: str) -> set[str]:
    return {m for r in app.url_map.iter_rules() if r.rule == path for m in r.methods or ()}


def _lacks(
    rows: list[AuditEvent], person_id: int, case_id: int | None, *, change: bool
) -> str | None:
    """What is missing: a row naming the person (and the case, unless None); a change row if
    change. None when it is there."""
    naming = [
        r for r in rows if r.person_id == person_id and (case_id is None or r.case_id == case_id)
    ]
    if change:
        naming = [r for r in naming if r.action not in READ_ACTIONS]
    if naming:
        return None
    about = f"person {person_id}" + (f" and case {case_id}" if case_id is not None else "")
    logged = [(r.action, r.person_id, r.case_id) for r in rows]
    return f"no {'change' if change else 'read'} row naming {about}; logged {logged}"


def walk(app: Flask, client: FlaskClient, place: Place, path: str) -> list[str]:
    """Visit the route as the visit says; return what the log lacks."""
    visit = WALK[path]
    if visit.who != "token":
        users = {"admin": place.admin_id, "partner": place.partner_user_id}
        login(client, users.get(visit.who, place.user_id))
    visitor = Visitor(client, place.token if visit.who == "token" else None)
    values = visit.prepare(visitor, place) if visit.prepare else visit.values(place)
    url = _url(app, path, values) + visit.query.format(**place.__dict__)
    case_id = values.get("case_id", place.case_id) if visit.names_case else None
    problems: list[str] = []

    def note(step: str, problem: str | None) -> None:
        if problem:
            problems.append(f"{step}: {problem}")

    if visit.get and "GET" in _methods(app, path):
        response, rows = visitor.logged("GET", url, headers=visit.headers)
        step = f"GET {url} ({response.status_code})"
        note(step, "refused" if response.status_code >= 400 else None)
        note(step, _lacks(rows, place.person_id, case_id, change=False))

    if visit.refused is not None:
        response, rows = visitor.logged("POST", url, visit.refused(place), visit.headers)
        step = f"refused POST {url} ({response.status_code})"
        shown_again = response.status_code in (400, 409, 422)
        note(step, None if shown_again else "expected the form shown again with its errors")
        note(step, _lacks(rows, place.person_id, case_id, change=False))
        wrote = [r.action for r in rows if r.action not in READ_ACTIONS]
        note(step, f"a refused save logged changes {wrote}" if wrote else None)

    if visit.saved is not None:
        save_values = visit.save_values(place) if visit.save_values else values
        save_url = _url(app, path, save_values)
        data = visit.saved(place)
        if isinstance(data, dict):  # what a browser sends back: the form's hidden fields too
            page = visit.form_page(place) if visit.form_page else save_url
            data = {**hidden_fields(visitor.send("GET", page).get_data(as_text=True)), **data}
        response, rows = visitor.logged("POST", save_url, data, visit.headers)
        step = f"saving POST {save_url} ({response.status_code})"
        note(step, "not saved" if response.status_code >= 400 else None)
        saved_case = save_values.get("case_id", case_id) if visit.names_case else None
        note(step, _lacks(rows, place.person_id, saved_case, change=True))
    return problems


@pytest.fixture(autouse=True)
def _exports(app: Flask, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bulk Data exports run inline and write under the test's folder."""
    monkeypatch.setitem(app.config, "FHIR_EXPORT_SYNC", True)
    monkeypatch.setitem(app.config, "FHIR_EXPORT_DIR", str(tmp_path / "exports"))


def test_every_route_showing_or_changing_a_persons_data_is_walked(app: Flask) -> None:
    personal = {path for path, kind in ROUTES.items() if kind.personal}
    missing = sorted(personal - set(WALK))
    assert not missing, (
        "Routes that show or change a person's data but are missing from the audit walk "
        "(tests/test_audit_walk.py WALK): " + ", ".join(missing)
    )
    extra = sorted(set(WALK) - personal)
    assert not extra, f"Walked, but not personal in the access matrix's ROUTES: {extra}"
    for path, visit in WALK.items():
        methods = _methods(app, path)
        if "GET" in methods:
            assert visit.get or visit.why_not, f"{path}: say why its GET is not walked"
        if "POST" in methods:
            assert visit.saved is not None or visit.why_not, f"{path}: walk a save"
            assert visit.refused is not None or visit.why_not, f"{path}: walk a refused form"


@pytest.mark.parametrize("path", sorted(WALK))
def test_each_read_and_change_of_a_persons_data_is_logged(
    path: str, app: Flask, client: FlaskClient, make: Factory
) -> None:
    place = build_place(make)
    problems = walk(app, client, place, path)
    assert not problems, "\n".join(problems)
