"""Everything the demo data exports is valid FHIR R4 and conforms to our profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.demo import load_demo_data
from sip_tracker.fhir import systems
from sip_tracker.fhir.outbound import case_resources, resource_json
from sip_tracker.fhir.validation import errors, validate, validate_resources
from sip_tracker.organizations.reference import load_reference_data
from tests.fhir_profiles.helpers import shown


def test_every_resource_the_demo_exports_is_valid_against_the_core_and_our_profiles(ctx):
    load_reference_data()
    load_demo_data()
    resources = {}
    for case in db.session.scalars(select(SipCase).order_by(SipCase.id)):
        for resource in case_resources(case):
            data = resource_json(resource)
            resources[f"{data['resourceType']}/{data['id']}"] = data

    failures = {}
    for key, resource in resources.items():
        profiles = resource["meta"]["profile"]
        assert all(p.startswith(systems.CANONICAL) for p in profiles), key
        found = errors(validate(resource, [])) + errors(validate(resource, profiles))
        if found:
            failures[key] = shown(found)
    assert failures == {}

    # References between the resources reach ones that conform to the profiles asked for.
    report = validate_resources(resources.values())
    assert {key: shown(errors(issues)) for key, issues in report.items() if errors(issues)} == {}

    claimed = {p.rsplit("/", 1)[1] for r in resources.values() for p in r["meta"]["profile"]}
    assert claimed == {
        "sip-careplan",
        "sip-careteam",
        "sip-goal",
        "sip-insats-task",
        "sip-consent",
        "sip-patient",
        "sip-relatedperson",
        "sip-organization",
        "sip-practitionerrole",
        "sip-appointment",
        "sip-encounter",
    }


GOLDEN = Path(__file__).resolve().parents[1] / "fhir" / "golden"


@pytest.mark.skipif(not GOLDEN.is_dir(), reason="the mapping's golden files are not there")
def test_the_mapping_golden_files_are_valid_against_the_core_and_our_profiles():
    """The golden case reaches paths the demo does not (contained actors, a mötesledare)."""
    resources = []
    for path in sorted(GOLDEN.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        resources += data if isinstance(data, list) else [data]

    report = validate_resources(resources)

    assert resources
    assert {key: shown(errors(issues)) for key, issues in report.items() if errors(issues)} == {}
