"""Import: a SIP as a transaction Bundle, POSTed to /fhir, creates or updates the case."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.fhir import systems
from sip_tracker.fhir.models import StoredResource
from sip_tracker.fhir.outbound import case_resources
from sip_tracker.fhir.tokens import issue_token
from sip_tracker.organizations.models import HuvudmanKind
from sip_tracker.people.models import Person
from tests.fhir.test_outbound import number_ids

JSON = dict[str, Any]


def export(case: SipCase) -> list[JSON]:
    """The case's resources as the server sends them (no versionId: the store adds it)."""
    return [r.model_dump(mode="json", exclude_none=True) for r in case_resources(case)]


def _rewrite(value: Any, urls: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_rewrite(item, urls) for item in value]
    if isinstance(value, dict):
        out = {k: _rewrite(v, urls) for k, v in value.items()}
        if isinstance(out.get("reference"), str) and out["reference"] in urls:
            out["reference"] = urls[out["reference"]]
        return out
    return value


def transaction(resources: list[JSON], *, uuids: bool = False) -> JSON:
    """A transaction Bundle: PUT Type/id, or (as another system would) POST with urn:uuid."""
    if not uuids:
        entries = [
            {
                "fullUrl": f"https://sip-tracker.se/fhir/{r['resourceType']}/{r['id']}",
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in resources
        ]
        return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    urls = {f"{r['resourceType']}/{r['id']}": f"urn:uuid:{uuid.uuid4()}" for r in resources}
    entries = []
    for r in resources:
        full_url = urls[f"{r['resourceType']}/{r['id']}"]
        body = {k: v for k, v in _rewrite(r, urls).items() if k != "id"}
        entries.append(
            {
                "fullUrl": full_url,
                "resource": body,
                "request": {"method": "POST", "url": r["resourceType"]},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def post(client: FlaskClient, token: str | None, bundle: JSON):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/fhir", data=orjson.dumps(bundle), headers=headers)


def row_counts() -> dict[str, int]:
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t)) or 0
        for t in db.metadata.sorted_tables
    }


def delete_case(case: SipCase) -> None:
    db.session.execute(StoredResource.__table__.delete().where(StoredResource.case_id == case.id))
    db.session.delete(case)
    db.session.commit()


def imported_case(response) -> SipCase:  # type: ignore[no-untyped-def]
    location = response.get_json()["entry"][0]["response"]["location"]
    kind, logical_id, *_ = location.split("/")
    assert kind == "CarePlan"
    case = db.session.get(SipCase, int(logical_id.removeprefix("sip-")))
    assert case is not None
    return case


# --- (a) The round trip ------------------------------------------------------------------------
@pytest.mark.parametrize("uuids", [False, True], ids=["put-type-id", "post-urn-uuid"])
def test_export_import_export_gives_the_same_resources(client, golden, region_token, uuids):
    first = export(golden.case)
    bundle = transaction(first, uuids=uuids)
    person_id = golden.case.person_id
    delete_case(golden.case)

    response = post(client, region_token, bundle)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["resourceType"] == "Bundle" and body["type"] == "transaction-response"
    assert len(body["entry"]) == len(first)
    statuses = {e["response"]["status"] for e in body["entry"]}
    assert statuses <= {"200 OK", "201 Created"}
    case = imported_case(response)
    assert case.person_id == person_id
    assert body["entry"][0]["response"]["status"] == "201 Created"
    assert body["entry"][0]["response"]["location"] == (
        f"CarePlan/{systems.careplan_id(case.id)}/_history/1"
    )
    # Database ids differ (a new case, new participants, consents, meetings): numbered by
    # rank as the golden files number them, everything else is equal.
    assert number_ids(export(case)) == number_ids(first)


def test_importing_the_export_onto_its_own_case_changes_nothing(client, golden, kommun_token):
    first = export(golden.case)
    versions = {
        (r.resource_type, r.logical_id): r.version_id
        for r in db.session.scalars(select(StoredResource))
    }
    counts = row_counts()

    response = post(client, kommun_token, transaction(first))

    assert response.status_code == 200, response.get_json()
    assert {e["response"]["status"] for e in response.get_json()["entry"]} == {"200 OK"}
    db.session.expire_all()
    assert export(db.session.get(SipCase, golden.case.id)) == first
    after = {
        (r.resource_type, r.logical_id): r.version_id
        for r in db.session.scalars(select(StoredResource))
    }
    assert after == versions
    grown = {k: row_counts()[k] - v for k, v in counts.items() if row_counts()[k] != v}
    # The audit trail, and the token's service account on its first import.
    assert set(grown) <= {"audit_event", "user_account"}


def test_an_update_changes_the_case_and_versions_its_resources(client, golden, kommun_token):
    resources = export(golden.case)
    careplan = resources[0]
    for ext in careplan["extension"]:
        if ext["url"] == systems.structure_definition(systems.EXT_WHAT_MATTERS):
            ext["valueString"] = "Att få bo kvar hemma med min katt."

    response = post(client, kommun_token, transaction(resources))

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["entry"][0]["response"]["location"].endswith("/_history/2")
    db.session.expire_all()
    assert db.session.get(SipCase, golden.case.id).what_matters == (
        "Att få bo kvar hemma med min katt."
    )


