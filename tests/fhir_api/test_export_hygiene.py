"""Bulk Data export files: every download is logged, the files are the app user's alone, and
a consent withdrawal deletes the exports that hold the case's data."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from sip_tracker import clock
from sip_tracker.audit.models import AuditEvent
from sip_tracker.cases import services
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.fhir import bulk, systems
from sip_tracker.fhir.models import StoredResource
from tests.factories import login
from tests.fhir_api.conftest import Api, World
from tests.fhir_api.test_bulk import (
    Stepper,
    export,
    fetch,
    job_id_of,
    kick_off,
    poll_until_done,
    status_path,
)

DOWNLOAD = "fhir.export.download"


@pytest.fixture(autouse=True)
def _exports(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Exports run inline and write under the test's folder; no thread outlives a test."""
    monkeypatch.setitem(app.config, "FHIR_EXPORT_SYNC", True)
    monkeypatch.setitem(app.config, "FHIR_EXPORT_DIR", str(tmp_path / "exports"))
    yield
    assert bulk.wait_for_exports(10), "an export thread is still running"


@pytest.fixture
def stepper(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stepper]:
    """The export runs in its thread, one resource per batch, parked after each."""
    stepper = Stepper()
    monkeypatch.setitem(app.config, "FHIR_EXPORT_SYNC", False)
    monkeypatch.setitem(app.config, "FHIR_EXPORT_BATCH_SIZE", 1)
    monkeypatch.setitem(app.config, "FHIR_EXPORT_BATCH_HOOK", stepper)
    yield stepper
    stepper.free = True
    stepper.go.release()


def downloads() -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == DOWNLOAD).order_by(AuditEvent.id)
        )
    )


def url_of(manifest: dict[str, Any], resource_type: str) -> str:
    [url] = [o["url"] for o in manifest["output"] if o["type"] == resource_type]
    return url


# --- Every download is logged ---------------------------------------------------------------


def test_each_download_logs_whose_data_the_file_holds_and_which_token_took_it(
    api: Api, client: FlaskClient, world: World
):
    manifest = export(api)
    job_id = manifest["output"][0]["url"].split("/")[-2]
    assert downloads() == []  # the export itself is logged as fhir.export, not as a download

    for _ in range(2):  # each download counts, not only the first
        assert fetch(api, url_of(manifest, "CarePlan"))[0] == 200
    rows = downloads()
    assert [(r.person_id, r.case_id) for r in rows] == [(world.person_id, world.case_id)] * 2
    for row in rows:
        assert row.user_id is None
        assert "Journal" in (row.detail or "")  # the token's name
        assert job_id in (row.detail or "") and "CarePlan.ndjson" in (row.detail or "")

    assert fetch(api, url_of(manifest, "Patient"))[0] == 200
    patient_rows = downloads()[2:]
    assert [(r.person_id, r.case_id) for r in patient_rows] == [(world.person_id, None)]

    # Organizations hold no personal data; another token's attempt is refused: no rows.
    assert fetch(api, url_of(manifest, "Organization"))[0] == 200
    assert fetch(Api(client, world.kommun_token), url_of(manifest, "CarePlan"))[0] == 404
    assert len(downloads()) == 3


def test_a_download_logs_only_the_persons_in_that_file(api: Api, world: World, make):
    coordinator = db.session.get(SipCase, world.case_id).created_by
    region_unit = next(p.unit for p in db.session.get(SipCase, world.case_id).participants)
    other = make.shared_case(coordinator, region_unit)
    services.save_kartlaggning(other, user=coordinator, what_matters="Att bo kvar.", needs=[])
    make.commit()
    manifest = export(api)
    assert fetch(api, url_of(manifest, "CarePlan"))[0] == 200
    assert {(r.person_id, r.case_id) for r in downloads()} == {
        (world.person_id, world.case_id),
        (other.person_id, other.id),
    }


# --- Only the app's user can read them ------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_export_folders_and_files_are_readable_by_the_app_user_only(
    api: Api, world: World, app: Flask
):
    manifest = export(api)
    folder = bulk.export_root(app) / manifest["output"][0]["url"].split("/")[-2]
    files = list(folder.iterdir())
    assert files
    assert mode(bulk.export_root(app)) == 0o700
    assert mode(folder) == 0o700
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}


# --- A consent withdrawal deletes the exports holding the case ------------------------------


