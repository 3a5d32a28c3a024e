"""Every route × every role × every relation to a case, and the answer each must get (issue 8,
point 3: patientdatalagen's access limited to need, proven route by route).

ROUTES names each route of the app with the kind of route it is; the kind knows the cells
(who asks, how, about what) and the answer each must get, from the relations written out
below by hand. A route the app has and the table lacks fails
test_every_route_is_in_the_table: adding it is one line.

The world (tests/access_world.py) is built once for the module and committed; the cells
only read it, or change what nothing else looks at (each removal has its own participant).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from sip_tracker import clock
from sip_tracker.db import db
from tests.access_fhir import (
    FhirEverything,
    FhirExport,
    FhirExportFile,
    FhirExportJob,
    FhirImport,
    FhirPublic,
    FhirRead,
    FhirSearch,
)
from tests.access_walk import (
    Cell,
    Expect,
    Kind,
    RouteInfo,
    Walker,
    acts,
    anonymous_or,
    both,
    reads,
    redirects_to,
    status,
    to_login,
)
from tests.access_world import (
    ANONYMOUS,
    EVERYONE,
    SAMORDNARE,
    USERS,
    World,
    build_world,
)
from tests.conftest import empty_every_table
from tests.factories import Factory

# --- The relations, written out: who sees and who changes each case and person -------------

SEES_CASE = {
    "C": {"A1", "B1", "granskare-A1"},  # started by A1; B1 invited and covered by consent
    "W": {"A1", "granskare-A1"},  # F's consent withdrawn: only the initiating unit
    "X": {"A1", "B1", "granskare-A1"},  # closed
}
CHANGES_CASE = {"C": {"A1", "B1"}, "W": {"A1"}, "X": set()}  # granskare never; closed: no one
# Each case has a message from A1 asking the partners for kvittens: only a unit that owes one
# (and may change the case) gives it; F lost W with the consent.
OWES_RECEIPT = {"C": {"B1"}, "W": set(), "X": set()}
# P is C's person, and Y's (D, under consent) and Z's (E, no consent); Q is W's, S is X's.
SEES_PERSON = {
    "P": {"A1", "B1", "granskare-A1", "D", "granskare-D", "E"},
    "Q": {"A1", "granskare-A1"},
    "S": {"A1", "B1", "granskare-A1"},
}
# sees_person_details, and not a granskare: recorded by A1, or a case shared under consent.
EDITS_PERSON = {"P": {"A1", "B1", "D"}, "Q": {"A1"}, "S": {"A1", "B1"}}
WRITERS = (*SAMORDNARE, "admin-A2")  # who may open "Nytt ärende"
ADMINS = {"admin-A2"}
CASES = ("C", "W", "X")


# --- Kinds of HTML route ----------------------------------------------------------------


@dataclass(frozen=True)
class CaseRoute:
    """A page of one case. shows=True: whoever sees the case may GET it; otherwise the GET is
    the form of a change, refused (403) to those who only read."""

    shows: bool = False
    methods: frozenset[str] = frozenset({"GET", "POST"})
    personal: bool = True

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        world = walker.world
        for case in CASES:
            furnished = world.cases[case]
            for who in EVERYONE:
                values = {
                    "case_id": furnished.case_id,
                    "meeting_id": furnished.meeting_id,
                    "number": furnished.version,
                    "participant_id": furnished.spares.get(who, furnished.participant_id),
                    "message_id": furnished.message_id,
                }
                actions = ("decline", "abort", "close") if "action" in route.path else (None,)
                for action in actions:
                    url = route.url(**values, **({"action": action} if action else {}))
                    for method in route.methods:
                        expect = anonymous_or(who, self._expect(who, case, method))
                        yield Cell(who, method, url, expect, relation=f"case {case}")

    def _expect(self, who: str, case: str, method: str) -> Expect:
        if who not in SEES_CASE[case]:
            return status(404)  # never say that the case exists
        if method == "GET" and (self.shows or who in CHANGES_CASE[case]):
            return reads
        if who in CHANGES_CASE[case]:
            return acts
        return status(403)


@dataclass(frozen=True)
class ReceiptRoute(CaseRoute):
    """Kvittera a message: only for one's own unit's receipt (403 for a unit that owes none)."""

    methods: frozenset[str] = frozenset({"POST"})

    def _expect(self, who: str, case: str, method: str) -> Expect:
        if who not in SEES_CASE[case]:
            return status(404)
        return acts if who in OWES_RECEIPT[case] else status(403)


@dataclass(frozen=True)
class FewWriters(CaseRoute):
    """A form of a case only some of those who change it may use (writers, per case):
    the others who see the case are refused (403)."""

    writers: tuple[tuple[str, frozenset[str]], ...] = ()

    def _expect(self, who: str, case: str, method: str) -> Expect:
        if who not in SEES_CASE[case]:
            return status(404)
        if who in dict(self.writers).get(case, frozenset()):
            return reads if method == "GET" else acts
        return status(403)


# The meeting's answers: each invited unit answers for itself (B1 is invited to C's
# meetings; A1 started C and is not); the initiating unit keeps the shared table when no
# mötesledare with an account is named.
ANSWERS_OWN = FewWriters(writers=(("C", frozenset({"B1"})),))
ANSWERS_TABLE = FewWriters(writers=(("C", frozenset({"A1"})), ("W", frozenset({"A1"}))))
# Planning, moving, cancelling, calling and recording meetings: the initiating unit (or the
# mötesledare's); B1, invited to C, answers but does not run C's meetings.
RUNS_MEETINGS = FewWriters(writers=(("C", frozenset({"A1"})), ("W", frozenset({"A1"}))))


@dataclass(frozen=True)
class PersonRoute:
    """A person's page (details=False: anyone who sees one of the person's cases; a granskare
    may not add a närstående) or the form of the person's details (sees_person_details)."""

    details: bool = False
    methods: frozenset[str] = frozenset({"GET", "POST"})
    personal: bool = True

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        world = walker.world
        for person, person_id in world.persons.items():
            url = route.url(person_id=person_id)
            for who in EVERYONE:
                for method in route.methods:
                    expect = anonymous_or(who, self._expect(who, person, method))
                    yield Cell(who, method, url, expect, relation=f"person {person}")

    def _expect(self, who: str, person: str, method: str) -> Expect:
        if who not in SEES_PERSON[person]:
            return status(404)
        if self.details:
            if who not in EDITS_PERSON[person]:
                return status(403)
            return reads if method == "GET" else acts
        if method == "GET":
            return reads
        return status(403) if who.startswith("granskare") else acts


