"""Malformed requests to /fhir: a 4xx OperationOutcome, never a 500; and what may be cached."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from sqlalchemy import func, select

from sip_tracker.audit.models import AuditEvent
from sip_tracker.db import db
from sip_tracker.fhir import bulk, systems
from tests.fhir_api.conftest import Api, World
from tests.fhir_api.test_import import export, row_counts, transaction


def careplan(world: World) -> str:
    return f"CarePlan/{systems.careplan_id(world.case_id)}"


def outcome(response: Any, status: int) -> str:
    """The diagnostics of an OperationOutcome answered with status."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json(force=True)
    assert body["resourceType"] == "OperationOutcome"
    return " ".join(issue["diagnostics"] for issue in body["issue"])


def reads_logged() -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "fhir.read")
    )


# --- Unknown search modifiers -------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "CarePlan?status:not=active",
        "CarePlan?subject:Patient=x",
        "CarePlan?patient:missing=true",
        "CarePlan?category:text=SIP",
        "CarePlan?date:above=2020",
        "CarePlan?_id:exact=sip-1",
        "CarePlan?_include:iterate=CarePlan:goal",
        "Patient?identifier:of-type=x",
        "Patient?_lastUpdated:missing=false",
        "StructureDefinition?url:below=http://hl7.org",
    ],
)
def test_a_search_modifier_the_server_does_not_implement_is_refused_by_name(
    api: Api, world: World, query: str
):
    name = query.split("?")[1].split("=")[0]
    diagnostics = outcome(api.get(query), 400)
    assert name in diagnostics
    assert "modifier" in diagnostics or "Unknown" in diagnostics


def test_the_refused_modifier_reads_nothing(api: Api, world: World):
    assert api.get("CarePlan?status:not=active").status_code == 400
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "fhir.search")
        )
        == 0
    )


# --- NUL characters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "CarePlan?status=%00",
        "Patient?identifier=19121212%001212",
        "CarePlan?_id=sip-1%00",
        "CarePlan/sip-%001",
        "Patient/x/$everything?x=%00",
    ],
)
def test_a_nul_in_a_fhir_url_is_a_400_outcome(api: Api, world: World, path: str):
    assert "NUL" in outcome(api.get(path), 400)


def test_a_nul_in_a_header_is_a_400_outcome(api: Api, world: World):
    assert "NUL" in outcome(api.get(careplan(world), **{"If-None-Match": 'W/"\x00"'}), 400)
    assert "NUL" in outcome(api.get(careplan(world), Prefer="respond-async\x00"), 400)


def post(client: Any, token: str, body: bytes) -> Any:
    return client.post(
        "/fhir",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"},
    )


def test_a_nul_in_a_json_body_is_a_400_outcome_and_nothing_changes(client, golden, kommun_token):
    resources = export(golden.case)
    plan = next(r for r in resources if r["resourceType"] == "CarePlan")
    plan["description"] = "Planen\u0000 som den var"
    before = row_counts()
    response = post(client, kommun_token, orjson.dumps(transaction(resources)))
    assert "NUL" in outcome(response, 400)
    db.session.expire_all()
    assert row_counts() == before
    # The same Bundle without the NUL is taken.
    plan["description"] = "Planen som den var"
    assert post(client, kommun_token, orjson.dumps(transaction(resources))).status_code == 200


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(client, api, world):
    # JSON "\\u0000" is the six characters \u0000: nothing to refuse.
    bundle = orjson.dumps({"resourceType": "Bundle", "type": "batch", "note": "a\\u0000"})
    response = post(client, world.kommun_token, bundle)
    assert response.status_code == 400
    assert "NUL" not in outcome(response, 400)


# --- Conditional reads --------------------------------------------------------------------


@pytest.mark.parametrize(
    "etag",
    [
        'W/"²"',  # a digit to str.isdigit(), not to int(): was a 500
        'W/"١"',  # ARABIC-INDIC ONE: int() reads it as 1, so the read went unlogged
        'W/"99999999999999999999999"',  # beyond any integer column: a 500 on PostgreSQL
        '"ÿ"',
        '*, W/"1"',
    ],
)
def test_any_if_none_match_gets_the_resource_and_the_read_is_logged(
    api: Api, world: World, etag: str
):
    before = reads_logged()
    response = api.get(careplan(world), **{"If-None-Match": etag})
    assert response.status_code == 200
    assert response.get_json()["resourceType"] == "CarePlan"
    assert reads_logged() == before + 1


# --- Size ---------------------------------------------------------------------------------


def test_a_fhir_body_over_its_limit_is_413_with_an_outcome(app: Flask, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "FHIR_MAX_CONTENT_LENGTH", 2000)
    diagnostics = outcome(post(client, world.kommun_token, b" " * 2001), 413)
    assert "2000" in diagnostics