# --- (b) The Skatteverket OIDs of older contracts ---------------------------------------------
def test_patient_identifiers_in_the_oid_forms_import_to_the_same_person(
    client, golden, region_token
):
    resources = export(golden.case)
    person_id = golden.case.person_id
    people = db.session.scalar(select(func.count(Person.id)))
    for resource in resources:
        if resource["resourceType"] in ("Patient", "RelatedPerson"):
            for identifier in resource.get("identifier", []):
                identifier["system"] = {
                    systems.PERSONNUMMER: systems.PERSONNUMMER_OID,
                    systems.SAMORDNINGSNUMMER: systems.SAMORDNINGSNUMMER_OID,
                }[identifier["system"]]
    delete_case(golden.case)

    response = post(client, region_token, transaction(resources, uuids=True))

    assert response.status_code == 200, response.get_json()
    assert imported_case(response).person_id == person_id
    assert db.session.scalar(select(func.count(Person.id))) == people
    patient = next(
        e["response"]["location"]
        for e in response.get_json()["entry"]
        if e["response"]["location"].startswith("Patient/")
    )
    assert patient.startswith(f"Patient/{systems.patient_id(person_id)}/")


# --- (c) Malformed Bundles: an OperationOutcome naming the element, nothing stored -------------
def _index(resources: list[JSON], resource_type: str) -> int:
    return next(i for i, r in enumerate(resources) if r["resourceType"] == resource_type)


def _no_category(resources: list[JSON]) -> str:
    del resources[0]["category"]
    return "Bundle.entry[0].resource.category"


def _bad_check_digit(resources: list[JSON]) -> str:
    i = _index(resources, "Patient")
    value = resources[i]["identifier"][0]["value"]
    resources[i]["identifier"][0]["value"] = value[:-1] + str((int(value[-1]) + 1) % 10)
    return f"Bundle.entry[{i}].resource.identifier[0]"


def _unknown_hsa_id(resources: list[JSON]) -> str:
    i = next(
        i
        for i, r in enumerate(resources)
        if r["resourceType"] == "Organization"
        and any(x["system"] == systems.HSA_ID for x in r.get("identifier", []))
    )
    resources[i]["identifier"][0]["value"] = "SE2321000016-ZZZZ"
    return f"Bundle.entry[{i}].resource.identifier[0].value"


def _missing_reference(resources: list[JSON]) -> str:
    i = _index(resources, "Task")
    resources[i]["owner"] = {"reference": "Organization/unit-999999"}
    return f"Bundle.entry[{i}].resource.owner.reference"


def _task_status(resources: list[JSON]) -> str:
    i = _index(resources, "Task")
    resources[i]["status"] = "bogus"
    return f"Bundle.entry[{i}].resource.status"


def _entry_resource_type(resources: list[JSON]) -> str:
    resources.append({"resourceType": "Observation", "id": "x", "status": "final"})
    return f"Bundle.entry[{len(resources) - 1}].resource.resourceType"


def _birth_date(resources: list[JSON]) -> str:
    i = _index(resources, "Patient")
    resources[i]["birthDate"] = "1941-03-15"
    return f"Bundle.entry[{i}].resource.birthDate"


@pytest.mark.parametrize(
    ("break_it", "status"),
    [
        (_no_category, 422),
        (_bad_check_digit, 422),
        (_unknown_hsa_id, 422),
        (_missing_reference, 400),
        (_task_status, 422),
        (_entry_resource_type, 422),
        (_birth_date, 422),
    ],
    ids=lambda x: x.__name__.strip("_") if callable(x) else str(x),
)
def test_a_malformed_bundle_is_refused_naming_the_element_and_nothing_is_stored(
    client, golden, kommun_token, break_it, status
):
    resources = copy.deepcopy(export(golden.case))
    expected = break_it(resources)
    delete_case(golden.case)
    before = row_counts()

    response = post(client, kommun_token, transaction(resources))

    assert response.status_code == status, response.get_json()
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    named = [x for issue in outcome["issue"] for x in issue.get("expression", [])]
    assert any(x.startswith(expected) for x in named), named
    db.session.expire_all()
    assert row_counts() == before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"resourceType": "Parameters"}, "Bundle"),
        ({"resourceType": "Bundle", "type": "batch", "entry": []}, "Bundle.type"),
        (
            {"resourceType": "Bundle", "type": "transaction", "entry": [{"request": {}}]},
            "Bundle.entry[0].resource",
        ),
        (
            {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [{"resource": {"resourceType": "Patient"}}],
            },
            "Bundle.entry[0].request",
        ),
        (
            {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [
                    {
                        "resource": {"resourceType": "Patient"},
                        "request": {"method": "DELETE", "url": "Patient/1"},
                    }
                ],
            },
            "Bundle.entry[0].request.method",
        ),
    ],
)
def test_a_bundle_of_the_wrong_shape_is_a_400(client, golden, kommun_token, body, expected):
    before = row_counts()
    response = post(client, kommun_token, body)
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["expression"] == [expected]
    assert row_counts() == before


# --- (d) Who may import ----------------------------------------------------------------------
def test_import_needs_a_write_token_of_an_organisation_taking_part(client, golden, make):
    region = golden.geriatrik.huvudman
    read_only = issue_token(name="Journal", huvudman=region, read=True, write=False).secret
    outsider = make.huvudman(HuvudmanKind.KOMMUN, name="Täby kommun")
    make.unit(outsider)
    stranger = issue_token(name="Annan", huvudman=outsider, read=True, write=True).secret
    db.session.commit()
    bundle = transaction(export(golden.case))
    before = row_counts()

    no_token = post(client, None, bundle)
    assert no_token.status_code == 401
    assert no_token.get_json()["resourceType"] == "OperationOutcome"
    # Without write scope: 403. An organisation taking no part is not told the case exists.
    for token, status in ((read_only, 403), (stranger, 404)):
        response = post(client, token, bundle)
        assert response.status_code == status
        assert response.get_json()["resourceType"] == "OperationOutcome"
    db.session.expire_all()
    assert row_counts() == before
