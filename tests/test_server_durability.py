"""Through the real server: gunicorn with two workers of four threads, eight people saving at
once, then the same server killed (SIGKILL) in the middle of a burst of saves.

On SQLite (the default) or, with SIP_TEST_BACKEND=postgresql, in a schema of its own.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, text

from sip_tracker.audit.models import AuditEvent
from sip_tracker.cases.models import Participant, SipCase
from sip_tracker.db import db
from sip_tracker.fhir.tokens import issue_token
from sip_tracker.organizations.models import HuvudmanKind
from sip_tracker.people.models import Person
from tests.factories import PASSWORD, Factory
from tests.live_server import Answer, Browser, database_app, gunicorn, hidden, server_database

pytestmark = pytest.mark.server

PEOPLE = 8
ORIGINAL_NEED = "Behöver insatser från både kommun och region."  # as the factory makes cases
ROUNDS = 4  # per person: a save of their case, of its person, of the shared case; reads


@dataclass
class Seeded:
    """Who logs in, and the case and person each of them saves."""

    emails: list[str]
    cases: list[int]
    people: list[int]
    shared_case: int
    token: str  # an IT system's read token, for the FHIR API


def seed(url: str) -> Seeded:
    """Eight coordinators of one unit, each with a case of their own, and one case for all;
    each shared with the region under consent, so the FHIR API serves them."""
    with database_app(url):
        make = Factory()
        unit = make.unit(name="Hemtjänsten Tumba")
        region = make.unit(make.huvudman(HuvudmanKind.REGION), name="Vårdcentralen Ljuset")
        users = [make.user(unit, name=f"Samordnare {n}") for n in range(PEOPLE)]
        own = [make.shared_case(user, region) for user in users]
        shared = make.shared_case(users[0], region)
        seeded = Seeded(
            emails=[u.email for u in users],
            cases=[c.id for c in own],
            people=[c.person_id for c in own],
            shared_case=shared.id,
            token=issue_token(
                name="Journal", huvudman=unit.huvudman, read=True, write=False
            ).secret,
        )
        db.session.commit()
    return seeded


@dataclass
class Save:
    """One save sent: the version its form was loaded at, what it sent, what came back."""

    record: tuple[str, int]
    base: int
    value: str
    status: int | None = None  # None: sent, no answer (the server died)


@dataclass
class Tally:
    """Every answer the clients got, and every save they sent (shared by the threads)."""

    statuses: Counter[int] = field(default_factory=Counter)
    locked: int = 0  # answers that mention SQLite's "database is locked"
    saves: list[Save] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, answer: Answer) -> Answer:
        with self.lock:
            self.statuses[answer.status] += 1
            self.locked += "database is locked" in answer.body
        return answer

    def requests(self) -> int:
        return sum(self.statuses.values())

    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def acknowledged(self, record: tuple[str, int]) -> list[Save]:
        """The saves of the record the server answered with a redirect (saved), in order."""
        done = [s for s in self.saves if s.record == record and s.status == 302]
        return sorted(done, key=lambda s: s.base)


def save_form(
    browser: Browser,
    tally: Tally,
    page: str,
    record: tuple[str, int],
    fields: Callable[[str], dict[str, str | list[str]]],
    value: str,
) -> Save:
    """Load the form, then save it with a new value, as a person would."""
    form = tally.answer(browser.get(page))
    assert form.status == 200, f"GET {page} answered {form.status}"
    save = Save(record, int(hidden(form.body, "lock_version")), value)
    with tally.lock:
        tally.saves.append(save)
    data = {"csrf_token": hidden(form.body, "csrf_token"), "lock_version": str(save.base)}
    save.status = tally.answer(browser.post(page, {**data, **fields(value)})).status
    return save


def details(value: str) -> dict[str, str | list[str]]:
    return {"origin": "annan", "sakomraden": ["aldre"], "need_description": value}


def kartlaggning(value: str) -> dict[str, str | list[str]]:
    return {"what_matters": value, "needs-0-area": "halsa", "needs-0-description": ""}


def address(value: str) -> dict[str, str | list[str]]:
    return {"given_name": "Karin", "family_name": "Nilsson", "address": value}


def export_everything(port: int, token: str, tally: Tally) -> int:
    """As an IT system would: a Bulk Data export (its worker thread writes while the people
    do), polled until done, every file fetched, and searches meanwhile. Returns the count of
    resources exported."""
    api = Browser(port)
    fhir = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    while tally.requests() < 40:  # once the people are busy saving
        time.sleep(0.05)
    kick_off = tally.answer(api.get("/fhir/$export", {**fhir, "Prefer": "respond-async"}))
    assert kick_off.status == 202, kick_off.body
    status = urlsplit(kick_off.headers["Content-Location"]).path
    deadline = time.monotonic() + 120
    while (polled := tally.answer(api.get(status, fhir))).status == 202:
        assert time.monotonic() < deadline, "the export did not finish"
        assert tally.answer(api.get("/fhir/CarePlan", fhir)).status == 200
        time.sleep(0.2)
    assert polled.status == 200, polled.body
    exported = 0
    for output in json.loads(polled.body)["output"]:
        file = tally.answer(api.get(urlsplit(output["url"]).path, fhir))
        assert file.status == 200
        exported += len(file.body.splitlines())
    return exported


def run_all(work: Callable[[int], None], also: Callable[[], object] | None = None) -> None:
    """Run work(n) for each of the eight people in threads of their own, and `also` in one
    more; re-raise the first failure."""
    failures: list[BaseException] = []

    def guarded(n: int) -> None:
        try:
            work(n) if n < PEOPLE else also()  # type: ignore[misc]
        except BaseException as error:
            failures.append(error)

    threads = [
        threading.Thread(target=guarded, args=(n,)) for n in range(PEOPLE + (also is not None))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    if failures:
        raise failures[0]


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    yield from server_database(tmp_path, "durability_server")


def test_eight_people_saving_at_once_get_no_error_and_lose_no_save(
    url: str, tmp_path: Path
) -> None:
    seeded = seed(url)
    tally = Tally()
    started = time.monotonic()
    with gunicorn(url, tmp_path / "gunicorn.log") as server:

        def person(n: int) -> None:
            browser = Browser(server.port)
            browser.log_in(seeded.emails[n], PASSWORD)
            own, shared = seeded.cases[n], seeded.shared_case
            for k in range(ROUNDS):
                save_form(browser, tally, f"/cases/{own}/edit", ("case", own), details, f"{n}-d{k}")
                tally.answer(browser.get(f"/cases/{own}"))
                save_form(
                    browser,
                    tally,
                    f"/people/{seeded.people[n]}/edit",
                    ("person", seeded.people[n]),
                    address,
                    f"Gatan {n}-{k}",
                )
                tally.answer(browser.get("/"))
                # Everyone saves the shared case's kartläggning: many forms are stale by then.
                save_form(
                    browser,
                    tally,
                    f"/cases/{shared}/kartlaggning",
                    ("case", shared),
                    kartlaggning,
                    f"{n}-k{k}",
                )

        exported: list[int] = []
        run_all(
            person, lambda: exported.append(export_everything(server.port, seeded.token, tally))
        )
        log = server.log_text()
    elapsed = time.monotonic() - started

    conflicts = tally.statuses[409]
    print(  # the figures for the record: pytest -s shows them
        f"\n{url.split(':')[0]}: {tally.requests()} requests by {PEOPLE} people at once in"
        f" {elapsed:.1f} s; {tally.server_errors()} answers 5xx,"
        f" {tally.locked + log.count('database is locked')} 'database is locked',"
        f" {conflicts} saves refused as stale (409); a Bulk Data export of"
        f" {exported[0] if exported else 0} resources meanwhile"
    )
    assert tally.server_errors() == 0, tally.statuses
    assert tally.locked == 0 and "database is locked" not in log
    assert "Traceback" not in log, log
    assert set(tally.statuses) <= {200, 202, 302, 409}, tally.statuses
    assert exported and exported[0] > 0  # the export finished among the writes

    with database_app(url):
        for n in range(PEOPLE):
            # Nobody else saved these: every save went through, in a chain of versions.
            for model, key in ((SipCase, seeded.cases[n]), (Person, seeded.people[n])):
                kind = "case" if model is SipCase else "person"
                acked = tally.acknowledged((kind, key))
                assert [s.base for s in acked] == list(range(1, ROUNDS + 1))
                row = db.session.get_one(model, key)
                assert row.lock_version == ROUNDS + 1
                last = row.need_description if model is SipCase else row.address
                assert last == acked[-1].value
        # The shared case: each save acknowledged was made on the version the one before it
        # left, so none was saved over unseen; the refused ones (409) changed nothing.
        acked = tally.acknowledged(("case", seeded.shared_case))
        assert [s.base for s in acked] == list(range(1, len(acked) + 1))
        assert len(acked) + conflicts == PEOPLE * ROUNDS
        shared = db.session.get_one(SipCase, seeded.shared_case)
        assert shared.lock_version == len(acked) + 1
        assert shared.what_matters == acked[-1].value
        logged = db.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.case_id == seeded.shared_case,
                AuditEvent.action == "kartlaggning.update",
            )
        )
        assert logged == len(acked)


def test_a_server_killed_mid_burst_keeps_every_acknowledged_save(url: str, tmp_path: Path) -> None:
    seeded = seed(url)
    tally = Tally()
    enough = threading.Event()
    killing = threading.Event()
    with gunicorn(url, tmp_path / "gunicorn.log") as server:

        def person(n: int) -> None:
            try:
                save_until_the_server_dies(n)
            # The server is gone (perhaps before this one had logged in), or died while
            # answering (an incomplete answer is no acknowledgement either).
            except (OSError, http.client.HTTPException):
                if not killing.is_set():
                    raise

        def save_until_the_server_dies(n: int) -> None:
            browser = Browser(server.port, timeout=20)
            browser.log_in(seeded.emails[n], PASSWORD)
            own = seeded.cases[n]
            token = hidden(browser.get(f"/cases/{own}/participants").body, "csrf_token")
            version = 1  # nobody else saves this case: each save moves it on by one
            k = 0
            while True:
                k += 1
                # Alternately add a participant (a new row) and change the case (an update).
                fields: dict[str, str | list[str]]
                if k % 2:
                    record, page, value = ("participant", own), "participants", f"Aktör {n}-{k}"
                    fields = {"kind": "annan", "organisation": value}
                else:
                    record, page, value = ("case", own), "edit", f"{n}-{k}"
                    fields = {**details(value), "lock_version": str(version)}
                save = Save(record, version, value)
                with tally.lock:
                    tally.saves.append(save)
                # Once the server is killed this raises: the save was sent, never acknowledged.
                answer = browser.post(f"/cases/{own}/{page}", {"csrf_token": token, **fields})
                save.status = tally.answer(answer).status
                assert save.status == 302, f"{page} answered {save.status}"
                if record[0] == "case":
                    version += 1
                if sum(s.status == 302 for s in tally.saves) >= 60:
                    enough.set()

        failures: list[BaseException] = []

        def everyone() -> None:
            try:
                run_all(person)
            except BaseException as error:
                failures.append(error)

        clients = threading.Thread(target=everyone)
        clients.start()
        assert enough.wait(timeout=60), "the burst did not get going"
        killing.set()
        server.kill()  # SIGKILL, master and workers, with saves in flight
        clients.join(timeout=60)
        assert not clients.is_alive()
        if failures:
            raise failures[0]
        in_flight = [s for s in tally.saves if s.status is None]

    acked = [s for s in tally.saves if s.status == 302]
    print(
        f"\n{url.split(':')[0]}: killed after {len(acked)} acknowledged saves,"
        f" {len(in_flight)} sent without an answer"
    )
    with database_app(url):
        added = {s.value for s in acked if s.record[0] == "participant"}
        there = set(
            db.session.scalars(
                select(Participant.organisation).where(Participant.organisation.is_not(None))
            )
        )
        assert added <= there  # every acknowledged new row is there
        assert there <= {s.value for s in tally.saves if s.record[0] == "participant"}
        logged = set(
            db.session.scalars(
                select(AuditEvent.detail).where(AuditEvent.action == "participant.add")
            )
        )
        assert added <= logged  # with its access-log row, committed in the same transaction
        for case_id in seeded.cases:
            # One person saved this case, one save at a time: all acknowledged but perhaps
            # the last, which was in flight when the server died and may have committed.
            mine = [s for s in tally.saves if s.record == ("case", case_id)]
            done = [s for s in mine if s.status == 302]
            assert mine[: len(done)] == done
            last = done[-1].value if done else ORIGINAL_NEED
            case = db.session.get_one(SipCase, case_id)
            if len(mine) > len(done) and case.need_description == mine[-1].value:
                assert case.lock_version == len(done) + 2  # the save in flight committed
            else:
                assert case.need_description == last
                assert case.lock_version == len(done) + 1
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []

    # And the application starts again on what the crash left.
    with gunicorn(url, tmp_path / "restart.log", workers=1, threads=1) as server:
        browser = Browser(server.port)
        browser.log_in(seeded.emails[0], PASSWORD)
        assert browser.get(f"/cases/{seeded.cases[0]}").status == 200
