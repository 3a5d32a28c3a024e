"""The access matrix's FHIR routes: each token against every stored resource, search,
$everything, import and Bulk Data export, judged by what the answer holds, not only its status.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from werkzeug.test import TestResponse

from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.fhir.api import RESOURCE_TYPES
from sip_tracker.fhir.conformance import artifacts
from sip_tracker.fhir.models import StoredResource
from tests.access_walk import Cell, Expect, RouteInfo, Walker, both, status
from tests.access_world import EVERY_TOKEN, NO_TOKEN
from tests.fhir_api.test_import import export, transaction

# What each token's organisation may receive: the cases shared with it under consent.
FHIR_SEES: dict[str, set[str]] = {
    "K-read": {"C", "X"},  # A1 started C and X and the consents cover A1
    "K-write": {"C", "X"},
    "R-read": {"C", "X"},  # B1 invited and covered
    "K2": {"Y"},  # D's own case for P, under consent; not C
    "K3": set(),  # E: invited to C, not covered; Z without consent
    "K4": set(),  # F: W's consent withdrawn
}
READERS = tuple(FHIR_SEES)
WRITE_SCOPE = {"K-write", "R-write-only", "K2", "K3", "K4"}
# Who may send a case as a transaction: a write token of an organisation it is shared with.
FHIR_WRITES = {"C": {"K-write", "R-write-only"}, "W": set()}
PERSON_CASES = {"P": {"C", "Y", "Z"}, "Q": {"W"}, "S": {"X"}}
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}

Key = tuple[str, str]  # (resourceType, id)


def refusal(token: str, *, write: bool = False) -> Expect | None:
    """401 without a live token, 403 without the scope; None when the token may ask."""
    if token in (NO_TOKEN, "revoked"):
        return status(401)
    has_scope = token in WRITE_SCOPE if write else token in READERS
    return None if has_scope else status(403)


@dataclass(frozen=True)
class Stored:
    key: Key
    case: str | None  # the world's name of its case
    person: str | None

    def visible_to(self, token: str) -> bool:
        """Whether the token may read it (those without read scope read nothing)."""
        sees = FHIR_SEES.get(token, set())
        if self.case is not None:
            return self.case in sees
        if self.person is not None:
            return bool(PERSON_CASES[self.person] & sees)
        return True  # organisations and the action plan hold no personal data


def stored(walker: Walker) -> list[Stored]:
    """Every stored resource, named by the world's case and person it belongs to."""
    world = walker.world
    cases = {case_id: name for name, case_id in world.case_ids.items()}
    persons = {person_id: name for name, person_id in world.persons.items()}
    with walker.app.app_context():
        rows = db.session.execute(
            select(
                StoredResource.resource_type,
                StoredResource.logical_id,
                StoredResource.case_id,
                StoredResource.person_id,
            )
        ).all()
    return [
        Stored(
            (kind, logical_id),
            cases[case_id] if case_id is not None else None,
            persons[person_id] if person_id is not None else None,
        )
        for kind, logical_id, case_id, person_id in rows
    ]


def _holds(expected: set[Key], personal: set[Key]) -> Expect:
    """The Bundle's entries among `personal` are exactly `expected`."""

    def expect(response: TestResponse) -> str | None:
        entries = response.get_json().get("entry", [])
        got = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in entries}
        return _compare(got & personal, expected)

    return expect


def _compare(got: set[Key], expected: set[Key]) -> str | None:
    if got == expected:
        return None
    shown, missing = sorted(got - expected), sorted(expected - got)
    return f"shows {shown} it must not; lacks {missing}"


@dataclass(frozen=True)
class FhirRead:
    """GET /fhir/<type>/<id> of every stored resource by every token."""

    methods: frozenset[str] = frozenset({"GET"})
    personal: bool = True

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        for row in stored(walker):
            url = route.url(resource_type=row.key[0], logical_id=row.key[1])
            for token in EVERY_TOKEN:
                expect = refusal(token) or status(200 if row.visible_to(token) else 404)
                yield Cell(token, "GET", url, expect, relation=f"case {row.case}")


@dataclass(frozen=True)
class FhirSearch:
    """A search of each type: exactly the resources the token's organisation may receive."""

    methods: frozenset[str] = frozenset({"GET"})
    personal: bool = True

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        rows = stored(walker)
        everything = {row.key for row in rows}
        for resource_type in RESOURCE_TYPES:
            of_type = [r for r in rows if r.key[0] == resource_type]
            personal = ",".join(r.key[1] for r in of_type if r.person is not None)
            # Everything of the type, and (asking by id for every case's) the personal ones.
            queries = ["?_count=100"] + ([f"?_count=100&_id={personal}"] if personal else [])
            for query in queries:
                asked = [r for r in of_type if "_id" not in query or r.person is not None]
                url = route.url(resource_type=resource_type) + query
                for token in EVERY_TOKEN:
                    expected = {r.key for r in asked if r.visible_to(token)}
                    expect = refusal(token) or both(status(200), _holds(expected, everything))
                    yield Cell(token, "GET", url, expect)