def test_fhir_takes_bodies_larger_than_a_form_may_be(app: Flask, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    monkeypatch.setitem(app.config, "FHIR_MAX_CONTENT_LENGTH", 5000)
    body = orjson.dumps({"resourceType": "Bundle", "type": "batch", "pad": "x" * 3000})
    response = post(client, world.kommun_token, body)
    assert response.status_code == 400  # read and judged: not a transaction Bundle
    assert "transaction" in outcome(response, 400)


def test_a_streamed_fhir_body_over_the_limit_is_413(app: Flask, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "FHIR_MAX_CONTENT_LENGTH", 2000)
    response = client.post(
        "/fhir",
        input_stream=io.BytesIO(b" " * 5000),
        headers={
            "Authorization": f"Bearer {world.kommun_token}",
            "Content-Type": "application/fhir+json",
            "Transfer-Encoding": "chunked",
        },
        # What a WSGI server says of a chunked body: read it to its end.
        environ_overrides={"wsgi.input_terminated": True},
    )
    outcome(response, 413)


# --- Caching ------------------------------------------------------------------------------


@pytest.fixture
def inline_exports(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setitem(app.config, "FHIR_EXPORT_SYNC", True)
    monkeypatch.setitem(app.config, "FHIR_EXPORT_DIR", str(tmp_path / "exports"))
    yield
    assert bulk.wait_for_exports(10)


def test_every_fhir_answer_with_personal_data_is_no_store(api: Api, world: World, inline_exports):
    patient = systems.patient_id(world.person_id)
    answers = {
        "read": api.get(careplan(world)),
        "conditional read": api.get(careplan(world), **{"If-None-Match": 'W/"1"'}),
        "search": api.get(f"CarePlan?patient={patient}"),
        "$everything": api.get(f"Patient/{patient}/$everything"),
        "not found": api.get("CarePlan/sip-0"),
    }
    started = api.get("$export", Prefer="respond-async")
    status = started.headers["Content-Location"].split("/fhir/", 1)[1]
    answers["$export kick-off"] = started
    manifest = api.get(status)
    answers["$export manifest"] = manifest
    file_url = manifest.get_json()["output"][0]["url"].split("/fhir/", 1)[1]
    with api.get(file_url) as download:
        assert download.status_code == 200
        answers["$export file"] = download
    assert {name: r.headers.get("Cache-Control") for name, r in answers.items()} == {
        name: "no-store" for name in answers
    }


def test_the_public_conformance_resources_may_be_cached(client):
    for path in ("/fhir/metadata", "/fhir/StructureDefinition", "/fhir/CodeSystem/sip-stage"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" not in response.headers.get("Cache-Control", ""), path


def test_a_conformance_search_in_another_format_is_406_as_every_search(client, api: Api, world):
    # It answered JSON to _format=xml (found by Schemathesis against the description).
    for path in ("/fhir/StructureDefinition?_format=xml", "/fhir/CodeSystem?_format=%C2%AE"):
        assert "_format" in outcome(client.get(path), 406)
    assert "_format" in outcome(api.get("CarePlan?_format=xml"), 406)


# --- Ids beyond the database's integers -----------------------------------------------------


@pytest.mark.parametrize("too_big", [2**31, 2**63, 10**30])
def test_a_patient_reference_beyond_any_id_finds_nothing(api: Api, world: World, too_big: int):
    response = api.get(f"CarePlan?patient=person-{too_big}")
    assert response.status_code == 200
    assert response.get_json()["total"] == 0


@pytest.mark.parametrize("too_big", [2**31, 2**63, 10**30])
def test_an_imported_bundle_naming_ids_beyond_any_row_is_refused_not_an_error(
    client, golden, kommun_token, too_big
):
    resources = export(golden.case)
    plan = next(r for r in resources if r["resourceType"] == "CarePlan")
    for identifier in plan.get("identifier", []):
        if identifier.get("system") == systems.SIP_CASE_ID:
            identifier["value"] = str(too_big)
    bundle = transaction(resources)
    bundle["entry"] = [
        {**entry, "fullUrl": entry["fullUrl"].replace("/unit-", f"/unit-{too_big}")}
        for entry in bundle["entry"]
    ]
    response = post(client, kommun_token, orjson.dumps(bundle))
    assert response.status_code < 500
    for kind, key in (("Organization", "unit-"), ("CarePlan", "sip-")):
        again = copy.deepcopy(resources)
        for resource in again:
            if resource["resourceType"] == kind and resource["id"].startswith(key):
                resource["id"] = f"{key}{too_big}"
        assert post(client, kommun_token, orjson.dumps(transaction(again))).status_code < 500
