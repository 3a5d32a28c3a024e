"""The committed profiles, extensions, terminology and examples: present, parseable, named
as systems.py says, and their codes the domain's."""

from __future__ import annotations

import pytest
from fhir.resources.R4B import get_fhir_model_class

from sip_tracker.cases import codes
from sip_tracker.fhir import systems
from sip_tracker.organizations.reference import KOMMUNER
from tests.fhir_profiles.helpers import EXAMPLES, PROFILES, examples, load

ARTIFACTS = sorted(
    p
    for pattern in ("StructureDefinition-*.json", "CodeSystem-*.json", "ValueSet-*.json")
    for p in PROFILES.glob(pattern)
)
# systems.py gives the PlanDefinition profile the id of the extension that points to it
# (both "sip-handlingsplan-activity"); one StructureDefinition id cannot be both, so only
# the extension exists until the profile gets an id of its own.
PROFILE_IDS = [
    getattr(systems, name)
    for name in dir(systems)
    if name.startswith("PROFILE_") and name != "PROFILE_PLANDEFINITION"
]
# Inera's approved-for-patient is Inera's: we use it, we do not define it.
EXTENSION_IDS = [
    getattr(systems, name)
    for name in dir(systems)
    if name.startswith("EXT_") and name != "EXT_INERA_APPROVED_FOR_PATIENT"
]
CODE_SYSTEMS = {name: getattr(systems, name) for name in dir(systems) if name.startswith("CS_")}


@pytest.mark.parametrize("path", ARTIFACTS + sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_every_artifact_and_example_parses_with_fhir_resources(path):
    resource = load(path)
    model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert model.id == resource["id"]


@pytest.mark.parametrize("profile_id", PROFILE_IDS)
def test_every_profile_in_systems_py_has_a_structure_definition(profile_id):
    definition = load(PROFILES / f"StructureDefinition-{profile_id}.json")

    assert definition["url"] == systems.structure_definition(profile_id)
    assert definition["kind"] == "resource"
    assert definition["derivation"] == "constraint"
    assert definition["baseDefinition"] == (
        f"http://hl7.org/fhir/StructureDefinition/{definition['type']}"
    )
    assert definition["fhirVersion"] == systems.FHIR_VERSION == "4.0.1"
    assert definition["status"] == "draft"
    assert definition["publisher"]
    assert "*English:*" in definition["description"]  # Swedish first, then English
    assert definition["snapshot"]["element"][0]["id"] == definition["type"]
    assert definition["differential"]["element"]


@pytest.mark.parametrize("extension_id", EXTENSION_IDS)
def test_every_extension_in_systems_py_has_a_definition(extension_id):
    definition = load(PROFILES / f"StructureDefinition-{extension_id}.json")

    assert definition["url"] == systems.structure_definition(extension_id)
    assert definition["type"] == "Extension"
    assert definition["kind"] == "complex-type"
    assert definition["context"], "an extension says where it may be used"
    url = next(e for e in definition["snapshot"]["element"] if e["id"] == "Extension.url")
    assert url["fixedUri"] == definition["url"]


@pytest.mark.parametrize("name", sorted(CODE_SYSTEMS))
def test_every_code_system_in_systems_py_has_a_code_system_and_a_value_set(name):
    url = CODE_SYSTEMS[name]
    code_system_id = url.rsplit("/", 1)[1]
    code_system = load(PROFILES / f"CodeSystem-{code_system_id}.json")
    value_set = load(PROFILES / f"ValueSet-{code_system_id}.json")

    assert code_system["url"] == url
    assert code_system["valueSet"] == value_set["url"] == systems.value_set(code_system_id)
    assert value_set["compose"]["include"][0]["system"] == url
    assert code_system["count"] == len(code_system["concept"])


@pytest.mark.parametrize(
    ("code_system_id", "enum", "labels"),
    [
        ("sip-stage", codes.Stage, codes.STAGE_LABELS),
        ("sip-origin", codes.Origin, codes.ORIGIN_LABELS),
        ("sip-consent-method", codes.ConsentMethod, codes.CONSENT_METHOD_LABELS),
        ("sip-need-area", codes.NeedArea, codes.NEED_AREA_LABELS),
        ("sip-outcome", codes.Outcome, codes.OUTCOME_LABELS),
        ("sip-participant-kind", codes.ParticipantKind, codes.PARTICIPANT_KIND_LABELS),
    ],
)
def test_code_systems_hold_the_domain_codes_with_their_swedish_labels(
    app, code_system_id, enum, labels
):
    code_system = load(PROFILES / f"CodeSystem-{code_system_id}.json")
    with app.test_request_context(headers={"Accept-Language": "sv"}):
        expected = [(member.value, str(labels[member])) for member in enum]

    assert [(c["code"], c["display"]) for c in code_system["concept"]] == expected


def test_roles_and_sakomraden_extend_the_domain_lists_as_documented():
    roles = load(PROFILES / "CodeSystem-sip-role.json")
    sakomraden = load(PROFILES / "CodeSystem-sip-sakomrade.json")
    case_areas = load(PROFILES / "ValueSet-sip-sakomrade.json")

    assert [c["code"] for c in roles["concept"]] == [*codes.CaseRoleKind, "deltagare"]
    assert [c["code"] for c in sakomraden["concept"]] == [*codes.Sakomrade, "digitalisering"]
    included = case_areas["compose"]["include"][0]["concept"]
    assert [c["code"] for c in included] == list(codes.Sakomrade)


def test_kommunkod_is_a_fragment_with_the_26_kommuner_of_stockholm_county():
    code_system = load(PROFILES / "CodeSystem-kommunkod.json")
    value_set = load(PROFILES / "ValueSet-kommunkod.json")

    assert code_system["content"] == "fragment"
    assert [(c["code"], c["display"]) for c in code_system["concept"]] == [
        (code, name) for code, name, _official in KOMMUNER
    ]
    assert len(value_set["compose"]["include"][0]["concept"]) == 26
    assert {"code": "0180", "display": "Stockholm"} in value_set["compose"]["include"][0]["concept"]


def test_there_is_an_example_of_every_profile():
    claimed = {p for r in examples() for p in r["meta"]["profile"]}

    assert claimed == {systems.structure_definition(p) for p in PROFILE_IDS}


def test_the_examples_are_one_case_whose_references_all_resolve():
    resources = examples()
    known = {f"{r['resourceType']}/{r['id']}" for r in resources}

    def references(value):
        if isinstance(value, dict):
            own = [value["reference"]] if isinstance(value.get("reference"), str) else []
            return own + [r for v in value.values() for r in references(v)]
        if isinstance(value, list):
            return [r for v in value for r in references(v)]
        return []

    for resource in resources:
        contained = {f"#{c['id']}" for c in resource.get("contained", [])}
        dangling = set(references(resource)) - known - contained
        assert not dangling, f"{resource['resourceType']}/{resource['id']}: {dangling}"
    assert len({r["subject"]["reference"] for r in resources if "subject" in r}) == 1
