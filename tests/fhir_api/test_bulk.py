"""Bulk Data export: kick-off, polling, manifest, NDJSON files, the CLI, the background thread."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from sip_tracker.audit.models import AuditEvent
from sip_tracker.cases.models import SipCase
from sip_tracker.config import ConfigError, load_config
from sip_tracker.db import db
from sip_tracker.fhir import bulk, systems
from sip_tracker.fhir.models import ExportJob, StoredResource
from tests.fhir_api.conftest import Api, World

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture(autouse=True)
def _exports(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Exports run inline and write under the test's folder; no thread outlives a test."""
    monkeypatch.setitem(app.config, "FHIR_EXPORT_SYNC", True)
    monkeypatch.setitem(app.config, "FHIR_EXPORT_DIR", str(tmp_path / "exports"))
    yield
    assert bulk.wait_for_exports(10), "an export thread is still running"


def kick_off(api: Api, path: str = "$export", **headers: str) -> Any:
    return api.get(path, **{**ASYNC, **headers})


def status_path(response: Any) -> str:
    location = response.headers["Content-Location"]
    assert location.startswith("http://localhost/fhir/$export-status/")
    return location.split("/fhir/", 1)[1]


def export(api: Api, path: str = "$export") -> dict[str, Any]:
    """Kick off (inline), poll once, return the manifest."""
    started = kick_off(api, path)
    assert started.status_code == 202, started.get_data(as_text=True)
    done = api.get(status_path(started))
    assert done.status_code == 200
    manifest: dict[str, Any] = done.get_json()
    return manifest


def fetch(api: Api, url: str) -> tuple[int, str, bytes]:
    """GET a file by its absolute URL: status, media type, body (the file is closed)."""
    with api.get(url.split("/fhir/", 1)[1]) as response:
        return response.status_code, response.mimetype, response.get_data()


