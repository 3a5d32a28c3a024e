"""The outbound mapping: golden files, every demo case, and the rules a receiver relies on.

Golden files: tests/fhir/golden/<ResourceType>.json hold every resource of that type for
the case in golden_case.py, with each kind of database id replaced by its rank (1, 2, …),
since the test database does not restart its sequences. After a deliberate change of the
mapping, rewrite them and review the diff:

    SIP_UPDATE_GOLDEN=1 .venv/bin/pytest tests/fhir
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from flask_babel import force_locale
from sqlalchemy import select
from stdnum import luhn

from sip_tracker import clock
from sip_tracker.cases import services as cases
from sip_tracker.cases.codes import (
    CaseRoleKind,
    ConsentGiver,
    ConsentMethod,
    ParticipantKind,
    Sakomrade,
    Stage,
)
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.demo import load_demo_data
from sip_tracker.fhir import systems
from sip_tracker.fhir.invariants import check
from sip_tracker.fhir.outbound import careplan_status, case_resources, resource_json
from sip_tracker.organizations.models import HuvudmanKind
from sip_tracker.organizations.reference import load_reference_data
from sip_tracker.people.models import RelatedPerson, RelationKind
from sip_tracker.plans import services as plans
from tests.fhir.golden_case import build_golden_case

GOLDEN = Path(__file__).parent / "golden"
_DB_ID = re.compile(r"\b(sip|consent|person|related|huvudman|unit|participant|meeting|annan)-(\d+)")


def as_json(case: SipCase) -> list[dict[str, Any]]:
    return [resource_json(r) for r in case_resources(case)]


def by_type(resources: list[dict[str, Any]], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["resourceType"] == resource_type]


def one(resources: list[dict[str, Any]], resource_type: str) -> dict[str, Any]:
    (found,) = by_type(resources, resource_type)
    return found


def number_ids(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Database ids replaced by their rank (1, 2, …) per kind: the rest must match exactly."""
    text = json.dumps(resources, ensure_ascii=False)
    found: dict[str, set[int]] = defaultdict(set)
    for kind, number in _DB_ID.findall(text):
        found[kind].add(int(number))
    rank = {kind: {n: i for i, n in enumerate(sorted(ns), start=1)} for kind, ns in found.items()}
    numbered = json.loads(_DB_ID.sub(lambda m: f"{m[1]}-{rank[m[1]][int(m[2])]}", text))
    identifier = numbered[0]["identifier"][0]
    identifier["value"] = str(rank["sip"][int(identifier["value"])])
    return numbered


def golden_text(resources: list[dict[str, Any]]) -> str:
    return json.dumps(resources, ensure_ascii=False, indent=2) + "\n"


# --- Golden files -----------------------------------------------------------------------------
GOLDEN_TYPES = [
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
]