@dataclass(frozen=True)
class Overview:
    """The case list: every logged-in user, listing exactly the cases they see."""

    methods: frozenset[str] = frozenset({"GET"})
    personal: bool = True

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        world = walker.world
        url = route.url() + "?scope=unit&status=all"
        for case in CASES:
            link = f'href="/cases/{world.cases[case].case_id}"'
            for who in EVERYONE:
                listed = who in SEES_CASE[case]
                expect = both(status(200), _contains(link, listed))
                yield Cell(who, "GET", url, anonymous_or(who, expect), relation=f"case {case}")


@dataclass(frozen=True)
class Calendar:
    """The meeting calendar: every logged-in user, listing the meetings of exactly the cases
    they see (each case's follow-up meeting, 30 days ahead)."""

    methods: frozenset[str] = frozenset({"GET"})
    personal: bool = True

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        world = walker.world
        day = clock.today() + timedelta(days=30)
        for view in ("week", "month"):
            url = f"{route.url()}?scope=unit&view={view}&date={day.isoformat()}"
            for case in CASES:
                furnished = world.cases[case]
                link = f'href="/cases/{furnished.case_id}/meetings/{furnished.meeting_id}"'
                for who in EVERYONE:
                    listed = who in SEES_CASE[case]
                    expect = both(status(200), _contains(link, listed))
                    yield Cell(who, "GET", url, anonymous_or(who, expect), relation=f"case {case}")