def withdraw(client: FlaskClient, world: World, case_id: int | None = None) -> None:
    """The kommun coordinator withdraws the consent through the web form."""
    case_id = case_id or world.case_id
    coordinator = db.session.get(SipCase, case_id).created_by
    login(client, coordinator)
    response = client.post(
        f"/cases/{case_id}/consent/withdraw",
        data={"withdrawn_on": clock.today().isoformat(), "note": ""},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def assert_withdrawn(status: int, body: bytes) -> None:
    assert status == 404
    outcome = orjson.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    issue = outcome["issue"][0]
    assert issue["code"] == "deleted"
    assert "consent" in issue["diagnostics"] and "withdrawn" in issue["diagnostics"]
    assert "Journal" not in issue["diagnostics"]


def test_withdrawing_consent_deletes_the_finished_exports_holding_the_case(
    api: Api, client: FlaskClient, world: World, app: Flask
):
    manifest = export(api)
    path = f"$export-status/{manifest['output'][0]['url'].split('/')[-2]}"
    folder = bulk.export_root(app) / job_id_of(path)
    assert folder.is_dir()
    # An export of the kommun's that holds no personal data is not touched.
    kommun = Api(client, world.kommun_token)
    unrelated = export(kommun, "$export?_type=Organization")

    withdraw(client, world)

    assert not folder.exists()
    polled = api.get(path)
    assert_withdrawn(polled.status_code, polled.get_data())
    for entry in manifest["output"]:
        status, _, body = fetch(api, entry["url"])
        assert_withdrawn(status, body)
    assert fetch(kommun, url_of(unrelated, "Organization"))[0] == 200


def test_a_withdrawal_deletes_the_kommuns_own_export_too(
    client: FlaskClient, world: World, app: Flask
):
    """Every export holding the case goes, the initiating organisation's included."""
    kommun = Api(client, world.kommun_token)
    manifest = export(kommun, "$export?_type=CarePlan")
    withdraw(client, world)
    status, _, body = fetch(kommun, url_of(manifest, "CarePlan"))
    assert_withdrawn(status, body)


def test_a_running_export_that_has_written_the_case_is_stopped_and_deleted(
    api: Api, client: FlaskClient, world: World, app: Flask, stepper: Stepper
):
    path = status_path(kick_off(api))
    folder = bulk.export_root(app) / job_id_of(path)
    assert stepper.arrived.acquire(timeout=10), "the export never started"
    for _ in range(50):  # one resource per batch, until one of the case's is in a file
        written = db.session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.action == "fhir.export", AuditEvent.case_id == world.case_id
            )
        )
        db.session.rollback()
        if written:
            break
        stepper.next_batch()
    assert written

    withdraw(client, world)
    stepper.free = True
    stepper.go.release()
    assert bulk.wait_for_exports(10)

    polled = api.get(path)
    assert_withdrawn(polled.status_code, polled.get_data())
    assert not folder.exists()


def test_a_running_export_that_has_not_reached_the_case_finishes_without_it(
    api: Api, client: FlaskClient, world: World, app: Flask, make, stepper: Stepper
):
    coordinator = db.session.get(SipCase, world.case_id).created_by
    region_unit = next(p.unit for p in db.session.get(SipCase, world.case_id).participants)
    later = make.shared_case(coordinator, region_unit)  # stored after the world's case
    make.commit()
    later_id, later_person = later.id, later.person_id
    path = status_path(kick_off(api))
    assert stepper.arrived.acquire(timeout=10), "the export never started"
    assert (
        db.session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.action == "fhir.export", AuditEvent.case_id == later_id
            )
        )
        is None
    )
    db.session.rollback()

    withdraw(client, world, later_id)
    stepper.free = True
    stepper.go.release()
    assert bulk.wait_for_exports(10)

    done = poll_until_done(api, path)
    assert done.status_code == 200  # it held nothing of the case: it stays
    theirs = {
        (r.resource_type, r.logical_id)
        for r in db.session.scalars(
            select(StoredResource).where(
                (StoredResource.case_id == later_id) | (StoredResource.person_id == later_person)
            )
        )
    }
    assert theirs
    written = set()
    for entry in done.get_json()["output"]:
        status, _, body = fetch(api, entry["url"])
        assert status == 200
        written |= {(r["resourceType"], r["id"]) for r in map(orjson.loads, body.splitlines())}
    assert systems.careplan_id(world.case_id) in {i for _, i in written}
    assert written.isdisjoint(theirs)