def download(api: Api, manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every output file, parsed line by line, by type."""
    files: dict[str, list[dict[str, Any]]] = {}
    for entry in manifest["output"]:
        status, mimetype, body = fetch(api, entry["url"])
        assert status == 200
        assert mimetype == "application/fhir+ndjson"
        lines = body.splitlines()
        assert len(lines) == entry["count"]
        files[entry["type"]] = [orjson.loads(line) for line in lines]
        assert {r["resourceType"] for r in files[entry["type"]]} == {entry["type"]}
    return files


def test_system_export_kick_off_poll_manifest_and_files(api: Api, world: World, make):
    coordinator = db.session.get(SipCase, world.case_id).created_by
    hidden = make.case(coordinator)  # no consent: the region must not receive it
    make.commit()
    started = kick_off(api)
    assert started.status_code == 202
    assert started.get_json()["resourceType"] == "OperationOutcome"
    polled = api.get(status_path(started))
    assert polled.status_code == 200
    manifest = polled.get_json()
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"] == "http://localhost/fhir/$export"
    assert manifest["error"] == []
    assert manifest["transactionTime"].endswith("Z")
    files = download(api, manifest)
    assert {"Patient", "CarePlan", "CareTeam", "Consent", "Organization"} <= set(files)
    assert [r["id"] for r in files["CarePlan"]] == [systems.careplan_id(world.case_id)]
    assert systems.careplan_id(hidden.id) not in {r["id"] for r in files["CarePlan"]}
    for resources in files.values():
        for resource in resources:  # each line is one the token may read
            read = api.get(f"{resource['resourceType']}/{resource['id']}")
            assert read.status_code == 200, resource["id"]


def test_the_files_hold_the_stored_bytes(api: Api, world: World):
    manifest = export(api, "$export?_type=CarePlan")
    [entry] = manifest["output"]
    _, _, body = fetch(api, entry["url"])
    stored = db.session.scalar(
        select(StoredResource.content).where(
            StoredResource.logical_id == systems.careplan_id(world.case_id)
        )
    )
    assert body == stored + b"\n"


def test_patient_export_holds_only_personal_resources(api: Api, world: World):
    files = download(api, export(api, "Patient/$export"))
    assert "Organization" not in files
    assert [r["id"] for r in files["Patient"]] == [systems.patient_id(world.person_id)]
    assert "CarePlan" in files


def test_an_outsider_exports_no_personal_data(client: FlaskClient, world: World):
    outsider = Api(client, world.outsider_token)
    assert export(outsider, "Patient/$export")["output"] == []
    files = download(outsider, export(outsider))
    assert set(files) <= {"Organization", "PlanDefinition"}  # no personal data in them
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.export")).all() == []
    )


def test_type_and_since_filter(api: Api, world: World):
    manifest = export(api, "$export?_type=CarePlan,Patient&_outputFormat=application/fhir%2Bndjson")
    assert sorted(o["type"] for o in manifest["output"]) == ["CarePlan", "Patient"]
    repeated = export(api, "$export?_type=Goal&_type=Consent")
    assert {o["type"] for o in repeated["output"]} <= {"Goal", "Consent"}
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert export(api, f"$export?_since={future}")["output"] == []
    assert export(api, "$export?_since=2000-01-01T00:00:00%2B01:00")["output"]


def test_since_returns_only_what_changed_after(api: Api, world: World, make):
    from sip_tracker.cases import services

    # Move every stored resource into the past, then change the case: only its new versions.
    past = datetime(2020, 1, 1, tzinfo=UTC)
    for row in db.session.scalars(select(StoredResource)):
        row.last_updated = past
    make.commit()
    case = db.session.get(SipCase, world.case_id)
    services.save_kartlaggning(case, user=case.created_by, what_matters="Att bo kvar.", needs=[])
    make.commit()
    files = download(api, export(api, "$export?_since=2021-01-01T00:00:00Z"))
    assert [r["id"] for r in files["CarePlan"]] == [systems.careplan_id(world.case_id)]
    assert "Patient" not in files  # unchanged since 2020


def test_exports_are_audited_naming_the_token(api: Api, world: World):
    export(api)
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.export")).all()
    assert rows
    assert {(r.person_id, r.case_id) for r in rows} >= {(world.person_id, world.case_id)}
    assert all("Journal" in (r.detail or "") for r in rows)


@pytest.mark.parametrize(
    ("path", "headers", "status", "words"),
    [
        ("$export", {"Prefer": ""}, 400, "respond-async"),
        ("$export?_outputFormat=text/csv", {}, 400, "_outputFormat"),
        ("$export?_type=Observation", {}, 400, "Observation"),
        ("$export?_since=2026-01-01", {}, 400, "_since"),
        ("$export?_since=yesterday", {}, 400, "_since"),
        ("$export?_since=2026-01-01T10:00:00", {}, 400, "_since"),
        ("$export?_typeFilter=CarePlan%3Fstatus%3Dactive", {}, 400, "_typeFilter"),
        ("Patient/$export?patient=Patient/person-1", {}, 400, "patient"),
        ("$export-status/no-such-job", {}, 404, "no-such-job"),
        ("$export-file/no-such-job/CarePlan.ndjson", {}, 404, "no-such-job"),
    ],
)
def test_errors_are_operation_outcomes(api: Api, world: World, path, headers, status, words):
    response = api.get(path, **{**ASYNC, **headers})
    assert response.status_code == status
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert words in body["issue"][0]["diagnostics"]
    assert db.session.scalars(select(ExportJob)).all() == [] or status == 404


def test_no_token_no_export(client: FlaskClient, world: World):
    response = client.get("/fhir/$export", headers=ASYNC)
    assert response.status_code == 401
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_only_the_token_that_started_it_sees_the_job(api: Api, client, world: World):
    manifest = export(api)
    started = kick_off(api)
    other = Api(client, world.kommun_token)
    assert other.get(status_path(started)).status_code == 404
    url = manifest["output"][0]["url"]
    assert fetch(other, url)[0] == 404
    assert fetch(api, url)[0] == 200
    assert fetch(api, url.rsplit("/", 1)[0] + "/Observation.ndjson")[0] == 404


def test_delete_cancels_and_removes_the_files(client: FlaskClient, world: World, app: Flask):
    writer = Api(client, world.kommun_token)  # DELETE needs a token with write scope
    started = kick_off(writer)
    path = status_path(started)
    job_id = path.rsplit("/", 1)[1]
    assert (bulk.export_root(app) / job_id).is_dir()
    deleted = client.delete(f"/fhir/{path}", headers={"Authorization": f"Bearer {writer.token}"})
    assert deleted.status_code == 202
    assert writer.get(path).status_code == 404
    assert not (bulk.export_root(app) / job_id).exists()


def test_a_failed_export_reports_an_operation_outcome_file(
    api: Api, world: World, app: Flask, monkeypatch: pytest.MonkeyPatch
):
    def broken(job_id: str, rows: int) -> None:
        raise OSError("disk full")

    monkeypatch.setitem(app.config, "FHIR_EXPORT_BATCH_HOOK", broken)
    manifest = export(api)
    [error] = manifest["error"]
    assert error["type"] == "OperationOutcome"
    status, _, body = fetch(api, error["url"])
    assert status == 200
    [outcome] = [orjson.loads(line) for line in body.splitlines()]
    assert outcome["resourceType"] == "OperationOutcome"
    assert "disk full" in outcome["issue"][0]["diagnostics"]


def poll_until_done(api: Api, path: str, seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        response = api.get(path)
        if response.status_code != 202:
            return response
        assert response.headers["Retry-After"].isdigit()
        assert response.headers["X-Progress"]
        time.sleep(0.05)
    raise AssertionError(f"the export did not finish within {seconds} s")


class Gate:
    """A batch hook that parks the export thread (between transactions) until released.

    Requests are made only while the thread is parked or done: on SQLite a request that
    reads then writes fails at once if another connection is committing (see the report).
    """

    def __init__(self) -> None:
        self.parked, self.opened = threading.Event(), threading.Event()

    def __call__(self, job_id: str, rows: int) -> None:
        self.parked.set()
        self.opened.wait(10)


@pytest.fixture
def gate(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Any:
    gate = Gate()
    monkeypatch.setitem(app.config, "FHIR_EXPORT_SYNC", False)
    monkeypatch.setitem(app.config, "FHIR_EXPORT_BATCH_SIZE", 1)
    monkeypatch.setitem(app.config, "FHIR_EXPORT_BATCH_HOOK", gate)
    yield gate
    gate.opened.set()


def test_the_export_runs_in_a_background_thread(api: Api, world: World, gate: Gate):
    started = kick_off(api)
    assert started.status_code == 202  # answered while the export has not finished
    assert gate.parked.wait(10), "the export never started"
    running = api.get(status_path(started))
    assert running.status_code == 202
    assert running.headers["X-Progress"].startswith("running")
    assert running.headers["Retry-After"] == "2"
    gate.opened.set()
    assert bulk.wait_for_exports(10)
    done = poll_until_done(api, status_path(started))
    assert done.status_code == 200
    files = download(api, done.get_json())
    assert [r["id"] for r in files["CarePlan"]] == [systems.careplan_id(world.case_id)]


def test_requests_are_answered_while_an_export_runs(api: Api, world: World, gate: Gate):
    """The export holds no lock between batches: reads (which write audit rows) go on."""
    started = kick_off(api)
    assert gate.parked.wait(10), "the export never started"
    began = time.monotonic()
    read = api.get(f"CarePlan/{systems.careplan_id(world.case_id)}")
    assert read.status_code == 200
    assert time.monotonic() - began < 2
    assert api.get("Patient").get_json()["total"] == 1
    assert api.get(status_path(started)).status_code == 202  # still running
    gate.opened.set()
    assert bulk.wait_for_exports(10)
    assert poll_until_done(api, status_path(started)).status_code == 200


def test_capability_statement_names_the_export_operations(client: FlaskClient):
    body = client.get("/fhir/metadata").get_json()
    assert {"name": "export", "definition": f"{bulk_ig()}/OperationDefinition/export"} in body[
        "rest"
    ][0]["operation"]
    patient = next(r for r in body["rest"][0]["resource"] if r["type"] == "Patient")
    assert "export" in {op["name"] for op in patient["operation"]}


def bulk_ig() -> str:
    return "http://hl7.org/fhir/uv/bulkdata"


# --- The operator's command -----------------------------------------------------------------


def test_cli_writes_every_stored_resource(app: Flask, world: World, tmp_path: Path):
    out = tmp_path / "cli"
    result = app.test_cli_runner().invoke(args=["export-fhir", "--out", str(out)])
    assert result.exit_code == 0, result.output
    stored = db.session.scalars(select(StoredResource)).all()
    written = {
        (r["resourceType"], r["id"])
        for path in out.glob("*.ndjson")
        for r in map(orjson.loads, path.read_bytes().splitlines())
    }
    assert written == {(r.resource_type, r.logical_id) for r in stored}
    assert f"{len(stored)} resources exported" in result.output
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.export")).all()
    assert rows and all(r.detail == "CLI export" for r in rows)


def test_cli_type_and_since(app: Flask, world: World, tmp_path: Path):
    runner = app.test_cli_runner()
    out = tmp_path / "some"
    result = runner.invoke(args=["export-fhir", "--out", str(out), "--type", "CarePlan,Patient"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.ndjson")) == ["CarePlan.ndjson", "Patient.ndjson"]
    later = tmp_path / "later"
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = runner.invoke(args=["export-fhir", "--out", str(later), "--since", future])
    assert result.exit_code == 0, result.output
    assert list(later.glob("*.ndjson")) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--since", "last week"], "--since"),
        (["--since", "2026-01-01"], "--since"),
        (["--type", "Observation"], "Observation"),
    ],
)
def test_cli_bad_input_is_one_line(app: Flask, world: World, tmp_path: Path, args, words):
    result = app.test_cli_runner().invoke(args=["export-fhir", "--out", str(tmp_path), *args])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]


def test_cli_unwritable_folder_is_one_line(app: Flask, world: World, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = app.test_cli_runner().invoke(args=["export-fhir", "--out", str(blocker / "sub")])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "cannot write" in lines[0]


def test_a_read_token_cancels_its_own_export_and_downloads_with_the_ndjson_accept_header(
    client, world, app, monkeypatch
):
    """The Bulk Data IG's client sends Accept: application/fhir+ndjson on downloads."""
    monkeypatch.setitem(app.config, "FHIR_EXPORT_SYNC", True)
    headers = {"Authorization": f"Bearer {world.region_token}", "Prefer": "respond-async"}
    kickoff = client.get("/fhir/$export", headers=headers)
    assert kickoff.status_code == 202
    status_url = kickoff.headers["Content-Location"].split("/fhir/", 1)[1]
    manifest = client.get(f"/fhir/{status_url}", headers=headers).get_json()
    first = manifest["output"][0]["url"].split("/fhir/", 1)[1]
    download = client.get(
        f"/fhir/{first}", headers={**headers, "Accept": "application/fhir+ndjson"}
    )
    assert download.status_code == 200
    assert download.get_data()
    download.close()
    assert client.delete(f"/fhir/{status_url}", headers=headers).status_code == 202


# --- Expiry ---------------------------------------------------------------------------------


def job_id_of(path: str) -> str:
    return path.rsplit("/", 1)[1]


def set_job(job_id: str, **values: Any) -> None:
    """Change the job in the database, as time or a dead process would."""
    db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values))
    db.session.commit()


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def assert_expired(status: int, body: bytes) -> None:
    assert status == 404
    outcome = orjson.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    diagnostics = outcome["issue"][0]["diagnostics"]
    assert "has expired" in diagnostics and "Start a new export" in diagnostics