def _contains(text: str, present: bool) -> Expect:
    def expect(response: TestResponse) -> str | None:
        found = text in response.get_data(as_text=True)
        if found == present:
            return None
        return f"{text} {'missing from' if present else 'shown on'} the page"

    return expect


@dataclass(frozen=True)
class Users:
    """A page for some logged-in users (by default all); others 403, anonymous to login."""

    allowed: frozenset[str] = frozenset(USERS)
    values: tuple[tuple[str, str], ...] = ()  # route argument → name in World.named
    query: str = ""
    methods: frozenset[str] = frozenset({"GET", "POST"})
    personal: bool = False

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        world = walker.world
        url = route.url(**named_values(route, world, dict(self.values))) + self.query
        for who in EVERYONE:
            for method in route.methods:
                if who not in self.allowed:
                    expect = status(403)
                else:
                    expect = reads if method == "GET" else acts
                yield Cell(who, method, url, anonymous_or(who, expect))


def named_values(route: RouteInfo, world: World, names: dict[str, str]) -> dict[str, object]:
    """The route's arguments from World.named: by the names given, else by their own."""
    values = {}
    for argument in route.rules[0].arguments:
        name = names.get(argument, argument)
        assert name in world.named, (
            f"{route.path} needs a value for <{argument}>: add one to World.named "
            "(tests/access_world.py) or name it in the route's line of ROUTES"
        )
        values[argument] = world.named[name]
    return values


def admin(*values: tuple[str, str], personal: bool = False) -> Users:
    """Administrators only (the action plan's and organisations' upkeep, users, the log)."""
    return Users(allowed=frozenset(ADMINS), values=values, personal=personal)


EVERY_USER = Users()
# One's own inbox and "Idag": every user, each shown only what they may see.
OWN_LIST = Users(methods=frozenset({"GET"}), personal=True)
# "Nytt ärende": a granskare may not start a case. It registers a person, or opens a case
# for a known one.
WRITER = Users(allowed=frozenset(WRITERS), personal=True)


@dataclass(frozen=True)
class InboxItemRoute:
    """An inbox item: only the users it is addressed to open it (the world's is B1's, about
    case C); to everyone else it does not exist."""

    methods: frozenset[str] = frozenset({"GET"})
    personal: bool = True

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        url = route.url(item_id=walker.world.named["item_id"])
        for who in EVERYONE:
            expect = reads if who == "B1" else status(404)
            yield Cell(who, "GET", url, anonymous_or(who, expect), relation="B1's item")


@dataclass(frozen=True)
class Public:
    """No login needed: everyone, anonymous included, gets 200."""

    methods: frozenset[str] = frozenset({"GET"})
    personal: bool = False

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        world = walker.world
        url = route.url(**named_values(route, world, {}))
        for who in EVERYONE:
            yield Cell(who, "GET", url, status(200))


@dataclass(frozen=True)
class Login:
    """The login page; a logged-in user is sent on to their start page."""

    methods: frozenset[str] = frozenset({"GET", "POST"})
    personal: bool = False

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        from sip_tracker.extensions import limiter

        for who in EVERYONE:
            for method in route.methods:
                # Each empty POST counts as a failed login: keep the throttle out of this test.
                limiter.reset()
                if who == ANONYMOUS:
                    expect = status(200) if method == "GET" else acts
                elif who.startswith("granskare"):
                    expect = redirects_to("/")
                else:
                    expect = redirects_to("/idag")  # coordinators start on "Idag"
                yield Cell(who, method, route.url(), expect)


@dataclass(frozen=True)
class Logout:
    methods: frozenset[str] = frozenset({"POST"})
    personal: bool = False

    def cells(self, route: RouteInfo, walker: Walker) -> Iterator[Cell]:
        for who in EVERYONE:
            yield Cell(who, "POST", route.url(), to_login, fresh_client=True)


# --- The table: every route of the app, and its kind --------------------------------------
# A new route: add one line. Its kind decides who gets what; personal=True routes are also
# walked by tests/test_audit_walk.py, which then needs a line too.