@pytest.mark.parametrize("resource_type", GOLDEN_TYPES)
def test_the_golden_case_maps_as_recorded(make, resource_type):
    resources = number_ids(as_json(build_golden_case(make).case))
    path = GOLDEN / f"{resource_type}.json"
    produced = golden_text(by_type(resources, resource_type))

    if os.environ.get("SIP_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(produced, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with SIP_UPDATE_GOLDEN=1"
    assert json.loads(produced) == json.loads(path.read_text(encoding="utf-8"))


def test_the_golden_case_sends_every_resource_type_in_a_stable_order(make):
    case = build_golden_case(make).case

    resources = as_json(case)

    assert list(dict.fromkeys(r["resourceType"] for r in resources)) == GOLDEN_TYPES
    assert as_json(case) == resources


# --- Every resource of every demo case --------------------------------------------------------
def references(value: Any) -> list[str]:
    """Every literal reference in a resource's JSON."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for item in value.values() for ref in references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    return []


def test_every_demo_case_maps_to_valid_resources_that_point_at_each_other(ctx):
    load_reference_data()
    load_demo_data()
    demo_cases = db.session.scalars(select(SipCase).order_by(SipCase.id)).all()
    assert {c.stage for c in demo_cases} == set(Stage)

    for case in demo_cases:
        resources = as_json(case)
        ids = {f"{r['resourceType']}/{r['id']}" for r in resources}
        assert len(ids) == len(resources), f"a logical id twice in case {case.id}"
        for resource in resources:
            model = get_fhir_model_class(resource["resourceType"])
            assert resource_json(model.model_validate(resource)) == resource
            assert [str(f) for f in check(resource)] == []
            contained = {f"#{c['id']}" for c in resource.get("contained", [])}
            dangling = set(references(resource)) - ids - contained
            assert not dangling, f"{resource['resourceType']}/{resource['id']}: {dangling}"
        assert resources[0]["status"] == careplan_status(case.stage)


# --- CarePlan ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stage", "status"),
    [
        (Stage.BEHOV_IDENTIFIERAT, "draft"),
        (Stage.FORBEREDELSE, "draft"),
        (Stage.KALLAD, "draft"),
        (Stage.MOTE_HALLET, "draft"),
        (Stage.PLAN_FASTSTALLD, "active"),
        (Stage.UPPFOLJNING, "active"),
        (Stage.AVSLUTAD, "completed"),
        (Stage.AVBOJD, "revoked"),
        (Stage.AVBRUTEN, "revoked"),
    ],
)
def test_each_stage_maps_to_a_careplan_status(stage, status):
    assert careplan_status(stage) == status


def test_the_careplan_carries_ineras_sip_category_and_a_title_without_the_name(make):
    case = make.case(sakomraden=[Sakomrade.ALDRE, Sakomrade.PSYKISK_OHALSA])

    plan = one(as_json(case), "CarePlan")

    assert plan["category"] == [
        {
            "coding": [
                {
                    "system": "https://fhir.inera.se/CodeSystem/typeofcareplan-cs",
                    "code": "SIP",
                    "display": "Samordnad individuell plan",
                }
            ]
        }
    ]
    assert plan["title"] == (
        "Samordnad individuell plan – Äldres hälsa, Psykisk ohälsa och beroende"
    )
    assert case.person.family_name not in plan["title"]


def test_a_new_case_is_a_draft_plan_by_its_initiativtagare_without_goals_or_tasks(make):
    case = make.case()

    resources = as_json(case)
    plan = one(resources, "CarePlan")

    assert plan["status"] == "draft"
    assert plan["author"] == {"reference": f"PractitionerRole/sip-{case.id}-initiativtagare"}
    assert "goal" not in plan and "activity" not in plan and "supportingInfo" not in plan
    assert by_type(resources, "Goal") == by_type(resources, "Task") == []
    assert "end" not in plan["period"]


def test_a_draft_plan_is_shared_as_proposed_goals_and_draft_tasks(make):
    user = make.user()
    partner = make.unit()
    case = make.shared_case(user, partner)
    plan = plans.plan_for(case)
    plans.save_plan(
        case,
        user=user,
        lock_version=plan.lock_version,
        goals=["Jag vill bo kvar hemma."],
        insatser=[plans.InsatsInput("Hemtjänst", partner.huvudman, partner)],
        atgarder=[],
        follow_up_method="",
        follow_up_on=None,
    )

    resources = as_json(case)

    assert [g["lifecycleStatus"] for g in by_type(resources, "Goal")] == ["proposed"]
    assert [t["status"] for t in by_type(resources, "Task")] == ["draft"]
    assert one(resources, "CarePlan")["activity"] == [
        {"reference": {"reference": f"Task/sip-{case.id}-insats-1"}}
    ]


def test_a_closed_case_has_an_end_and_its_tasks_and_goals_are_done(ctx):
    load_reference_data()
    load_demo_data()
    case = db.session.scalars(select(SipCase).where(SipCase.stage == Stage.AVSLUTAD)).first()
    assert case is not None

    resources = as_json(case)

    assert one(resources, "CarePlan")["period"]["end"]
    assert one(resources, "CareTeam")["status"] == "inactive"
    assert {t["status"] for t in by_type(resources, "Task")} == {"completed"}
    assert {g["lifecycleStatus"] for g in by_type(resources, "Goal")} == {"completed"}


def test_the_same_case_maps_to_the_same_json_in_any_language(make):
    case = build_golden_case(make).case

    with force_locale("en"):
        in_english = as_json(case)

    assert in_english == as_json(case)
    stage = one(in_english, "CarePlan")["extension"][0]["valueCoding"]
    assert stage["display"] == "Uppföljning"


# --- Consent ----------------------------------------------------------------------------------
def test_a_withdrawn_consent_is_inactive_and_ends_on_the_day_it_was_withdrawn(make):
    user = make.user()
    case = make.shared_case(user, make.unit())
    withdrawn_on = clock.today()
    cases.withdraw_consent(case, user=user, withdrawn_on=withdrawn_on, note="Vill inte längre.")

    consent = one(as_json(case), "Consent")

    assert consent["status"] == "inactive"
    assert consent["provision"]["period"]["end"] == withdrawn_on.isoformat()


def test_an_earlier_consent_is_inactive_once_a_new_one_is_given(make):
    user = make.user()
    partner = make.unit()
    case = make.shared_case(user, partner)
    cases.record_consent(
        case,
        user=user,
        given_by=ConsentGiver.PERSON,
        guardian=None,
        method=ConsentMethod.MUNTLIGT,
        given_on=clock.today(),
        units=[user.unit, partner],
        other_organisations=None,
        exclusions=None,
    )

    statuses = [c["status"] for c in by_type(as_json(case), "Consent")]

    assert statuses == ["inactive", "active"]


def test_a_childs_consent_is_given_by_the_guardian_as_a_related_person(make):
    user = make.user()
    child = make.person(user, born=clock.today() - timedelta(days=365 * 10))
    mother = RelatedPerson(kind=RelationKind.VARDNADSHAVARE, name="Maria Nilsson", relation="mamma")
    child.related.append(mother)
    db.session.flush()
    case = make.case(user, child)
    cases.record_consent(
        case,
        user=user,
        given_by=ConsentGiver.VARDNADSHAVARE,
        guardian=mother,
        method=ConsentMethod.SKRIFTLIGT,
        given_on=clock.today(),
        units=[user.unit],
        other_organisations=None,
        exclusions=None,
    )

    resources = as_json(case)
    consent = one(resources, "Consent")
    guardian = one(resources, "RelatedPerson")

    assert consent["performer"] == [{"reference": f"RelatedPerson/related-{mother.id}"}]
    assert guardian["id"] == f"related-{mother.id}"
    assert guardian["relationship"][0]["coding"][0]["code"] == "GUARD"
    assert guardian["patient"] == {"reference": f"Patient/person-{child.id}"}


def test_consent_exclusions_are_a_deny_provision_and_covered_units_its_recipients(make):
    golden = build_golden_case(make)

    provision = one(as_json(golden.case), "Consent")["provision"]

    assert provision["type"] == "permit"
    recipients = [a["reference"] for a in provision["actor"]]
    assert recipients == [
        {"reference": f"Organization/unit-{u.id}"}
        for u in sorted([golden.geriatrik, golden.bistand, golden.hsl], key=lambda u: u.id)
    ] + [{"display": "Försäkringskassan"}]
    assert provision["provision"] == [
        {"type": "deny", "code": [{"text": "Anteckningar från psykiatrin"}]}
    ]


# --- People and organisations -----------------------------------------------------------------
def samordningsnummer(born: date, serial: int) -> str:
    """A valid 12-digit samordningsnummer: the day of birth plus 60."""
    nine = f"{born:%y%m}{born.day + 60:02d}{serial:03d}"
    return f"{born:%Y}{nine[2:]}{luhn.calc_check_digit(nine)}"


def test_a_samordningsnummer_is_sent_with_its_own_system(make):
    user = make.user()
    number = samordningsnummer(date(1990, 5, 17), 123)
    case = make.case(user, make.person(user, identifier=number))

    patient = one(as_json(case), "Patient")

    assert patient["identifier"] == [
        {
            "use": "official",
            "system": "http://electronichealth.se/identifier/samordningsnummer",
            "value": number,
        }
    ]
    assert patient["birthDate"] == "1990-05-17"


def test_a_task_is_owned_by_the_insats_units_organization_else_its_huvudmans(make):
    golden = build_golden_case(make)

    resources = as_json(golden.case)
    insatser = [t for t in by_type(resources, "Task") if "-insats-" in t["id"]]
    organizations = {o["id"]: o for o in by_type(resources, "Organization")}

    assert insatser[0]["owner"] == {"reference": f"Organization/unit-{golden.bistand.id}"}
    owner = organizations[f"unit-{golden.bistand.id}"]
    assert owner["partOf"] == {"reference": f"Organization/huvudman-{golden.bistand.huvudman_id}"}
    region = golden.geriatrik.huvudman
    assert insatser[1]["owner"] == {"reference": f"Organization/huvudman-{region.id}"}
    assert organizations[f"huvudman-{region.id}"]["identifier"][0]["value"] == "2321000016"


def test_other_actors_are_contained_when_they_name_an_organisation(make):
    golden = build_golden_case(make)

    team = one(as_json(golden.case), "CareTeam")
    members = [p["member"] for p in team["participant"]]

    (fk,) = team["contained"]
    assert fk["name"] == "Försäkringskassan"
    assert fk["contact"][0]["name"] == {"text": "Eva Ek"}
    assert {"reference": f"#{fk['id']}", "display": "Eva Ek, Försäkringskassan"} in members
    assert {"display": "Grannen Bo Ström"} in members


def test_every_role_is_a_practitioner_role_at_its_unit(make):
    golden = build_golden_case(make)
    case = golden.case

    roles = {r["id"]: r for r in by_type(as_json(case), "PractitionerRole")}

    for kind in CaseRoleKind:
        role = case.role(kind)
        assert role is not None
        mapped = roles[f"sip-{case.id}-{kind}"]
        assert mapped["organization"] == {"reference": f"Organization/unit-{role.unit_id}"}
        assert mapped["practitioner"] == {"display": role.person_name}
        assert mapped["code"][0]["coding"][0]["code"] == kind


def test_a_huvudman_that_is_a_kommun_carries_its_kommunkod(make):
    kommun = make.huvudman(HuvudmanKind.KOMMUN, name="Nacka kommun", kommunkod="0182")
    case = make.case(make.user(make.unit(kommun)))

    (mapped,) = [o for o in by_type(as_json(case), "Organization") if "huvudman" in o["id"]]

    assert mapped["extension"] == [
        {
            "url": systems.structure_definition(systems.EXT_KOMMUNKOD),
            "valueCoding": {"system": systems.CS_KOMMUNKOD, "code": "0182", "display": "Nacka"},
        }
    ]
    assert mapped["type"][0]["coding"][0]["code"] == "kommun"


# --- Meetings ---------------------------------------------------------------------------------
def test_invitations_answer_as_participation_statuses(make):
    golden = build_golden_case(make)

    first = by_type(as_json(golden.case), "Appointment")[0]
    statuses = {
        p["actor"].get("reference", p["actor"].get("display")): p["status"]
        for p in first["participant"]
    }

    assert first["status"] == "fulfilled"
    assert statuses[f"Patient/person-{golden.case.person_id}"] == "accepted"
    assert statuses["Eva Ek, Försäkringskassan"] == "tentative"
    assert statuses["#place"] == "accepted"
    assert list(statuses.values()).count("accepted") == 4


def test_a_held_meeting_is_an_encounter_of_those_who_came(make):
    golden = build_golden_case(make)

    resources = as_json(golden.case)
    (held,) = by_type(resources, "Encounter")
    appointments = by_type(resources, "Appointment")

    assert held["status"] == "finished"
    assert held["appointment"] == [{"reference": f"Appointment/{appointments[0]['id']}"}]
    assert [p["individual"] for p in held["participant"]] == [
        {"reference": f"PractitionerRole/participant-{p.id}"}
        for p in golden.case.participants
        if p.kind == ParticipantKind.ENHET
    ] + [{"reference": f"RelatedPerson/related-{golden.case.person.related[0].id}"}]
    assert held["extension"][0]["valueBoolean"] is True
    assert appointments[1]["status"] == "booked"
    assert appointments[1]["contained"][0]["telecom"][0]["system"] == "url"