def test_the_manifest_says_when_its_files_expire(api: Api, world: World, app: Flask, monkeypatch):
    monkeypatch.setitem(app.config, "FHIR_EXPORT_TTL_HOURS", 6)
    done = api.get(status_path(kick_off(api)))
    assert done.status_code == 200
    expires = parsedate_to_datetime(done.headers["Expires"])
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=6))) < timedelta(minutes=1)


@pytest.mark.parametrize("broken", [False, True], ids=["done", "failed"])
def test_after_the_ttl_the_export_answers_404_and_its_files_are_gone(
    api: Api, world: World, app: Flask, monkeypatch: pytest.MonkeyPatch, broken: bool
):
    monkeypatch.setitem(app.config, "FHIR_EXPORT_TTL_HOURS", 24)
    if broken:

        def disk_full(job_id: str, rows: int) -> None:
            raise OSError("disk full")

        monkeypatch.setitem(app.config, "FHIR_EXPORT_BATCH_HOOK", disk_full)
    path = status_path(kick_off(api))
    manifest = api.get(path).get_json()
    urls = [entry["url"] for entry in manifest["output"] + manifest["error"]]
    assert urls
    folder = bulk.export_root(app) / job_id_of(path)
    set_job(job_id_of(path), finished_at=ago(hours=23))
    assert fetch(api, urls[0])[0] == 200  # not yet
    set_job(job_id_of(path), finished_at=ago(hours=25))
    for url in urls:  # a download finds it expired without a poll first
        status, _, body = fetch(api, url)
        assert_expired(status, body)
    assert not folder.exists()
    for _ in range(2):  # and the status URL says so, every time
        polled = api.get(path)
        assert_expired(polled.status_code, polled.get_data())