ROUTES: dict[str, Kind] = {
    "/": Overview(),
    "/account/notifications": EVERY_USER,  # one's own e-mail setting
    "/account/password": EVERY_USER,  # one's own password
    "/admin/audit/": admin(personal=True),  # the access log, filtered
    "/admin/audit/events/<int:event_id>": admin(personal=True),  # one row, and its review
    "/admin/audit/extract": admin(personal=True),  # a person's log extract (CSV)
    "/admin/audit/samples": admin(),  # the monthly samples drawn: counts, no one's data
    "/admin/audit/samples/<int:sample_id>": admin(personal=True),
    "/admin/units": admin(),
    "/admin/units/<int:unit_id>": admin(),
    "/admin/units/new": admin(),
    "/admin/users": admin(),
    "/admin/users/<int:user_id>": admin(),
    "/admin/users/new": admin(),
    "/cases/<int:case_id>": CaseRoute(shows=True),
    "/cases/<int:case_id>/<any(decline, abort, close):action>": CaseRoute(),
    "/cases/<int:case_id>/consent": CaseRoute(),
    "/cases/<int:case_id>/consent/withdraw": CaseRoute(),
    "/cases/<int:case_id>/edit": CaseRoute(),
    "/cases/<int:case_id>/follow-ups": CaseRoute(shows=True),
    "/cases/<int:case_id>/follow-ups/new": CaseRoute(),
    "/cases/<int:case_id>/handlingsplan": CaseRoute(),
    "/cases/<int:case_id>/kartlaggning": CaseRoute(),
    "/cases/<int:case_id>/meetings/<int:meeting_id>": CaseRoute(shows=True),
    "/cases/<int:case_id>/meetings/<int:meeting_id>/edit": RUNS_MEETINGS,
    "/cases/<int:case_id>/meetings/<int:meeting_id>/held": RUNS_MEETINGS,
    "/cases/<int:case_id>/meetings/<int:meeting_id>/kallelse": RUNS_MEETINGS,
    "/cases/<int:case_id>/meetings/<int:meeting_id>/kallelse.ics": CaseRoute(shows=True),
    "/cases/<int:case_id>/meetings/<int:meeting_id>/responses": ANSWERS_TABLE,
    "/cases/<int:case_id>/meetings/<int:meeting_id>/answer": ANSWERS_OWN,
    "/cases/<int:case_id>/meetings/<int:meeting_id>/cancel": RUNS_MEETINGS,
    "/cases/<int:case_id>/meetings/new": RUNS_MEETINGS,
    "/cases/<int:case_id>/messages": CaseRoute(shows=True),  # the thread; POST writes
    "/cases/<int:case_id>/messages/<int:message_id>/receipt": ReceiptRoute(),
    "/cases/<int:case_id>/participants": CaseRoute(),
    "/cases/<int:case_id>/participants/<int:participant_id>/remove": CaseRoute(),
    "/cases/<int:case_id>/plan": CaseRoute(),
    "/cases/<int:case_id>/plan/establish": CaseRoute(),
    "/cases/<int:case_id>/plan/versions": CaseRoute(shows=True),
    "/cases/<int:case_id>/plan/versions/<int:number>": CaseRoute(shows=True),
    "/cases/<int:case_id>/roles": CaseRoute(),
    "/cases/<int:case_id>/start": CaseRoute(),
    "/cases/new": WRITER,
    "/fhir": FhirImport(),
    "/fhir/": FhirImport(),
    "/fhir/$export": FhirExport(),
    "/fhir/$export-file/<job_id>/<file_name>": FhirExportFile(),
    "/fhir/$export-status/<job_id>": FhirExportJob(),
    "/fhir/<resource_type>": FhirSearch(),
    "/fhir/<resource_type>/<logical_id>": FhirRead(),
    "/fhir/CodeSystem": FhirPublic(),
    "/fhir/CodeSystem/<logical_id>": FhirPublic("CodeSystem"),
    "/fhir/Patient/$export": FhirExport(patients=True),
    "/fhir/Patient/<logical_id>/$everything": FhirEverything(),
    "/fhir/StructureDefinition": FhirPublic(),
    "/fhir/StructureDefinition/<logical_id>": FhirPublic("StructureDefinition"),
    "/fhir/ValueSet": FhirPublic(),
    "/fhir/ValueSet/<logical_id>": FhirPublic("ValueSet"),
    "/fhir/metadata": FhirPublic(),
    "/handlingsplan": EVERY_USER,
    "/handlingsplan/aktiviteter/<identifier>": EVERY_USER,
    "/handlingsplan/aktiviteter/<identifier>/andra": admin(),
    "/handlingsplan/aktiviteter/ny": admin(),
    "/handlingsplan/inriktningar/<code>/andra": admin(("code", "inriktning")),
    "/handlingsplan/inriktningar/ny": admin(),
    "/handlingsplan/malomraden/<code>/andra": admin(("code", "malomrade")),
    "/handlingsplan/malomraden/ny": admin(),
    "/handlingsplan/sakomraden/<code>/andra": admin(("code", "sakomrade")),
    "/handlingsplan/sakomraden/ny": admin(),
    "/healthz": Public(),
    "/idag": OWN_LIST,
    "/inbox": OWN_LIST,
    "/inbox/<int:item_id>": InboxItemRoute(),
    "/inbox/read-all": Users(methods=frozenset({"POST"})),  # one's own reads
    "/indicators": EVERY_USER,
    "/indicators.csv": EVERY_USER,
    "/indicators/<key>.csv": EVERY_USER,
    "/kalender": Calendar(),  # the meetings of the cases one sees
    "/login": Login(),
    "/logout": Logout(),
    "/people/<int:person_id>": PersonRoute(),
    "/people/<int:person_id>/edit": PersonRoute(details=True),
    "/static/<path:filename>": Public(),
}


