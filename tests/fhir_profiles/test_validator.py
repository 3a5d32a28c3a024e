"""The validator: the examples pass, and each kind of mistake is caught where it is."""

from __future__ import annotations

import copy

import pytest

from sip_tracker.fhir import systems
from sip_tracker.fhir.validation import (
    SKIPPED_INVARIANTS,
    default_definitions,
    errors,
    operation_outcome,
    validate,
    validate_resources,
)
from tests.fhir_profiles.helpers import (
    error_at,
    example,
    examples,
    extension,
    profile_url,
    shown,
)


@pytest.mark.parametrize("resource", examples(), ids=lambda r: f"{r['resourceType']}-{r['id']}")
def test_every_example_is_valid_against_the_specification_and_its_profile(resource):
    profile = resource["meta"]["profile"][0]

    assert validate(resource, [profile]) == [], shown(validate(resource, [profile]))
    assert validate(resource, []) == []  # the core definition alone


def test_the_examples_refer_to_resources_that_conform_to_the_profiles_asked_for():
    report = validate_resources(examples())

    assert {key: shown(issues) for key, issues in report.items() if issues} == {}


# --- CarePlan -----------------------------------------------------------------------------
CAREPLAN = profile_url("sip-careplan")


def test_a_careplan_without_the_sip_category_is_rejected():
    careplan = example("CarePlan")
    careplan["category"] = [{"coding": [{"system": "http://snomed.info/sct", "code": "734163000"}]}]

    issue = error_at(validate(careplan, [CAREPLAN]), "CarePlan.category:sip", "slice 'sip'")
    assert "minimum cardinality 1" in issue.message
    assert issue.code == "required"


def test_a_careplan_with_another_intent_is_rejected():
    careplan = example("CarePlan")
    careplan["intent"] = "order"

    error_at(validate(careplan, [CAREPLAN]), "CarePlan.intent", 'must be exactly "plan"')


def test_a_careplan_without_a_title_is_rejected():
    careplan = example("CarePlan")
    del careplan["title"]

    error_at(validate(careplan, [CAREPLAN]), "CarePlan.title", "minimum cardinality 1")


def test_an_unknown_stage_code_is_rejected():
    careplan = example("CarePlan")
    extension(careplan, "sip-stage")["valueCoding"]["code"] = "pausad"

    issues = validate(careplan, [CAREPLAN])

    error_at(
        issues,
        "CarePlan.extension[0].valueCoding",
        "no code from the required value set",
        systems.value_set("sip-stage"),
    )
    error_at(issues, "CarePlan.extension[0].valueCoding.code", "'pausad' is not in the code")


def test_a_stage_that_disagrees_with_the_status_breaks_sip_cp_1():
    careplan = example("CarePlan")
    extension(careplan, "sip-stage")["valueCoding"].update(code="kallad", display="Kallad")

    error_at(validate(careplan, [CAREPLAN]), "CarePlan", "sip-cp-1", "status agrees")


def test_a_reference_to_the_wrong_resource_type_is_rejected():
    careplan = example("CarePlan")
    careplan["subject"] = {"reference": "Organization/unit-1"}

    issues = validate(careplan, [CAREPLAN])

    # The core allows Patient | Group; the profile only Patient (sip-patient).
    error_at(issues, "CarePlan.subject.reference", "reference to Organization", "Group | Patient")
    error_at(issues, "CarePlan.subject.reference", "allows only Patient")


def test_an_activity_with_both_reference_and_detail_breaks_cpl_3():
    careplan = example("CarePlan")
    careplan["activity"][0]["detail"] = {"status": "in-progress", "description": "Hemtjänst"}

    issues = validate(careplan, [])  # the core specification alone: an R4 invariant

    error_at(issues, "CarePlan.activity[0]", "cpl-3", "reference or detail, not both")


def test_the_profile_forbids_activity_detail_altogether():
    careplan = example("CarePlan")
    careplan["activity"] = [{"detail": {"status": "in-progress"}}]

    issues = validate(careplan, [CAREPLAN])

    error_at(issues, "CarePlan.activity[0].detail", "maximum cardinality 0")
    error_at(issues, "CarePlan.activity[0].reference", "minimum cardinality 1")