def test_purge_command_deletes_expired_exports_and_keeps_fresh_ones(
    api: Api, world: World, app: Flask, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(app.config, "FHIR_EXPORT_TTL_HOURS", 24)
    old, fresh = status_path(kick_off(api)), status_path(kick_off(api))
    assert api.get(old).status_code == 200
    fresh_manifest = api.get(fresh).get_json()
    set_job(job_id_of(old), finished_at=ago(hours=25))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["purge-fhir-exports"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 expired export removed (files deleted)"
    assert not (bulk.export_root(app) / job_id_of(old)).exists()
    assert (bulk.export_root(app) / job_id_of(fresh)).is_dir()
    polled = api.get(old)
    assert_expired(polled.status_code, polled.get_data())
    assert api.get(fresh).status_code == 200
    assert fetch(api, fresh_manifest["output"][0]["url"])[0] == 200
    again = runner.invoke(args=["purge-fhir-exports"])
    assert again.exit_code == 0
    assert again.output.strip() == "0 expired exports removed (files deleted)"


@pytest.mark.parametrize("value", ["0", "-2", "a day", "nan", "inf", "", "1e9"])
def test_a_bad_export_ttl_stops_the_app_with_one_clear_line(monkeypatch, tmp_path, value):
    monkeypatch.setenv("SIP_FHIR_EXPORT_TTL_HOURS", value)
    with pytest.raises(ConfigError) as raised:
        load_config(str(tmp_path))
    message = str(raised.value)
    assert message.startswith("SIP_FHIR_EXPORT_TTL_HOURS must be a number of hours above 0")
    assert message.endswith(f"not {value!r}") and "\n" not in message


def test_the_export_ttl_is_a_day_unless_set(monkeypatch, tmp_path):
    monkeypatch.delenv("SIP_FHIR_EXPORT_TTL_HOURS", raising=False)
    assert load_config(str(tmp_path))["FHIR_EXPORT_TTL_HOURS"] == 24
    monkeypatch.setenv("SIP_FHIR_EXPORT_TTL_HOURS", "1.5")
    assert load_config(str(tmp_path))["FHIR_EXPORT_TTL_HOURS"] == 1.5


# --- Stalled jobs ---------------------------------------------------------------------------


@pytest.fixture
def dead_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kick-offs record the job but nothing runs it: as if its process ended at once."""
    monkeypatch.setattr(bulk, "start_job", lambda app, job_id: None)


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_job_whose_process_ended_is_reported_interrupted(
    api: Api, world: World, app: Flask, dead_process: None, status: str
):
    path = status_path(kick_off(api))
    if status == "queued":  # never started: only its creation time tells
        set_job(job_id_of(path), created_at=ago(minutes=10))
    else:  # the heartbeat counts, not when it was created
        set_job(job_id_of(path), status="running", heartbeat_at=ago(minutes=10))
    folder = bulk.export_root(app) / job_id_of(path)
    folder.mkdir(parents=True)
    (folder / "Patient.ndjson").write_bytes(b'{"resourceType": "Patient"}\n')  # half written
    polled = api.get(path)
    assert polled.status_code == 200
    assert "Expires" in polled.headers
    manifest = polled.get_json()
    assert manifest["output"] == []
    [error] = manifest["error"]
    status_code, _, body = fetch(api, error["url"])
    assert status_code == 200
    diagnostics = orjson.loads(body)["issue"][0]["diagnostics"]
    assert "interrupted" in diagnostics and "start a new export" in diagnostics
    assert [p.name for p in folder.iterdir()] == ["OperationOutcome.ndjson"]
    assert api.get(path).get_json() == manifest  # it stays failed


def test_a_job_that_beat_recently_is_still_running(
    api: Api, world: World, app: Flask, dead_process: None, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(app.config, "FHIR_EXPORT_STALL_SECONDS", 60)
    path = status_path(kick_off(api))
    set_job(
        job_id_of(path), status="running", created_at=ago(hours=1), heartbeat_at=ago(seconds=30)
    )
    polled = api.get(path)
    assert polled.status_code == 202
    assert polled.headers["X-Progress"].startswith("running")
    set_job(job_id_of(path), heartbeat_at=ago(seconds=90))
    assert api.get(path).get_json()["error"]


class Stepper:
    """A batch hook that parks the export thread at every batch until told to go on."""

    def __init__(self) -> None:
        self.arrived, self.go = threading.Semaphore(0), threading.Semaphore(0)
        self.free = False

    def __call__(self, job_id: str, rows: int) -> None:
        if not self.free:
            self.arrived.release()
            self.go.acquire(timeout=10)

    def next_batch(self) -> None:
        """Let the parked thread write one more batch, and wait until it parks again."""
        self.go.release()
        assert self.arrived.acquire(timeout=10), "the export did not reach its next batch"


@pytest.fixture
def stepper(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Any:
    stepper = Stepper()
    monkeypatch.setitem(app.config, "FHIR_EXPORT_SYNC", False)
    monkeypatch.setitem(app.config, "FHIR_EXPORT_BATCH_SIZE", 1)
    monkeypatch.setitem(app.config, "FHIR_EXPORT_BATCH_HOOK", stepper)
    yield stepper
    stepper.free = True
    stepper.go.release()


def test_a_running_export_beats_after_every_batch(api: Api, world: World, stepper: Stepper):
    path = status_path(kick_off(api))
    assert stepper.arrived.acquire(timeout=10), "the export never started"
    set_job(job_id_of(path), heartbeat_at=ago(hours=1))  # as if the first batch took an hour
    stepper.next_batch()
    assert api.get(path).status_code == 202  # it beat after that batch: still running
    stepper.free = True
    stepper.go.release()
    assert bulk.wait_for_exports(10)
    assert poll_until_done(api, path).get_json()["error"] == []


def test_a_thread_reported_interrupted_stops_and_leaves_only_the_error_file(
    api: Api, world: World, app: Flask, stepper: Stepper
):
    path = status_path(kick_off(api))
    assert stepper.arrived.acquire(timeout=10), "the export never started"
    set_job(job_id_of(path), heartbeat_at=ago(hours=1))  # stuck, as far as a poll can tell
    assert api.get(path).get_json()["error"]
    stepper.free = True
    stepper.go.release()
    assert bulk.wait_for_exports(10)
    manifest = api.get(path).get_json()  # it did not finish behind the client's back
    assert manifest["output"] == []
    status, _, body = fetch(api, manifest["error"][0]["url"])
    assert status == 200 and b"interrupted" in body
    folder = bulk.export_root(app) / job_id_of(path)
    assert [p.name for p in folder.iterdir()] == ["OperationOutcome.ndjson"]
