"""The contract served: our profiles, code systems and value sets, without a token."""

from __future__ import annotations

import json

from sip_tracker.fhir import systems
from sip_tracker.fhir.validation.definitions import PROFILES_DIR


def test_a_profile_is_served_as_committed_without_a_token(client):
    response = client.get(f"/fhir/StructureDefinition/{systems.PROFILE_CAREPLAN}")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    committed = (PROFILES_DIR / f"StructureDefinition-{systems.PROFILE_CAREPLAN}.json").read_text(
        encoding="utf-8"
    )
    assert response.get_json() == json.loads(committed)


def test_code_systems_and_value_sets_are_served(client):
    code_system = client.get("/fhir/CodeSystem/sip-role").get_json()
    assert code_system["resourceType"] == "CodeSystem"
    assert code_system["url"] == systems.CS_ROLE
    value_set = client.get("/fhir/ValueSet/sip-sakomrade").get_json()
    assert value_set["resourceType"] == "ValueSet"
    assert value_set["url"] == systems.value_set("sip-sakomrade")


def test_an_unknown_conformance_resource_is_404_with_an_operation_outcome(client):
    for path in ("StructureDefinition/sip-nothing", "CodeSystem/sip-careplan", "ValueSet/x"):
        response = client.get(f"/fhir/{path}")
        assert response.status_code == 404, path
        assert response.get_json()["resourceType"] == "OperationOutcome"


def test_a_token_is_not_needed_but_a_bad_one_does_no_harm(client):
    response = client.get(
        f"/fhir/StructureDefinition/{systems.EXT_STAGE}",
        headers={"Authorization": "Bearer sip_nonsense"},
    )
    assert response.status_code == 200
    assert response.get_json()["url"] == systems.structure_definition(systems.EXT_STAGE)


def test_search_by_canonical_url(client):
    url = systems.structure_definition(systems.PROFILE_PATIENT)
    bundle = client.get("/fhir/StructureDefinition", query_string={"url": url}).get_json()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    assert bundle["total"] == 1
    assert bundle["entry"][0]["resource"]["url"] == url
    assert bundle["entry"][0]["fullUrl"].endswith(
        f"/fhir/StructureDefinition/{systems.PROFILE_PATIENT}"
    )
    versioned = client.get("/fhir/StructureDefinition", query_string={"url": f"{url}|0.1.0"})
    assert versioned.get_json()["total"] == 1
    nothing = client.get("/fhir/ValueSet", query_string={"url": url}).get_json()
    assert nothing["total"] == 0
    assert nothing["entry"] == []


def test_search_without_parameters_lists_every_one_of_the_type(client):
    bundle = client.get("/fhir/CodeSystem").get_json()
    ids = {entry["resource"]["id"] for entry in bundle["entry"]}
    assert {"sip-role", "sip-stage", "kommunkod"} <= ids
    assert bundle["total"] == len(list(PROFILES_DIR.glob("CodeSystem-*.json")))


def test_search_with_an_unknown_parameter_is_400(client):
    response = client.get("/fhir/StructureDefinition", query_string={"name": "SipCarePlan"})
    assert response.status_code == 400
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_stored_resources_still_need_a_token(client, world):
    response = client.get(f"/fhir/CarePlan/{systems.careplan_id(world.case_id)}")
    assert response.status_code == 401


def test_the_capability_statement_lists_the_conformance_resources(client):
    body = client.get("/fhir/metadata").get_json()
    by_type = {r["type"]: r for r in body["rest"][0]["resource"]}
    for kind in ("StructureDefinition", "CodeSystem", "ValueSet"):
        assert {"read", "search-type"} == {i["code"] for i in by_type[kind]["interaction"]}
        assert "url" in {p["name"] for p in by_type[kind]["searchParam"]}
