"""`flask publish-fhir`: map every case again after an upgrade, storing only what changed."""

from __future__ import annotations

import orjson
from flask import Flask
from sqlalchemy import select, update

from sip_tracker.db import db
from sip_tracker.fhir import systems
from sip_tracker.fhir.models import StoredResource
from tests.fhir_api.conftest import Api, World


def stored(kind: str, logical_id: str) -> StoredResource:
    db.session.expire_all()
    return db.session.scalars(
        select(StoredResource).where(
            StoredResource.resource_type == kind, StoredResource.logical_id == logical_id
        )
    ).one()


def test_publish_fhir_fills_missing_r5_editions_and_versions_only_what_changed(
    app: Flask, client, world: World
):
    careplan = systems.careplan_id(world.case_id)
    patient = systems.patient_id(world.person_id)
    # As rows stored before the R5 mapping existed, and a CarePlan an older mapping wrote.
    db.session.execute(update(StoredResource).values(content_r5=None))
    old = stored("CarePlan", careplan)
    body = orjson.loads(old.content)
    body["title"] = "En äldre mappning"
    old.content = orjson.dumps(body)
    db.session.commit()
    r5 = {"Accept": "application/fhir+json; fhirVersion=5.0"}
    api = Api(client, world.region_token)
    assert api.get(f"CarePlan/{careplan}", **r5).status_code == 404

    result = app.test_cli_runner().invoke(args=["publish-fhir"])

    assert result.exit_code == 0, result.output
    total = len(db.session.scalars(select(StoredResource)).all())
    assert f"1 case mapped again: 1 new versions, {total} R5 editions added" in result.output
    assert stored("CarePlan", careplan).version_id == 2
    assert orjson.loads(stored("CarePlan", careplan).content)["title"] != "En äldre mappning"
    assert stored("Patient", patient).version_id == 1
    answer = api.get(f"CarePlan/{careplan}", **r5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].endswith("fhirVersion=5.0")

    again = app.test_cli_runner().invoke(args=["publish-fhir"])
    assert "0 new versions, 0 R5 editions added" in again.output
