"""R4 by default; R5 when the client asks (Accept: application/fhir+json; fhirVersion=5.0)."""

from __future__ import annotations

import pytest

from sip_tracker.fhir import systems
from sip_tracker.fhir.outbound import case_resources
from sip_tracker.fhir.outbound_r5 import r5_model, to_r5
from tests.fhir.golden_case import build_golden_case
from tests.fhir_api.conftest import Api

R5 = {"Accept": "application/fhir+json; fhirVersion=5.0"}


def test_an_r5_careplan_has_a_custodian_and_planned_activities(api: Api, world):
    response = api.get(f"CarePlan/{systems.careplan_id(world.case_id)}", **R5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/fhir+json; fhirVersion=5.0"
    body = response.get_json()
    assert "author" not in body
    assert body["custodian"]["reference"]
    r4 = api.get(f"CarePlan/{systems.careplan_id(world.case_id)}").get_json()
    assert body["custodian"] == r4["author"]
    assert body["meta"] == {k: r4["meta"][k] for k in ("versionId", "lastUpdated")}
    assert response.headers["ETag"] == 'W/"1"'
    r5_model("CarePlan").model_validate(body)


def test_an_r5_consent_has_a_decision_and_grantees(api: Api, world):
    bundle = api.get("Consent", **R5).get_json()
    consent = bundle["entry"][0]["resource"]
    assert consent["decision"] in ("permit", "deny")
    assert {"scope", "patient", "performer", "dateTime"}.isdisjoint(consent)
    assert consent["subject"] == {"reference": f"Patient/{systems.patient_id(world.person_id)}"}
    assert consent["grantee"]
    assert consent["provision"][0]["actor"]
    r5_model("Consent").model_validate(consent)


def test_a_search_in_r5_returns_r5_resources(api: Api, world):
    response = api.get(f"CarePlan?patient=Patient/{systems.patient_id(world.person_id)}", **R5)
    assert response.headers["Content-Type"].endswith("fhirVersion=5.0")
    bundle = response.get_json()
    assert bundle["total"] == 1
    assert all("custodian" in e["resource"] for e in bundle["entry"])
    everything = api.get(f"Patient/{systems.patient_id(world.person_id)}/$everything", **R5)
    for entry in everything.get_json()["entry"]:
        resource = entry["resource"]
        r5_model(resource["resourceType"]).model_validate(resource)
        assert "profile" not in resource.get("meta", {})


def test_r4_is_the_default_and_can_be_asked_for(api: Api, world):
    path = f"CarePlan/{systems.careplan_id(world.case_id)}"
    for accept in ("application/fhir+json", "application/fhir+json; fhirVersion=4.0", "*/*"):
        response = api.get(path, Accept=accept)
        assert response.status_code == 200, accept
        assert response.headers["Content-Type"].endswith("fhirVersion=4.0")
        assert "author" in response.get_json()


@pytest.mark.parametrize("version", ["3.0", "4.3", "6.0", ""])
def test_an_unknown_fhir_version_is_406(api: Api, world, version):
    response = api.get(
        f"CarePlan/{systems.careplan_id(world.case_id)}",
        Accept=f"application/fhir+json; fhirVersion={version}",
    )
    assert response.status_code == 406
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_the_capability_statement_answers_in_the_version_asked(client):
    assert client.get("/fhir/metadata").get_json()["fhirVersion"] == "4.0.1"
    r5 = client.get("/fhir/metadata", headers=R5).get_json()
    assert r5["fhirVersion"] == "5.0.0"
    types = {r["type"] for r in r5["rest"][0]["resource"]}
    assert "CarePlan" in types and "StructureDefinition" not in types


def test_the_conformance_resources_are_r4_only(client):
    response = client.get(f"/fhir/StructureDefinition/{systems.PROFILE_CAREPLAN}", headers=R5)
    assert response.status_code == 406


def test_every_resource_of_the_golden_case_maps_to_valid_r5(make):
    golden = build_golden_case(make)
    resources = {r.get_resource_type(): to_r5(r) for r in case_resources(golden.case)}
    assert set(resources) == {
        "CarePlan",
        "CareTeam",
        "Goal",
        "Task",
        "Consent",
        "Patient",
        "RelatedPerson",
        "Organization",
        "PractitionerRole",
        "Appointment",
        "Encounter",
    }
    encounter = resources["Encounter"].model_dump(mode="json", exclude_none=True)
    assert encounter["class"][0]["coding"][0]["system"] == systems.V3_ACT_CODE
    assert "actualPeriod" in encounter and "period" not in encounter
    careteam = resources["CareTeam"].model_dump(mode="json", exclude_none=True)
    assert all(isinstance(p["role"], dict) for p in careteam["participant"])
