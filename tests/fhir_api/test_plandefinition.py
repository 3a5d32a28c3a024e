"""The county action plan's activities as PlanDefinitions, and CarePlans that point at them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.fhir import systems
from sip_tracker.fhir.models import StoredResource
from sip_tracker.fhir.validation import errors, validate
from sip_tracker.handlingsplan.models import Activity, ActivityStatus, Malomrade, PlanSakomrade
from sip_tracker.handlingsplan.services import link_activities, save_activity
from tests.fhir_api.conftest import Api


@pytest.fixture
def plan(make, world) -> dict[str, Activity]:
    somlos = Malomrade(code="somlos", title="Sömlös vård och omsorg")
    new_area = Malomrade(code="nytt-omrade", title="Ett nytt målområde", position=9)
    aldre = PlanSakomrade(code="aldre", title="Äldres hälsa")
    db.session.add_all([somlos, new_area, aldre])
    db.session.flush()
    sip = save_activity(
        None,
        identifier="2024-sip",
        title="SIP på regional nivå",
        description="Utveckling av SIP.",
        year_from=2024,
        year_to=2026,
        malomraden=[somlos, new_area],
        sakomraden=[aldre],
        responsible_group="Samrådsgrupp äldre",
        status=ActivityStatus.PAGAENDE,
    )
    planned = save_activity(
        None,
        identifier="2025_plan",  # "_" is not allowed in a FHIR id
        title="Planerad",
        description="",
        year_from=2025,
        year_to=2025,
        malomraden=[],
        sakomraden=[],
        responsible_group=None,
        status=ActivityStatus.PLANERAD,
    )
    make.commit()
    return {"sip": sip, "planned": planned}


def test_an_activity_is_a_plandefinition_anyone_with_a_token_may_read(client, world, plan):
    api = Api(client, world.outsider_token)  # takes part in no case: still sees the plan
    response = api.get("PlanDefinition/2024-sip")
    assert response.status_code == 200
    body = response.get_json()
    assert body["url"] == f"{systems.CANONICAL}/PlanDefinition/2024-sip"
    assert body["identifier"] == [
        {"system": systems.HANDLINGSPLAN_ACTIVITY_ID, "value": "2024-sip"}
    ]
    assert body["title"] == "SIP på regional nivå"
    assert body["status"] == "active"
    assert body["effectivePeriod"] == {"start": "2024-01-01", "end": "2026-12-31"}
    assert body["author"] == [{"name": "Samrådsgrupp äldre"}]
    topic_codes = [c.get("coding", [{}])[0].get("code") for c in body["topic"]]
    assert topic_codes == ["somlos", None]  # a målområde our code system lacks: text only
    assert body["topic"][1]["text"] == "Ett nytt målområde"
    sakomrade = body["useContext"][0]["valueCodeableConcept"]["coding"][0]
    assert (sakomrade["system"], sakomrade["code"]) == (systems.CS_SAKOMRADE, "aldre")
    assert body["meta"]["profile"] == [systems.structure_definition("sip-plandefinition")]
    assert errors(validate(body)) == []


def test_an_identifier_that_is_no_fhir_id_gets_one_from_the_key(client, world, plan):
    api = Api(client, world.region_token)
    logical_id = f"activity-{plan['planned'].id}"
    body = api.get(f"PlanDefinition/{logical_id}").get_json()
    assert body["identifier"][0]["value"] == "2025_plan"
    assert body["url"].endswith(f"/PlanDefinition/{logical_id}")
    assert body["status"] == "draft"


def test_search_plandefinitions(api: Api, plan):
    bundle = api.get("PlanDefinition").get_json()
    assert bundle["total"] == 2
    assert {e["resource"]["resourceType"] for e in bundle["entry"]} == {"PlanDefinition"}
    one = api.get("PlanDefinition?_id=2024-sip").get_json()
    assert [e["resource"]["id"] for e in one["entry"]] == ["2024-sip"]


def test_a_change_to_an_activity_makes_a_new_version(api: Api, make, plan):
    activity = plan["sip"]
    save_activity(
        activity,
        identifier=activity.identifier,
        title=activity.title,
        description=activity.description,
        year_from=activity.year_from,
        year_to=activity.year_to,
        malomraden=activity.malomraden,
        sakomraden=activity.sakomraden,
        responsible_group=activity.responsible_group,
        status=ActivityStatus.AVSLUTAD,
    )
    make.commit()
    body = api.get("PlanDefinition/2024-sip").get_json()
    assert body["status"] == "retired"
    assert body["meta"]["versionId"] == "2"
    rows = db.session.scalars(
        select(StoredResource).where(StoredResource.resource_type == "PlanDefinition")
    ).all()
    assert {(r.case_id, r.person_id) for r in rows} == {(None, None)}


def test_linking_a_case_republishes_its_careplan_with_the_activity(api: Api, make, world, plan):
    case = db.session.get(SipCase, world.case_id)
    link_activities(case, user=case.created_by, activities=[plan["sip"]])
    make.commit()
    careplan = api.get(f"CarePlan/{systems.careplan_id(world.case_id)}").get_json()
    assert careplan["meta"]["versionId"] == "2"
    linked = [
        e["valueCanonical"]
        for e in careplan["extension"]
        if e["url"] == systems.structure_definition(systems.EXT_ACTIVITY)
    ]
    assert linked == [f"{systems.CANONICAL}/PlanDefinition/2024-sip"]
    assert errors(validate(careplan)) == []

    link_activities(case, user=case.created_by, activities=[])
    make.commit()
    careplan = api.get(f"CarePlan/{systems.careplan_id(world.case_id)}").get_json()
    assert careplan["meta"]["versionId"] == "3"
    assert systems.structure_definition(systems.EXT_ACTIVITY) not in {
        e["url"] for e in careplan["extension"]
    }


def test_the_capability_statement_lists_plandefinition(client):
    body = client.get("/fhir/metadata").get_json()
    entry = next(r for r in body["rest"][0]["resource"] if r["type"] == "PlanDefinition")
    assert entry["profile"] == systems.structure_definition(systems.PROFILE_PLANDEFINITION)
