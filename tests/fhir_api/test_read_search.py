"""Reading and searching SIP resources over the FHIR REST API."""

from __future__ import annotations

from sqlalchemy import select

from sip_tracker import clock
from sip_tracker.audit.models import AuditEvent
from sip_tracker.cases import services
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.fhir import systems
from tests.fhir_api.conftest import Api


def careplan_id(world) -> str:
    return systems.careplan_id(world.case_id)


def patient_id(world) -> str:
    return systems.patient_id(world.person_id)


def test_metadata_is_a_capability_statement_anyone_may_read(client):
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    body = response.get_json()
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "4.0.1"
    careplan = next(r for r in body["rest"][0]["resource"] if r["type"] == "CarePlan")
    assert {"patient", "patient.identifier", "status", "category", "date"} <= {
        p["name"] for p in careplan["searchParam"]
    }


def test_no_token_or_a_bad_one_is_401_with_an_operation_outcome(client, world):
    for headers in ({}, {"Authorization": "Bearer sip_nonsense"}, {"Authorization": "Basic x"}):
        response = client.get(f"/fhir/CarePlan/{careplan_id(world)}", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["resourceType"] == "OperationOutcome"
        assert "Bearer" in response.headers["WWW-Authenticate"]


def test_read_a_careplan_with_version_headers(api: Api, world):
    response = api.get(f"CarePlan/{careplan_id(world)}")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    body = response.get_json()
    assert body["resourceType"] == "CarePlan"
    assert body["meta"]["versionId"] == "1"
    assert response.headers["ETag"] == 'W/"1"'
    assert body["meta"]["lastUpdated"].endswith("Z")
    assert {"system": systems.INERA_TYPE_OF_CARE_PLAN, "code": "SIP"}.items() <= body["category"][
        0
    ]["coding"][0].items()
    assert body["title"]
    again = api.get(f"CarePlan/{careplan_id(world)}", **{"If-None-Match": 'W/"1"'})
    assert again.status_code == 304


def test_a_change_makes_a_new_version(api: Api, world, make):
    case = db.session.get(SipCase, world.case_id)
    services.save_kartlaggning(case, user=case.created_by, what_matters="Att få bo kvar.", needs=[])
    make.commit()
    body = api.get(f"CarePlan/{careplan_id(world)}").get_json()
    assert body["meta"]["versionId"] == "2"
    # An unchanged resource keeps its version.
    assert api.get(f"Patient/{patient_id(world)}").get_json()["meta"]["versionId"] == "1"


def test_every_resource_type_of_the_case_can_be_read(api: Api, world):
    bundle = api.get(f"Patient/{patient_id(world)}/$everything").get_json()
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {"Patient", "CarePlan", "CareTeam", "Consent", "Organization"} <= kinds
    for entry in bundle["entry"]:
        resource = entry["resource"]
        read = api.get(f"{resource['resourceType']}/{resource['id']}")
        assert read.status_code == 200, resource["id"]


def test_an_organisation_not_taking_part_sees_nothing(client, world, make):
    outsider = Api(client, world.outsider_token)
    assert outsider.get(f"CarePlan/{careplan_id(world)}").status_code == 404
    assert outsider.get(f"Patient/{patient_id(world)}").status_code == 404
    bundle = outsider.get("CarePlan").get_json()
    assert bundle["total"] == 0


def test_withdrawn_consent_stops_the_exchange(client, world, make):
    case = db.session.get(SipCase, world.case_id)
    services.withdraw_consent(case, user=case.created_by, withdrawn_on=clock.today(), note=None)
    make.commit()
    for token in (world.region_token, world.kommun_token):
        response = Api(client, token).get(f"CarePlan/{careplan_id(world)}")
        assert response.status_code == 404
        assert response.get_json()["resourceType"] == "OperationOutcome"


def test_a_case_without_consent_is_not_sent_even_to_its_own_organisation(client, make, world):
    coordinator = db.session.get(SipCase, world.case_id).created_by
    bare = make.case(coordinator)
    make.commit()
    response = Api(client, world.kommun_token).get(f"CarePlan/{systems.careplan_id(bare.id)}")
    assert response.status_code == 404


def test_reads_are_audited_with_the_token(api: Api, world):
    api.get(f"CarePlan/{careplan_id(world)}")
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.read")).all()
    assert len(rows) == 1
    assert rows[0].case_id == world.case_id and rows[0].person_id == world.person_id
    assert "Journal" in rows[0].detail


def test_search_careplans_by_patient_reference_and_identifier(api: Api, world):
    for query in (
        f"patient=Patient/{patient_id(world)}",
        f"patient={patient_id(world)}",
        f"subject=Patient/{patient_id(world)}",
        f"patient.identifier={systems.PERSONNUMMER}|{world.identifier}",
        f"patient.identifier={systems.PERSONNUMMER_OID}|{world.identifier}",
        f"patient.identifier={world.identifier[:8]}-{world.identifier[8:]}",
    ):
        bundle = api.get(f"CarePlan?{query}").get_json()
        assert bundle["type"] == "searchset", query
        assert bundle["total"] == 1, query
        assert bundle["entry"][0]["resource"]["id"] == careplan_id(world)
        assert bundle["entry"][0]["search"]["mode"] == "match"
    assert api.get("CarePlan?patient=Patient/person-0").get_json()["total"] == 0


def test_search_by_status_category_and_dates(api: Api, world):
    status = api.get(f"CarePlan/{careplan_id(world)}").get_json()["status"]
    assert api.get(f"CarePlan?status={status}").get_json()["total"] == 1
    assert api.get("CarePlan?status=completed").get_json()["total"] == 0
    sip = f"{systems.INERA_TYPE_OF_CARE_PLAN}|SIP"
    assert api.get(f"CarePlan?category={sip}").get_json()["total"] == 1
    assert api.get("CarePlan?category=http://example.org|other").get_json()["total"] == 0
    today = clock.today().isoformat()
    assert api.get(f"CarePlan?date=ge{today}").get_json()["total"] == 1
    assert api.get("CarePlan?date=lt2000-01-01").get_json()["total"] == 0
    assert api.get(f"CarePlan?_lastUpdated=ge{today}").get_json()["total"] == 1
    assert api.get("CarePlan?_lastUpdated=lt2000").get_json()["total"] == 0


def test_include_brings_the_referenced_resources(api: Api, world):
    bundle = api.get(
        f"CarePlan?_id={careplan_id(world)}&_include=CarePlan:care-team&_include=CarePlan:subject"
    ).get_json()
    modes = {(e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle["entry"]}
    assert ("CarePlan", "match") in modes
    assert ("CareTeam", "include") in modes
    assert ("Patient", "include") in modes
    assert bundle["total"] == 1


def test_paging_with_count_and_next_links(api: Api, world, make):
    coordinator = db.session.get(SipCase, world.case_id).created_by
    region_unit = db.session.get(SipCase, world.case_id).participants[0].unit
    for _ in range(2):
        make.shared_case(coordinator, region_unit)
    make.commit()
    first = api.get("CarePlan?_count=2").get_json()
    assert first["total"] == 3 and len(first["entry"]) == 2
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = api.get(following.split("/fhir/", 1)[1]).get_json()
    assert len(second["entry"]) == 1
    assert not any(link["relation"] == "next" for link in second["link"])
    seen = {e["resource"]["id"] for e in first["entry"] + second["entry"]}
    assert len(seen) == 3


def test_patient_by_identifier(api: Api, world):
    bundle = api.get(f"Patient?identifier={systems.PERSONNUMMER}|{world.identifier}").get_json()
    assert bundle["total"] == 1
    patient = bundle["entry"][0]["resource"]
    assert {"system": systems.PERSONNUMMER, "value": world.identifier}.items() <= patient[
        "identifier"
    ][0].items()


def test_errors_are_operation_outcomes_with_4xx(api: Api, world):
    cases = {
        "CarePlan?colour=blue": (400, "colour"),
        "CarePlan?date=yesterday": (400, "date"),
        "CarePlan?_count=many": (400, "_count"),
        "CarePlan?_include=CarePlan:author": (400, "_include"),
        "Patient?identifier=19121212-1213": (400, "Kontrollsiffran"),
        "Observation/1": (404, "Observation"),
        "CarePlan/sip-0": (404, "sip-0"),
    }
    for path, (status, words) in cases.items():
        response = api.get(path)
        assert response.status_code == status, path
        body = response.get_json()
        assert body["resourceType"] == "OperationOutcome", path
        assert words in body["issue"][0]["diagnostics"], path


def test_only_json_is_served(api: Api, world):
    response = api.get(f"CarePlan/{careplan_id(world)}", Accept="application/fhir+xml")
    assert response.status_code == 406
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_a_resource_that_fails_validation_is_never_stored_and_the_change_still_saves(
    app, make, world, caplog
):
    """Outside tests a mapping bug must not cost a coordinator their work."""
    from fhir.resources.R4B.careplan import CarePlan

    from sip_tracker.fhir.store import store_resource

    broken = CarePlan.model_validate(
        {
            "resourceType": "CarePlan",
            "id": "sip-broken",
            "status": "active",
            "intent": "plan",
            "subject": {"reference": "Patient/x"},
            "meta": {"profile": [systems.structure_definition(systems.PROFILE_CAREPLAN)]},
        }
    )
    app.config["FHIR_STRICT"] = False
    try:
        assert store_resource(broken, case_id=world.case_id, person_id=world.person_id) is None
    finally:
        del app.config["FHIR_STRICT"]
    assert "fails validation" in caplog.text
    assert "CarePlan.category" in caplog.text or "category" in caplog.text


def test_a_date_without_a_time_zone_is_a_day_in_stockholm():
    """FHIR R4 search: a date has no time zone, so the server's is assumed (found at midnight:
    a resource stored at 00:30 Stockholm time was not found by _lastUpdated=ge<that day>)."""
    from datetime import UTC, datetime

    from sip_tracker.fhir.search import parse_date

    bound = parse_date("ge2026-12-08", "_lastUpdated")
    assert bound.start == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    assert bound.end == datetime(2026, 12, 8, 23, 0, tzinfo=UTC)
    summer = parse_date("2026-07-01", "date")
    assert summer.start == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