@dataclass(frozen=True)
class FhirEverything:
    """Patient/<id>/$everything: the patient's resources of the cases shared with the token."""

    methods: frozenset[str] = frozenset({"GET"})
    personal: bool = True

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        rows = stored(walker)
        personal = {r.key for r in rows if r.person is not None}
        for person in PERSON_CASES:
            [patient] = [r for r in rows if r.key[0] == "Patient" and r.person == person]
            url = route.url(logical_id=patient.key[1])
            for token in EVERY_TOKEN:
                expected = {r.key for r in rows if r.person == person and r.visible_to(token)}
                shown = both(status(200), _holds(expected, personal))
                expect = refusal(token) or (shown if expected else status(404))
                yield Cell(token, "GET", url, expect, relation=f"person {person}")


@dataclass(frozen=True)
class FhirImport:
    """POST a transaction Bundle of a case, as the server exported it."""

    methods: frozenset[str] = frozenset({"POST"})
    personal: bool = True

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        for case in FHIR_WRITES:
            with walker.app.app_context():
                bundle = transaction(
                    export(db.session.get_one(SipCase, walker.world.case_ids[case]))
                )
            for token in EVERY_TOKEN:
                may = token in FHIR_WRITES[case]
                expect = refusal(token, write=True) or status(200 if may else 404)
                yield Cell(
                    token,
                    "POST",
                    route.url(),
                    expect,
                    relation=f"case {case}",
                    data=orjson.dumps(bundle),
                    headers={"Content-Type": "application/fhir+json"},
                )


def _path(url: str) -> str:
    """The path of an absolute URL the server gave (the test client asks by path)."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def kick_off(walker: Walker, token: str, patients: bool = False) -> str:
    """Start an export (it runs inline) and return its status path."""
    response = walker.fhir(token, "/fhir/Patient/$export" if patients else "/fhir/$export", **ASYNC)
    assert response.status_code == 202, response.get_data(as_text=True)
    return _path(response.headers["Content-Location"])


def _files(walker: Walker, token: str, status_path: str) -> list[str]:
    manifest = walker.fhir(token, status_path).get_json()
    return [_path(entry["url"]) for entry in manifest["output"]]


@dataclass(frozen=True)
class FhirExport:
    """Kick-off of a Bulk Data export; its files hold exactly what the token may receive."""

    patients: bool = False
    methods: frozenset[str] = frozenset({"GET"})
    personal: bool = True

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        rows = stored(walker)
        personal = {r.key for r in rows if r.person is not None}
        for token in EVERY_TOKEN:
            expected = {r.key for r in rows if r.person is not None and r.visible_to(token)}
            files = self._files_hold(walker, token, expected, personal)
            expect = refusal(token) or both(status(202), files)
            yield Cell(token, "GET", route.url(), expect, headers=ASYNC)

    def _files_hold(
        self, walker: Walker, token: str, expected: set[Key], personal: set[Key]
    ) -> Expect:
        def expect(response: TestResponse) -> str | None:
            got: set[Key] = set()
            for path in _files(walker, token, _path(response.headers["Content-Location"])):
                body = walker.fhir(token, path).get_data()
                for line in body.splitlines():
                    resource: dict[str, Any] = orjson.loads(line)
                    got.add((resource["resourceType"], resource["id"]))
            return _compare(got & personal, expected)

        return expect


@dataclass(frozen=True)
class FhirExportJob:
    """An export's status (GET) and cancellation (DELETE): its own token only."""

    methods: frozenset[str] = frozenset({"GET", "DELETE"})
    personal: bool = False  # the manifest lists files and counts, no one's data

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        jobs = {owner: kick_off(walker, owner) for owner in READERS}
        for method in ("GET", "DELETE"):
            for owner, path in jobs.items():
                # The owner last: its DELETE ends the job.
                for token in sorted(EVERY_TOKEN, key=lambda t: t == owner):
                    mine = status(200 if method == "GET" else 202)
                    expect = refusal(token) or (mine if token == owner else status(404))
                    yield Cell(token, method, path, expect, relation=f"export of {owner}")


@dataclass(frozen=True)
class FhirExportFile:
    """An export's file: its own token only."""

    methods: frozenset[str] = frozenset({"GET"})
    personal: bool = True

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        for owner in READERS:
            [path, *_] = _files(walker, owner, kick_off(walker, owner))
            for token in EVERY_TOKEN:
                expect = refusal(token) or status(200 if token == owner else 404)
                yield Cell(token, "GET", path, expect, relation=f"export of {owner}")


@dataclass(frozen=True)
class FhirPublic:
    """The CapabilityStatement and conformance resources: no token needed, none refused."""

    kind: str | None = None  # a conformance read: of this type
    methods: frozenset[str] = frozenset({"GET"})
    personal: bool = False

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        values = {}
        if self.kind is not None:
            values["logical_id"] = next(i for k, i in artifacts() if k == self.kind)
        for token in EVERY_TOKEN:
            yield Cell(token, "GET", route.url(**values), status(200))
