"""The generator: committed files are what the sources produce, every run alike, and the
snapshots are the base definitions with the differentials merged in."""

from __future__ import annotations

import copy

import pytest

from tests.fhir_profiles.helpers import PROFILES, load
from tools.fhir import build_profiles, vendor_base
from tools.fhir.snapshot import SnapshotError, build_snapshot

CORE = "http://hl7.org/fhir/StructureDefinition/"


def test_committed_files_are_what_the_sources_generate():
    stale = build_profiles.stale_files()

    assert stale == [], "run: python -m tools.fhir.build_profiles"


def test_generation_is_deterministic():
    first = {name: build_profiles.render(r) for name, r in build_profiles.build().items()}
    second = {name: build_profiles.render(r) for name, r in build_profiles.build().items()}

    assert first == second


@pytest.mark.parametrize(
    "path", sorted(PROFILES.glob("StructureDefinition-*.json")), ids=lambda p: p.stem
)
def test_a_snapshot_holds_every_base_element_and_every_differential_element_in_order(path):
    definition = load(path)
    base = load(PROFILES / "base" / f"StructureDefinition-{definition['type']}.json")
    snapshot = [e["id"] for e in definition["snapshot"]["element"]]
    differential = [e["id"] for e in definition["differential"]["element"]]

    assert {e["id"] for e in base["snapshot"]["element"]} <= set(snapshot)
    assert len(snapshot) == len(set(snapshot))
    assert differential == sorted(differential, key=snapshot.index)


def test_the_careplan_snapshot_carries_the_constraints_of_the_differential():
    snapshot = {
        e["id"]: e
        for e in load(PROFILES / "StructureDefinition-sip-careplan.json")["snapshot"]["element"]
    }

    assert snapshot["CarePlan.intent"]["fixedCode"] == "plan"
    assert snapshot["CarePlan.title"]["min"] == 1
    assert snapshot["CarePlan.category:sip"]["patternCodeableConcept"] == {
        "coding": [{"system": "https://fhir.inera.se/CodeSystem/typeofcareplan-cs", "code": "SIP"}]
    }
    assert snapshot["CarePlan.extension"]["slicing"]["discriminator"] == [
        {"type": "value", "path": "url"}
    ]
    stage = snapshot["CarePlan.extension:stage"]
    assert (stage["min"], stage["max"]) == (1, "1")
    assert stage["type"] == [
        {
            "code": "Extension",
            "profile": [f"{build_profiles.systems.CANONICAL}/StructureDefinition/sip-stage"],
        }
    ]
    assert stage["base"] == {"path": "DomainResource.extension", "min": 0, "max": "*"}
    assert snapshot["CarePlan.activity.detail"]["max"] == "0"
    assert "cpl-3" in {c["key"] for c in snapshot["CarePlan.activity"]["constraint"]}
    assert {"sip-cp-1", "dom-2"} <= {c["key"] for c in snapshot["CarePlan"]["constraint"]}


def test_a_child_of_a_slice_expands_the_datatype_under_the_slice():
    snapshot = {
        e["id"]: e
        for e in load(PROFILES / "StructureDefinition-sip-patient.json")["snapshot"]["element"]
    }

    system = snapshot["Patient.identifier:personnummer.system"]
    assert system["path"] == "Patient.identifier.system"
    assert system["fixedUri"] == "http://electronichealth.se/identifier/personnummer"
    assert system["base"]["path"] == "Identifier.system"
    assert "Patient.identifier:personnummer.assigner" in snapshot


def _base(type_name: str) -> dict:
    return load(PROFILES / "base" / f"StructureDefinition-{type_name}.json")


def test_a_profile_cannot_widen_the_base():
    with pytest.raises(SnapshotError, match="max 2 above"):
        build_snapshot(_base("CarePlan"), [{"id": "CarePlan.subject", "max": "2"}], _base)
    with pytest.raises(SnapshotError, match="not in the base"):
        build_snapshot(
            _base("CarePlan"),
            [{"id": "CarePlan.subject", "type": [{"code": "string"}]}],
            _base,
        )


def test_a_slice_needs_a_sliced_element():
    with pytest.raises(SnapshotError, match="is not sliced"):
        build_snapshot(_base("CarePlan"), [{"id": "CarePlan.category:sip", "min": 1}], _base)


def test_the_base_is_not_changed_by_building_a_snapshot():
    base = _base("Patient")
    before = copy.deepcopy(base)

    build_snapshot(base, [{"id": "Patient.identifier", "min": 1}], _base)

    assert base == before


def test_a_reference_cannot_point_at_a_type_the_base_does_not_allow():
    source = load(PROFILES / "src" / "profiles" / "sip-careplan.json")
    subject = next(e for e in source["elements"] if e["id"] == "CarePlan.subject")
    subject["references"] = ["sip-organization"]
    definitions = build_profiles.Definitions()
    definitions.profile_types = {
        build_profiles.systems.structure_definition("sip-organization"): "Organization"
    }

    with pytest.raises(build_profiles.SourceError, match="Organization is not a target"):
        build_profiles.structure_definition(source, definitions, "profile")


def test_the_base_definitions_are_the_trimmed_core_package(tmp_path):
    tarball = vendor_base.CACHE / f"{vendor_base.PACKAGE}-{vendor_base.PACKAGE_VERSION}.tgz"
    if not tarball.exists():
        pytest.skip(f"{tarball} is not there: `make test` fetches it with npm (npm not found?)")

    written = vendor_base.vendor(tarball, tmp_path)

    committed = PROFILES / "base"
    assert sorted(p.name for p in committed.glob("*-*.json")) == written
    for name in [*written, "manifest.json"]:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name