def test_a_status_outside_the_core_value_set_is_rejected():
    careplan = example("CarePlan")
    careplan["status"] = "paused"

    error_at(
        validate(careplan, []),
        "CarePlan.status",
        "'paused' is not in the required value set http://hl7.org/fhir/ValueSet/request-status",
    )


def test_an_unknown_element_and_a_wrongly_shaped_array_are_rejected():
    careplan = example("CarePlan")
    careplan["owner"] = "Cecilia"
    careplan["title"] = ["two", "titles"]

    issues = validate(careplan, [])

    error_at(issues, "CarePlan.owner", "unknown element 'owner'")
    error_at(issues, "CarePlan.title", "must not be a JSON array")


def test_an_extension_used_outside_its_context_is_rejected():
    careplan = example("CarePlan")
    kommunkod = extension(example("Organization", "huvudman-2"), "sip-kommunkod")
    careplan["extension"].append(kommunkod)

    error_at(validate(careplan, [CAREPLAN]), "CarePlan.extension[10]", "not allowed on CarePlan")


def test_an_extension_value_of_the_wrong_type_is_rejected():
    careplan = example("CarePlan")
    stage = extension(careplan, "sip-stage")
    stage["valueCode"] = stage.pop("valueCoding")["code"]

    error_at(
        validate(careplan, [CAREPLAN]),
        "CarePlan.extension[0].valueCode",
        "type code is not allowed for value[x] (allowed: Coding)",
    )


def test_an_unknown_extension_of_ours_is_an_error_a_foreign_one_a_warning():
    careplan = example("CarePlan")
    careplan["extension"] += [
        {"url": systems.structure_definition("sip-mood"), "valueString": "glad"},
        {"url": "https://example.org/fhir/StructureDefinition/colour", "valueString": "blå"},
    ]

    issues = validate(careplan, [CAREPLAN])

    error_at(issues, "CarePlan.extension[10]", "sip-mood is not known")
    warning = [i for i in issues if i.path == "CarePlan.extension[11]"]
    assert [i.severity for i in warning] == ["warning"]


def test_a_complex_extension_checks_its_parts():
    careplan = example("CarePlan")
    need = extension(careplan, "sip-need")
    need["extension"] = [p for p in need["extension"] if p["url"] != "description"]
    need["extension"].append({"url": "colour", "valueString": "blå"})

    issues = validate(careplan, [CAREPLAN])

    error_at(issues, "CarePlan.extension[8].extension:description", "minimum cardinality 1")
    error_at(issues, "CarePlan.extension[8].extension[2]", "closed")


# --- Patient -------------------------------------------------------------------------------
PATIENT = profile_url("sip-patient")


def test_a_personnummer_of_ten_digits_is_rejected():
    patient = example("Patient")
    patient["identifier"][0]["value"] = "5806069943"

    issues = validate(patient, [PATIENT])

    error_at(issues, "Patient.identifier[0]", "sip-pnr-1", "12 digits")
    assert [i for i in errors(issues) if "sip-pnr-2" in i.message] == []  # not 12 digits


def test_a_personnummer_with_a_wrong_check_digit_is_rejected():
    patient = example("Patient")
    patient["identifier"][0]["value"] = "195806069944"

    error_at(validate(patient, [PATIENT]), "Patient.identifier[0]", "sip-pnr-2", "Luhn")


def test_a_samordningsnummer_needs_the_day_plus_sixty():
    patient = example("Patient")
    patient["identifier"][0]["system"] = systems.SAMORDNINGSNUMMER

    error_at(validate(patient, [PATIENT]), "Patient.identifier[0]", "sip-samnr-1", "+ 60")


def test_a_valid_samordningsnummer_passes():
    patient = example("Patient")
    # Day 06 + 60 = 66, serial 994 (Skatteverket's test range), Luhn check digit 0.
    patient["identifier"][0] = {"system": systems.SAMORDNINGSNUMMER, "value": "195806669940"}

    assert errors(validate(patient, [PATIENT])) == []