# --- The world, once for the module -------------------------------------------------------


@pytest.fixture(autouse=True)
def _empty_database() -> None:
    """The module shares one world (built below) instead of a fresh database per test."""


@dataclass
class Matrix:
    walker: Walker
    asked: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def matrix(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    exports: Path = tmp_path_factory.mktemp("exports")
    with pytest.MonkeyPatch.context() as patch:
        # Bulk Data exports run inline, so a kick-off's files can be read at once.
        patch.setitem(app.config, "FHIR_EXPORT_SYNC", True)
        patch.setitem(app.config, "FHIR_EXPORT_DIR", str(exports))
        with app.test_request_context():
            world = build_world(Factory())
            db.session.commit()
            db.session.remove()
        matrix = Matrix(Walker(app, world))
        yield matrix
        with app.app_context():
            empty_every_table()
    total = sum(matrix.asked.values())
    print(f"\naccess matrix: {len(matrix.asked)} routes, {total} requests asserted")


def _routes_of(app: Flask) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        found.setdefault(rule.rule, set()).update((rule.methods or set()) - {"HEAD", "OPTIONS"})
    return found


def test_every_route_is_in_the_table(app: Flask) -> None:
    routes = _routes_of(app)
    missing = sorted(set(routes) - set(ROUTES))
    assert not missing, (
        "Routes missing from the access matrix (tests/test_access_matrix.py ROUTES), "
        "add a line for each: " + ", ".join(missing)
    )
    gone = sorted(set(ROUTES) - set(routes))
    assert not gone, "In the access matrix's table but not in the app: " + ", ".join(gone)
    unwalked = {
        path: sorted(methods - ROUTES[path].methods)
        for path, methods in routes.items()
        if methods - ROUTES[path].methods
    }
    assert not unwalked, f"Methods the access matrix does not walk: {unwalked}"


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_each_role_gets_the_answer_its_relation_allows(path: str, matrix: Matrix) -> None:
    walker = matrix.walker
    before = walker.asked
    route = walker.route(path)
    wrong = walker.check(ROUTES[path].cells(route, walker))
    matrix.asked[path] = walker.asked - before
    assert matrix.asked[path] > 0, f"{path}: no request walked"
    assert not wrong, f"{len(wrong)} wrong answers:\n" + "\n".join(wrong)