def test_a_patient_needs_a_personnummer_or_samordningsnummer():
    patient = example("Patient")
    patient["identifier"] = [{"system": systems.PERSONNUMMER_OID, "value": "195806069943"}]

    issues = validate(patient, [PATIENT])

    error_at(issues, "Patient", "sip-pat-1", "Exactly one")
    assert any("sip-pat-2" in i.message and i.severity == "warning" for i in issues)


def test_a_primitive_that_is_not_of_its_type_is_rejected():
    patient = example("Patient")
    patient["birthDate"] = "1958-13-06"
    patient["active"] = "yes"

    issues = validate(patient, [])

    error_at(issues, "Patient.birthDate", "not a valid date")
    error_at(issues, "Patient.active", "not a valid boolean")


# --- Other profiles -----------------------------------------------------------------------
def test_a_careteam_role_from_another_system_breaks_the_closed_slicing():
    team = example("CareTeam")
    team["participant"][1]["role"].append({"text": "Kurator"})

    error_at(
        validate(team, [profile_url("sip-careteam")]),
        "CareTeam.participant[1].role[1]",
        "matches no slice",
    )


def test_an_insats_owned_by_a_name_only_breaks_sip_task_1():
    task = example("Task", "sip-1-insats-1")
    task["owner"] = {"display": "Hemtjänsten"}

    error_at(validate(task, [profile_url("sip-insats-task")]), "Task", "sip-task-1")


def test_an_exclusion_must_deny():
    consent = example("Consent")
    consent["provision"]["provision"][0]["type"] = "permit"

    error_at(validate(consent, [profile_url("sip-consent")]), "Consent", "sip-cons-1")


def test_a_unit_and_a_huvudman_are_told_apart():
    unit = example("Organization", "unit-1")
    unit["type"] = [{"coding": [{"system": systems.CS_HUVUDMAN_KIND, "code": "region"}]}]

    error_at(validate(unit, [profile_url("sip-organization")]), "Organization", "sip-org-1")


def test_a_referenced_resource_must_conform_to_the_profile_asked_for():
    resources = examples()
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    patient["identifier"][0]["value"] = "195806069944"  # wrong check digit

    report = validate_resources(resources)

    error_at(report["Patient/person-1"], "Patient.identifier[0]", "sip-pnr-2")
    error_at(report["CarePlan/sip-1"], "CarePlan.subject", "Patient/person-1 does not conform")


def test_a_bundle_validates_its_entries():
    careplan = example("CarePlan")
    del careplan["title"]
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"fullUrl": "https://sip.example/fhir/CarePlan/sip-1", "resource": careplan}],
    }

    error_at(validate(bundle), "Bundle.entry[0].resource.title", "minimum cardinality 1")


# --- The validator itself -----------------------------------------------------------------
def test_validation_leaves_the_resource_unchanged():
    careplan = example("CarePlan")
    before = copy.deepcopy(careplan)

    validate(careplan)

    assert careplan == before


def test_every_invariant_is_evaluated_or_skipped_with_a_reason():
    definitions = default_definitions()
    keys = {
        c["key"]
        for d in definitions.structures.values()
        for e in d["snapshot"]["element"]
        for c in e.get("constraint", [])
    }

    skipped = keys & set(SKIPPED_INVARIANTS)
    assert skipped == set(SKIPPED_INVARIANTS), "a reason for an invariant nobody has"
    assert all(SKIPPED_INVARIANTS[key] for key in skipped)
    for resource in examples():
        unevaluated = [i for i in validate(resource) if "could not be evaluated" in i.message]
        assert unevaluated == []


def test_a_profile_that_does_not_exist_is_an_error_when_asked_for():
    issues = validate(example("Patient"), [profile_url("sip-person")])

    assert [i.code for i in errors(issues)] == ["not-supported"]


def test_issues_become_a_valid_operation_outcome():
    careplan = example("CarePlan")
    careplan["category"] = []
    issues = validate(careplan, [CAREPLAN])

    outcome = operation_outcome(issues)

    assert errors(validate(outcome)) == []
    assert {"severity": "error", "code": "required"}.items() <= outcome["issue"][-1].items()
    assert "CarePlan.category" in {e for i in outcome["issue"] for e in i["expression"]}
    assert errors(validate(operation_outcome([]))) == []
